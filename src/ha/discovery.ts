/**
 * Pure builder of the device-based discovery payload (docs/homeassistant.md#discovery-topic-and-payload): one retained
 * message per UPS on `<prefix>/device/ups2mqtt_<ups_id>/config`, listing every entity in
 * `cmps`. The caller publishes `stableStringify(payload)` when that string changes.
 */
import { Ups2MqttError } from '../core/errors.ts';
import { EVENT_TYPES } from '../core/events.ts';
import { slugify, type UpsState, type UpsStateKey } from '../core/state.ts';
import { discoveryTopic, Topics } from '../mqtt/topics.ts';
import { ENTITIES, NOT_DISCOVERED } from './entities.ts';
import type { EntityDef } from './entity-def.ts';
import {
  type AvailabilityItem,
  type ComponentConfig,
  type DeviceBlock,
  type DeviceDiscoveryPayload,
  isComponentPlatform,
} from './payload.ts';
import { flagTemplate, valueTemplate } from './templates.ts';

export type { ComponentConfig, DeviceDiscoveryPayload } from './payload.ts';
export { stableStringify } from './stable-json.ts';

/** Everything the builder needs; plain data, no I/O. */
export interface DiscoveryInput {
  /** `[a-z0-9_-]+`, used in topics and entity ids. */
  upsId: string;
  /** HA's discovery prefix, default `homeassistant` (user-configurable in HA, docs/homeassistant.md#discovery-topic-and-payload). */
  discoveryPrefix: string;
  /** The bridge's base topic, default `ups2mqtt`. */
  baseTopic: string;
  /** Latest good reading; the keys present decide which components exist. */
  state: UpsState;
  /** Discovered even when absent from `state`, so entities do not come and go. */
  stickyFields: readonly UpsStateKey[];
  device: {
    identifier: string;
    name: string;
    manufacturer?: string;
    model?: string;
    serialNumber?: string;
    swVersion?: string;
    hwVersion?: string;
    /** Short model code (APCMODEL), shown by HA next to the model name. */
    modelId?: string;
    /** The bridge's status page, when Home Assistant can reach it. */
    configurationUrl?: string;
    viaDevice?: string;
  };
  origin: { name: string; swVersion: string; supportUrl: string };
  /** Components built by other modules (e.g. command buttons), passed through unchanged. */
  extraComponents?: Record<string, ComponentConfig>;
  /** key → platform, emitted as `{"p": platform}` stubs: HA's component-removal step (docs/homeassistant.md#discovery-topic-and-payload). */
  removedComponents?: Record<string, string>;
}

/** A state field that got no component, with why; the caller logs these. */
export interface SkippedField {
  field: string;
  reason: string;
}

/** The message to publish (retained, QoS 1) and what was left out. */
export interface DiscoveryMessage {
  topic: string;
  payload: DeviceDiscoveryPayload;
  skipped: SkippedField[];
}

/** `cmps` key of the event entity (docs/homeassistant.md#buttons-numbers-and-events). */
export const EVENT_COMPONENT_KEY = 'event';

const UPS_ID = /^[a-z0-9_-]+$/;

/** Builds the discovery message for one UPS. Throws CONFIG_INVALID on unusable ids. */
export function buildDeviceDiscovery(input: DiscoveryInput): DiscoveryMessage {
  checkInput(input);
  const topics = new Topics(input.baseTopic);
  const ctx: BuildContext = {
    uidPrefix: slugify(input.device.identifier),
    entityPrefix: slugify(input.upsId),
    bridgeOnly: [{ t: topics.bridgeState() }],
  };
  const sticky = new Set<string>(input.stickyFields);
  const present = (field: string): boolean =>
    sticky.has(field) || (input.state as unknown as Record<string, unknown>)[field] !== undefined;

  const cmps: Record<string, ComponentConfig> = {};
  for (const def of ENTITIES) {
    if (present(def.field)) cmps[def.key] = entityComponent(def, ctx);
  }
  cmps[EVENT_COMPONENT_KEY] = eventComponent(topics.event(input.upsId), ctx);
  for (const [key, component] of Object.entries(input.extraComponents ?? {})) {
    if (key in cmps) throw invalid(`extra component "${key}" collides with a built-in one`, key);
    cmps[key] = component;
  }
  for (const [key, platform] of Object.entries(input.removedComponents ?? {})) {
    if (!isComponentPlatform(platform)) throw invalid(`unknown platform "${platform}"`, key);
    // A live component wins: removing it would delete an entity that still has data.
    if (!(key in cmps)) cmps[key] = { p: platform };
  }

  const payload: DeviceDiscoveryPayload = {
    dev: deviceBlock(input.device),
    o: { name: input.origin.name, sw: input.origin.swVersion, url: input.origin.supportUrl },
    avty: [{ t: topics.bridgeState() }, { t: topics.availability(input.upsId) }],
    avty_mode: 'all',
    stat_t: topics.state(input.upsId),
    cmps,
  };
  return {
    topic: discoveryTopic(input.discoveryPrefix, input.upsId),
    payload,
    skipped: skippedFields(input.state, sticky),
  };
}

interface BuildContext {
  uidPrefix: string;
  entityPrefix: string;
  bridgeOnly: AvailabilityItem[];
}

function entityComponent(def: EntityDef, ctx: BuildContext): ComponentConfig {
  const c: ComponentConfig = {
    p: def.platform,
    uniq_id: `${ctx.uidPrefix}_${def.key}`,
    def_ent_id: entityId(def.platform, def.name ?? def.field, ctx),
    val_tpl: def.platform === 'binary_sensor' ? flagTemplate(def.field) : valueTemplate(def.field),
    // On every component, not once at the root: Home Assistant copies a root `qos` into the
    // components only since May 2026 (docs/homeassistant.md#version-floor).
    qos: 1,
  };
  // A null name in the table means "use the device-class name", which HA does only when
  // `name` is absent; an explicit `"name": null` would mean "use the device name" (docs/homeassistant.md#entity-identity-and-names).
  if (def.name !== null) c.name = def.name;
  if (def.device_class !== undefined) c.dev_cla = def.device_class;
  if (def.unit !== undefined) c.unit_of_meas = def.unit;
  if (def.state_class !== undefined) c.stat_cla = def.state_class;
  if (def.options !== undefined) c.ops = [...def.options];
  if (def.precision !== undefined) c.sug_dsp_prc = def.precision;
  if (def.category !== undefined) c.ent_cat = def.category;
  if (def.enabled === false) c.en = false;
  if (def.icon !== undefined) c.ic = def.icon;
  if (def.bridgeOnly) {
    // A component's own availability replaces the root list entirely (docs/homeassistant.md#discovery-topic-and-payload: shared root
    // options are copied only if the component doesn't set them").
    c.avty = ctx.bridgeOnly.map((a) => ({ ...a }));
    c.avty_mode = 'all';
  }
  return c;
}

/**
 * The event entity. It follows only the bridge availability, like `status`: otherwise the
 * `comm_lost` event would arrive while the entity is unavailable and HA would drop it.
 */
function eventComponent(eventTopic: string, ctx: BuildContext): ComponentConfig {
  return {
    p: 'event',
    uniq_id: `${ctx.uidPrefix}_${EVENT_COMPONENT_KEY}`,
    def_ent_id: entityId('event', 'event', ctx),
    name: 'Event',
    stat_t: eventTopic,
    evt_typ: [...EVENT_TYPES],
    qos: 1,
    avty: ctx.bridgeOnly.map((a) => ({ ...a })),
    avty_mode: 'all',
  };
}

/**
 * `<platform>.<ups>_<name>` (docs/homeassistant.md#entity-identity-and-names: platform prefix, `[a-z0-9_]`, no edge or double
 * underscores, which slugify guarantees). Unique because the table's names are unique per
 * platform (checked by test/unit/ha/entities.test.ts).
 */
function entityId(platform: string, label: string, ctx: BuildContext): string {
  return `${platform}.${ctx.entityPrefix}_${slugify(label)}`;
}

function deviceBlock(d: DiscoveryInput['device']): DeviceBlock {
  const dev: DeviceBlock = { ids: [d.identifier], name: d.name };
  if (d.manufacturer !== undefined) dev.mf = d.manufacturer;
  if (d.model !== undefined) dev.mdl = d.model;
  if (d.serialNumber !== undefined) dev.sn = d.serialNumber;
  if (d.swVersion !== undefined) dev.sw = d.swVersion;
  if (d.hwVersion !== undefined) dev.hw = d.hwVersion;
  if (d.modelId !== undefined) dev.mdl_id = d.modelId;
  if (d.configurationUrl !== undefined) dev.cu = d.configurationUrl;
  if (d.viaDevice !== undefined) dev.via_device = d.viaDevice;
  return dev;
}

/** Fields of the state (or sticky list) that have no row in the table, sorted. */
function skippedFields(state: UpsState, sticky: ReadonlySet<string>): SkippedField[] {
  const fields = new Set([...Object.keys(state), ...sticky]);
  const discovered = new Set<string>(ENTITIES.map((e) => e.field));
  const reasons: Readonly<Record<string, string>> = NOT_DISCOVERED;
  return [...fields]
    .filter((f) => !discovered.has(f))
    .sort()
    .map((field) => ({ field, reason: reasons[field] ?? 'no entity is defined for this field' }));
}

function checkInput(input: DiscoveryInput): void {
  if (!UPS_ID.test(input.upsId) || slugify(input.upsId) === '') {
    throw invalid('ups id must match [a-z0-9_-]+ and contain a letter or digit', input.upsId);
  }
  // `<base>/bridge/state` is the bridge LWT: a UPS called "bridge" would share it.
  if (input.upsId === 'bridge') throw invalid('ups id "bridge" is reserved', input.upsId);
  for (const [what, topic] of [
    ['base topic', input.baseTopic],
    ['discovery prefix', input.discoveryPrefix],
  ] as const) {
    if (topic === '' || /[+#\s]/.test(topic) || topic.startsWith('/') || topic.endsWith('/')) {
      throw invalid(`${what} "${topic}" is not a usable topic prefix`, topic);
    }
  }
  if (slugify(input.device.identifier) === '') {
    throw invalid('device identifier has no letters or digits', input.device.identifier);
  }
  if (input.device.name.trim() === '') throw invalid('device name is empty', input.device.name);
}

function invalid(message: string, value: string): Ups2MqttError {
  return new Ups2MqttError('CONFIG_INVALID', `discovery: ${message}`, { context: { value } });
}
