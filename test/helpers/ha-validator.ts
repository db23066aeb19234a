/**
 * A static validator for Home Assistant MQTT discovery payloads: every item of
 * docs/homeassistant.md#checklist-the-validator-enforces that can be checked without a running HA, plus a tiny evaluator for
 * the value-template forms ups2mqtt emits, so tests can render each entity against a sample
 * state the way HA would.
 *
 * It deliberately imports nothing from src/ha: its tables are written from the reference
 * (docs/homeassistant.md#discovery-topic-and-payload, docs/homeassistant.md#device-block, docs/homeassistant.md#discovery-topic-and-payload, docs/homeassistant.md#sensors, docs/homeassistant.md#binary-sensors, docs/homeassistant.md#checklist-the-validator-enforces), so a mistake in the builder cannot hide behind the same
 * mistake in the checker. Every error starts with a rule id in brackets, e.g.
 * `[sensor.unit] cmps.linev: …`, so tests can assert which rule fired.
 *
 * One file because the task assigns exactly this path; it is grouped by concern:
 * tables, expansion, root/device/origin, components, per-platform rules, templates.
 */

type Obj = Record<string, unknown>;

/** A set of words from a whitespace-separated list (keeps long tables compact). */
function words(list: string): Set<string> {
  return new Set(list.trim().split(/\s+/));
}

// ---------------------------------------------------------------------------------------
// Tables (docs/homeassistant.md; Home Assistant's mqtt/abbreviations.py and schemas)
// ---------------------------------------------------------------------------------------

/** docs/homeassistant.md#discovery-topic-and-payload: abbreviation → full key, as HA expands them in a component or at the root. */
const ABBREVIATIONS: Readonly<Record<string, string>> = {
  avty: 'availability',
  avty_t: 'availability_topic',
  avty_mode: 'availability_mode',
  avty_tpl: 'availability_template',
  pl_avail: 'payload_available',
  pl_not_avail: 'payload_not_available',
  cmps: 'components',
  p: 'platform',
  o: 'origin',
  dev: 'device',
  uniq_id: 'unique_id',
  def_ent_id: 'default_entity_id',
  obj_id: 'object_id',
  dev_cla: 'device_class',
  stat_cla: 'state_class',
  unit_of_meas: 'unit_of_measurement',
  sug_dsp_prc: 'suggested_display_precision',
  stat_t: 'state_topic',
  val_tpl: 'value_template',
  cmd_t: 'command_topic',
  cmd_tpl: 'command_template',
  json_attr_t: 'json_attributes_topic',
  json_attr_tpl: 'json_attributes_template',
  exp_aft: 'expire_after',
  frc_upd: 'force_update',
  ent_cat: 'entity_category',
  en: 'enabled_by_default',
  ic: 'icon',
  ent_pic: 'entity_picture',
  pl_on: 'payload_on',
  pl_off: 'payload_off',
  stat_on: 'state_on',
  stat_off: 'state_off',
  pl_prs: 'payload_press',
  ret: 'retain',
  ops: 'options',
  opt: 'optimistic',
  evt_typ: 'event_types',
  l_ver_t: 'latest_version_topic',
  l_ver_tpl: 'latest_version_template',
  pl_inst: 'payload_install',
  rel_s: 'release_summary',
  rel_u: 'release_url',
  dsp_prc: 'display_precision',
  off_dly: 'off_delay',
  lrst_val_tpl: 'last_reset_value_template',
  e: 'encoding',
  migr_discvry: 'migrate_discovery',
};

/** docs/homeassistant.md#device-block: device block abbreviations (`via_device` has none). */
const DEVICE_ABBREVIATIONS: Readonly<Record<string, string>> = {
  ids: 'identifiers',
  cns: 'connections',
  mf: 'manufacturer',
  mdl: 'model',
  mdl_id: 'model_id',
  sn: 'serial_number',
  hw: 'hw_version',
  sw: 'sw_version',
  cu: 'configuration_url',
  sa: 'suggested_area',
};

const ORIGIN_ABBREVIATIONS: Readonly<Record<string, string>> = {
  sw: 'sw_version',
  url: 'support_url',
};

const AVAILABILITY_ABBREVIATIONS: Readonly<Record<string, string>> = {
  t: 'topic',
  pl_avail: 'payload_available',
  pl_not_avail: 'payload_not_available',
  val_tpl: 'value_template',
};

/** docs/homeassistant.md#discovery-topic-and-payload: the strict device-discovery root schema. */
const ROOT_KEYS = words(`
  device origin components availability availability_topic availability_mode
  availability_template payload_available payload_not_available state_topic command_topic
  qos encoding message_expiry_interval
`);

/** Root options HA copies into a component that does not set them (docs/homeassistant.md#discovery-topic-and-payload). */
const SHARED_ROOT_KEYS = [...ROOT_KEYS].filter(
  (k) => k !== 'device' && k !== 'origin' && k !== 'components',
);

/**
 * Home Assistant 2024.11, the first release with device-based discovery, is stricter in what
 * it inherits and looser in what it knows (docs/homeassistant.md#version-floor):
 * - the root accepts `qos` and `encoding` but copies only the availability options and the
 *   two topics into components (qos/encoding inheritance came with home-assistant/core
 *   PR #170195, May 2026), so a component without its own `qos` subscribes at QoS 0;
 * - `default_entity_id` does not exist yet (home-assistant/core PR #151775, 2025.10): the
 *   platform schemas drop unknown keys, so it is ignored and entity ids come from the names;
 * - `message_expiry_interval` is not a root key yet.
 */
const ROOT_KEYS_2024_11 = new Set([...ROOT_KEYS].filter((k) => k !== 'message_expiry_interval'));
const SHARED_ROOT_KEYS_2024_11 = words(`
  availability availability_mode availability_template availability_topic command_topic
  payload_available payload_not_available state_topic
`);

const DEVICE_KEYS = words(`
  identifiers connections manufacturer model model_id name hw_version serial_number
  sw_version via_device suggested_area configuration_url
`);

const ORIGIN_KEYS = new Set(['name', 'sw_version', 'support_url']);

/** Options of the platforms ups2mqtt may use (docs/homeassistant.md#discovery-topic-and-payload, docs/homeassistant.md#binary-sensors, docs/homeassistant.md#buttons-numbers-and-events). Others are silently dropped by HA. */
const COMPONENT_KEYS = new Set([
  ...Object.values(ABBREVIATIONS).filter(
    (k) => !['components', 'origin', 'device', 'object_id', 'migrate_discovery'].includes(k),
  ),
  'name',
  'qos',
  'min',
  'max',
  'step',
  'mode',
  'visible_by_default',
  'group',
  'message_expiry_interval',
  '~',
]);

/** docs/homeassistant.md#checklist-the-validator-enforces topic level. */
const PLATFORMS = words(`
  sensor binary_sensor button select number switch update event
`);

/** HA sensor device classes (sensor/const.py); the unit table below covers the UPS ones. */
const SENSOR_DEVICE_CLASSES = words(`
  absolute_humidity apparent_power aqi area atmospheric_pressure battery
  blood_glucose_concentration carbon_dioxide carbon_monoxide conductivity current data_rate
  data_size date distance duration energy energy_distance energy_storage enum frequency gas
  humidity illuminance irradiance moisture monetary nitrogen_dioxide nitrogen_monoxide
  nitrous_oxide ozone ph pm1 pm10 pm25 pm4 power power_factor precipitation
  precipitation_intensity pressure reactive_energy reactive_power signal_strength
  sound_pressure speed sulphur_dioxide temperature timestamp uptime
  volatile_organic_compounds volatile_organic_compounds_parts voltage volume
  volume_flow_rate volume_storage water weight wind_direction wind_speed
`);

/** Device classes whose state is not a number (docs/homeassistant.md#sensors): no unit, no state class. */
const NON_NUMERIC_CLASSES = new Set(['date', 'enum', 'timestamp', 'uptime']);

/** docs/homeassistant.md#sensors, exact strings (`°` U+00B0, `µ` U+00B5). `null` = "no unit" is allowed. */
const UNITS: Readonly<Record<string, readonly (string | null)[]>> = {
  battery: ['%'],
  voltage: ['V', 'mV', 'µV', 'kV', 'MV'],
  current: ['A', 'mA', 'µA'],
  frequency: ['mHz', 'Hz', 'kHz', 'MHz', 'GHz'],
  power: ['mW', 'W', 'kW', 'MW', 'GW', 'TW'],
  apparent_power: ['mVA', 'VA', 'kVA'],
  energy: [...words(`J kJ MJ GJ mWh Wh kWh MWh GWh TWh cal kcal Mcal Gcal`)],
  temperature: ['°C', '°F', 'K'],
  humidity: ['%'],
  duration: ['d', 'h', 'min', 's', 'ms', 'µs'],
  power_factor: ['%', null],
};

/** docs/homeassistant.md#sensors allowed state classes per device class. */
const STATE_CLASSES_FOR: Readonly<Record<string, readonly string[]>> = {
  battery: ['measurement'],
  voltage: ['measurement'],
  current: ['measurement'],
  frequency: ['measurement'],
  power: ['measurement'],
  apparent_power: ['measurement'],
  energy: ['total', 'total_increasing'],
  temperature: ['measurement'],
  humidity: ['measurement'],
  duration: ['measurement', 'total', 'total_increasing'],
  power_factor: ['measurement'],
  energy_storage: ['measurement'],
};

const STATE_CLASSES = new Set(['measurement', 'total', 'total_increasing', 'measurement_angle']);

/** HA binary_sensor device classes. */
const BINARY_DEVICE_CLASSES = words(`
  battery battery_charging carbon_monoxide cold connectivity door garage_door gas heat light
  lock moisture motion moving occupancy opening plug power presence problem running safety
  smoke sound tamper update vibration window
`);

const UNIQUE_ID = /^[a-z0-9_]+$/;
const ICON = /^[a-z0-9-]+:[a-z0-9-]+$/;
const HTTP_URL = /^https?:\/\/[^\s/]+/;
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/;

// ---------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------

/** Project-specific expectations on top of HA's own rules. */
export interface ValidateOptions {
  /** Discovery prefix the topic must start with (default `homeassistant`). */
  prefix?: string;
  /** State, command and attribute topics must live under `<baseTopic>/`. */
  baseTopic?: string;
  /** Every entity's effective availability must include this topic (the bridge LWT). */
  bridgeAvailabilityTopic?: string;
  /** The `value_json` keys the bridge can publish; templates may reference only these. */
  publishedKeys?: readonly string[];
  /** Topics the bridge publishes retained (sensors on them must not use `expire_after`). */
  retainedTopics?: readonly string[];
  /**
   * Which Home Assistant's rules to apply: `current` (default, the reference's 2026 rules)
   * or `2024.11`, the oldest release ups2mqtt supports (see ROOT_KEYS_2024_11).
   */
  haVersion?: 'current' | '2024.11';
  /** Every entity's effective QoS (own, else inherited under haVersion's rules, else 0). */
  expectQos?: 0 | 1 | 2;
}

/** Validates one discovery message; returns `[rule] path: message` strings, empty when valid. */
export function validateDiscovery(
  topic: string,
  payload: unknown,
  opts: ValidateOptions = {},
): string[] {
  const ctx = newContext(opts);
  validateInto(ctx, topic, payload);
  return ctx.errors;
}

/**
 * Validates several messages together: adds the cross-payload rules of docs/homeassistant.md#checklist-the-validator-enforces (unique ids and
 * default entity ids unique per platform across payloads; identifiers never shared by two
 * devices).
 */
export function validateDiscoverySet(
  messages: readonly { topic: string; payload: unknown }[],
  opts: ValidateOptions = {},
): string[] {
  const ctx = newContext(opts);
  for (const m of messages) validateInto(ctx, m.topic, m.payload);
  return ctx.errors;
}

// ---------------------------------------------------------------------------------------
// Context and small helpers
// ---------------------------------------------------------------------------------------

interface Context {
  opts: ValidateOptions;
  errors: string[];
  uniqueIds: Map<string, string>;
  entityIds: Map<string, string>;
  identifiers: Map<string, string>;
  topic: string;
  deviceName: string | undefined;
}

function newContext(opts: ValidateOptions): Context {
  return {
    opts,
    errors: [],
    uniqueIds: new Map(),
    entityIds: new Map(),
    identifiers: new Map(),
    topic: '',
    deviceName: undefined,
  };
}

function fail(ctx: Context, rule: string, path: string, message: string): void {
  ctx.errors.push(`[${rule}] ${path}: ${message}`);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Expands abbreviations like HA does; flags a key present in both forms and the removed
 * `object_id` (docs/homeassistant.md#version-floor, docs/homeassistant.md#checklist-the-validator-enforces).
 */
function expand(ctx: Context, raw: Obj, map: Readonly<Record<string, string>>, path: string): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(raw)) {
    const full = map[k] ?? k;
    if (full in out) fail(ctx, 'key.duplicate', path, `"${k}" given both abbreviated and long`);
    if (full === 'object_id') fail(ctx, 'key.object_id', path, `"${k}" was removed in HA 2026.4`);
    out[full] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Topic, root, device, origin
// ---------------------------------------------------------------------------------------

function validateInto(ctx: Context, topic: string, payload: unknown): void {
  ctx.topic = topic;
  ctx.deviceName = undefined;
  const prefix = ctx.opts.prefix ?? 'homeassistant';
  const m = new RegExp(
    `^${escapeRegExp(prefix)}/([a-z_]+)/(?:[A-Za-z0-9_-]+/)?[A-Za-z0-9_-]+/config$`,
  ).exec(topic);
  const kind = m?.[1];
  if (kind === undefined || (kind !== 'device' && !PLATFORMS.has(kind))) {
    fail(ctx, 'topic.format', topic, `not <prefix>/(<platform>|device)/[node/]<id>/config`);
  }
  const root = parsePayload(ctx, payload);
  if (root === undefined) return;
  // A per-entity topic names its platform; anything else is read as a device payload.
  if (kind !== undefined && PLATFORMS.has(kind)) validateSingle(ctx, root, kind);
  else validateDeviceRoot(ctx, root);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function parsePayload(ctx: Context, payload: unknown): Obj | undefined {
  let value = payload;
  if (typeof payload === 'string') {
    if (payload.startsWith('\uFEFF')) fail(ctx, 'payload.json', ctx.topic, 'starts with a BOM');
    try {
      value = JSON.parse(payload.replace(/^\uFEFF/, ''));
    } catch {
      fail(ctx, 'payload.json', ctx.topic, 'not parseable JSON');
      return undefined;
    }
  }
  if (!isObj(value)) {
    fail(ctx, 'payload.json', ctx.topic, 'payload is not a JSON object');
    return undefined;
  }
  return value;
}

function validateDeviceRoot(ctx: Context, raw: Obj): void {
  const root = expand(ctx, raw, ABBREVIATIONS, 'root');
  const old = ctx.opts.haVersion === '2024.11';
  const rootKeys = old ? ROOT_KEYS_2024_11 : ROOT_KEYS;
  for (const k of Object.keys(root)) {
    if (!rootKeys.has(k) && k !== 'object_id') {
      fail(
        ctx,
        'root.unknown_key',
        'root',
        `"${k}" is not allowed (strict root schema, docs/homeassistant.md#discovery-topic-and-payload)`,
      );
    }
  }
  for (const k of ['device', 'origin', 'components']) {
    if (!(k in root)) fail(ctx, 'root.missing', 'root', `"${k}" is required`);
  }
  if ('device' in root) validateDevice(ctx, root.device);
  if ('origin' in root) validateOrigin(ctx, root.origin);
  checkQos(ctx, root.qos, 'root');
  checkTopics(ctx, root, 'root');
  if ('components' in root) {
    const cmps = root.components;
    if (!isObj(cmps) || Object.keys(cmps).length === 0) {
      fail(ctx, 'root.components', 'root', 'components must be a non-empty object');
      return;
    }
    const shared: Obj = {};
    for (const k of old ? SHARED_ROOT_KEYS_2024_11 : SHARED_ROOT_KEYS) {
      if (k in root) shared[k] = root[k];
    }
    for (const [key, c] of Object.entries(cmps)) validateComponent(ctx, key, c, shared, undefined);
  }
}

/** Per-entity style: the payload is one component with its own device/origin. */
function validateSingle(ctx: Context, raw: Obj, platform: string): void {
  const flat = expand(ctx, raw, ABBREVIATIONS, 'root');
  if ('device' in flat) validateDevice(ctx, flat.device);
  if ('origin' in flat) validateOrigin(ctx, flat.origin);
  const { device: _d, origin: _o, ...rest } = flat;
  validateComponent(ctx, 'root', rest, {}, platform);
}

function validateDevice(ctx: Context, raw: unknown): void {
  if (!isObj(raw)) {
    fail(ctx, 'device.type', 'device', 'must be an object');
    return;
  }
  const dev = expand(ctx, raw, DEVICE_ABBREVIATIONS, 'device');
  for (const k of Object.keys(dev)) {
    if (!DEVICE_KEYS.has(k)) fail(ctx, 'device.unknown_key', 'device', `"${k}" is not allowed`);
  }
  const ids = dev.identifiers;
  const idList = typeof ids === 'string' ? [ids] : ids;
  const idsOk =
    idList === undefined ||
    (Array.isArray(idList) && idList.every((i) => typeof i === 'string' && i !== ''));
  if (!idsOk) fail(ctx, 'device.identifiers', 'device', 'identifiers must be non-empty strings');
  const cns = dev.connections;
  const cnsOk =
    cns === undefined ||
    (Array.isArray(cns) &&
      cns.every(
        (c) => Array.isArray(c) && c.length === 2 && c.every((x) => typeof x === 'string'),
      ));
  if (!cnsOk) fail(ctx, 'device.connections', 'device', 'connections must be [type, value] pairs');
  const hasId = Array.isArray(idList) && idList.length > 0;
  const hasCn = Array.isArray(cns) && cns.length > 0;
  if (!hasId && !hasCn)
    fail(ctx, 'device.identifiers', 'device', 'needs identifiers or connections');
  if (
    dev.configuration_url !== undefined &&
    !(
      typeof dev.configuration_url === 'string' &&
      (HTTP_URL.test(dev.configuration_url) || dev.configuration_url.startsWith('homeassistant://'))
    )
  ) {
    fail(ctx, 'device.configuration_url', 'device', 'must be http(s):// or homeassistant://');
  }
  if (typeof dev.name === 'string') ctx.deviceName = dev.name;
  if (Array.isArray(idList)) {
    for (const id of idList) {
      if (typeof id !== 'string') continue;
      const owner = ctx.identifiers.get(id);
      if (owner !== undefined && owner !== ctx.topic) {
        fail(ctx, 'set.identifiers', 'device', `identifier "${id}" is also used by ${owner}`);
      }
      ctx.identifiers.set(id, ctx.topic);
    }
  }
}

function validateOrigin(ctx: Context, raw: unknown): void {
  if (!isObj(raw)) {
    fail(ctx, 'origin.name', 'origin', 'must be an object with a name');
    return;
  }
  const o = expand(ctx, raw, ORIGIN_ABBREVIATIONS, 'origin');
  for (const k of Object.keys(o)) {
    if (!ORIGIN_KEYS.has(k)) fail(ctx, 'origin.unknown_key', 'origin', `"${k}" is not allowed`);
  }
  if (typeof o.name !== 'string' || o.name.trim() === '') {
    fail(ctx, 'origin.name', 'origin', 'name must be a non-empty string');
  }
  if (
    o.support_url !== undefined &&
    !(typeof o.support_url === 'string' && HTTP_URL.test(o.support_url))
  ) {
    fail(ctx, 'origin.url', 'origin', 'support_url must be http(s)');
  }
}

// ---------------------------------------------------------------------------------------
// Components
// ---------------------------------------------------------------------------------------

function validateComponent(
  ctx: Context,
  key: string,
  raw: unknown,
  shared: Obj,
  topicPlatform: string | undefined,
): void {
  const path = topicPlatform === undefined ? `cmps.${key}` : 'entity';
  if (!isObj(raw)) {
    fail(ctx, 'component.type', path, 'must be an object');
    return;
  }
  const own = expand(ctx, raw, ABBREVIATIONS, path);
  const platform = topicPlatform ?? own.platform;
  if (topicPlatform === undefined && (typeof platform !== 'string' || !PLATFORMS.has(platform))) {
    fail(ctx, 'component.platform', path, `platform ${JSON.stringify(platform)} is not supported`);
    return;
  }
  if (typeof platform !== 'string') return;
  // `{"p": …}` alone is HA's component-removal step (docs/homeassistant.md#discovery-topic-and-payload).
  if (topicPlatform === undefined && Object.keys(own).length === 1) return;
  for (const k of Object.keys(own)) {
    if (!COMPONENT_KEYS.has(k) && k !== 'object_id') {
      fail(ctx, 'component.unknown_key', path, `"${k}" is unknown and HA would drop it silently`);
    }
  }
  const c: Obj = { ...own };
  for (const [k, v] of Object.entries(shared)) if (!(k in c)) c[k] = v;
  // 2024.11 has no `default_entity_id`: its schema drops the key, so nothing checks it.
  if (ctx.opts.haVersion === '2024.11') delete c.default_entity_id;
  const expected = ctx.opts.expectQos;
  if (expected !== undefined && (c.qos ?? 0) !== expected) {
    fail(
      ctx,
      'qos.effective',
      path,
      `effective qos ${JSON.stringify(c.qos ?? 0)}, not ${expected}`,
    );
  }

  checkIdentity(ctx, c, platform, path);
  checkAvailability(ctx, c, path);
  checkTopics(ctx, c, path);
  checkCommon(ctx, c, platform, path);
  checkTemplates(ctx, c, path);
  if (['sensor', 'binary_sensor', 'event'].includes(platform) && c.state_topic === undefined) {
    fail(ctx, 'state_topic.missing', path, `${platform} needs a state_topic`);
  }
  PLATFORM_RULES[platform]?.(ctx, c, path);
}

function checkIdentity(ctx: Context, c: Obj, platform: string, path: string): void {
  const uid = c.unique_id;
  if (uid === undefined) {
    fail(ctx, 'unique_id.missing', path, 'unique_id is required');
  } else if (typeof uid !== 'string' || !UNIQUE_ID.test(uid)) {
    fail(ctx, 'unique_id.format', path, `unique_id ${JSON.stringify(uid)} is not [a-z0-9_]+`);
  } else {
    const seen = ctx.uniqueIds.get(`${platform} ${uid}`);
    if (seen !== undefined) fail(ctx, 'unique_id.duplicate', path, `"${uid}" also in ${seen}`);
    ctx.uniqueIds.set(`${platform} ${uid}`, `${ctx.topic} ${path}`);
  }
  const eid = c.default_entity_id;
  if (eid !== undefined) {
    if (
      typeof eid !== 'string' ||
      !/^[a-z0-9_]+\.[a-z0-9](?:[a-z0-9_]*[a-z0-9])?$/.test(eid) ||
      eid.includes('__')
    ) {
      fail(ctx, 'default_entity_id.format', path, `${JSON.stringify(eid)} is not domain.object_id`);
    } else {
      if (!eid.startsWith(`${platform}.`)) {
        fail(ctx, 'default_entity_id.platform', path, `"${eid}" does not start with ${platform}.`);
      }
      const seen = ctx.entityIds.get(eid);
      if (seen !== undefined)
        fail(ctx, 'default_entity_id.duplicate', path, `"${eid}" also in ${seen}`);
      ctx.entityIds.set(eid, `${ctx.topic} ${path}`);
    }
  }
  if ('name' in c && c.name !== null) {
    if (typeof c.name !== 'string' || c.name.trim() === '') {
      fail(ctx, 'name.type', path, 'name must be a non-empty string or null');
    } else if (
      ctx.deviceName !== undefined &&
      c.name.toLowerCase().startsWith(ctx.deviceName.toLowerCase())
    ) {
      fail(ctx, 'name.repeats_device', path, `"${c.name}" repeats the device name`);
    }
  }
}

function checkAvailability(ctx: Context, c: Obj, path: string): void {
  if ('availability' in c && 'availability_topic' in c) {
    fail(ctx, 'availability.both', path, 'availability and availability_topic are exclusive');
  }
  const mode = c.availability_mode;
  if (mode !== undefined && !['all', 'any', 'latest'].includes(mode as string)) {
    fail(ctx, 'availability.mode', path, `availability_mode ${JSON.stringify(mode)} is invalid`);
  }
  const topics: string[] = [];
  if (typeof c.availability_topic === 'string') topics.push(c.availability_topic);
  if (c.availability !== undefined) {
    if (!Array.isArray(c.availability) || c.availability.length === 0) {
      fail(ctx, 'availability.topic', path, 'availability must be a non-empty list');
    } else {
      for (const [i, item] of (c.availability as unknown[]).entries()) {
        const p = `${path}.availability[${i}]`;
        const a = isObj(item) ? expand(ctx, item, AVAILABILITY_ABBREVIATIONS, p) : {};
        if (typeof a.topic !== 'string') {
          fail(ctx, 'availability.topic', p, 'each item needs a topic');
          continue;
        }
        checkTopicValue(ctx, a.topic, p, false);
        topics.push(a.topic);
      }
    }
  }
  const bridge = ctx.opts.bridgeAvailabilityTopic;
  if (bridge !== undefined && !topics.includes(bridge)) {
    fail(ctx, 'availability.bridge', path, `availability does not include ${bridge}`);
  }
}

/** All `*_topic` keys: non-empty, no wildcards, no edge spaces, under the base topic. */
function checkTopics(ctx: Context, c: Obj, path: string): void {
  for (const [k, v] of Object.entries(c)) {
    if (!k.endsWith('_topic')) continue;
    if (typeof v !== 'string') {
      fail(ctx, 'topic.empty', path, `${k} must be a string`);
      continue;
    }
    checkTopicValue(ctx, v, `${path}.${k}`, k !== 'availability_topic');
  }
}

function checkTopicValue(ctx: Context, t: string, path: string, underBase: boolean): void {
  if (t === '') {
    fail(ctx, 'topic.empty', path, 'topic is empty');
    return;
  }
  if (/[+#]/.test(t)) fail(ctx, 'topic.wildcard', path, `"${t}" contains a wildcard`);
  if (t.trim() !== t) fail(ctx, 'topic.whitespace', path, `"${t}" has leading/trailing spaces`);
  const base = ctx.opts.baseTopic;
  if (underBase && base !== undefined && !t.startsWith(`${base}/`)) {
    fail(ctx, 'topic.base', path, `"${t}" is not under ${base}/`);
  }
}

function checkCommon(ctx: Context, c: Obj, platform: string, path: string): void {
  if (c.icon !== undefined && !(typeof c.icon === 'string' && ICON.test(c.icon))) {
    fail(ctx, 'icon.format', path, `icon ${JSON.stringify(c.icon)} is not prefix:name`);
  }
  if (
    c.entity_picture !== undefined &&
    !(typeof c.entity_picture === 'string' && HTTP_URL.test(c.entity_picture))
  ) {
    fail(ctx, 'entity_picture.url', path, 'entity_picture must be a URL');
  }
  const cat = c.entity_category;
  if (cat !== undefined) {
    if (cat !== 'config' && cat !== 'diagnostic') {
      fail(ctx, 'entity_category.value', path, `entity_category ${JSON.stringify(cat)}`);
    } else if (cat === 'config' && ['sensor', 'binary_sensor', 'event'].includes(platform)) {
      fail(ctx, 'entity_category.platform', path, `${platform} may only be diagnostic`);
    }
  }
  for (const k of [
    'enabled_by_default',
    'force_update',
    'retain',
    'optimistic',
    'visible_by_default',
  ]) {
    if (k in c && typeof c[k] !== 'boolean')
      fail(ctx, 'type.boolean', path, `${k} must be a boolean`);
  }
  checkQos(ctx, c.qos, path);
  if (
    'expire_after' in c &&
    !(Number.isInteger(c.expire_after) && (c.expire_after as number) > 0)
  ) {
    fail(ctx, 'expire_after.value', path, 'expire_after must be a positive integer');
  }
  const prc = c.suggested_display_precision;
  if (prc !== undefined && !(Number.isInteger(prc) && (prc as number) >= 0)) {
    fail(ctx, 'precision.value', path, 'suggested_display_precision must be an integer ≥ 0');
  }
}

function checkQos(ctx: Context, qos: unknown, path: string): void {
  if (qos !== undefined && qos !== 0 && qos !== 1 && qos !== 2) {
    fail(ctx, 'qos.value', path, `qos ${JSON.stringify(qos)} is not 0, 1 or 2`);
  }
}

const TEMPLATE_KEYS = [
  'value_template',
  'command_template',
  'json_attributes_template',
  'availability_template',
  'last_reset_value_template',
];

function checkTemplates(ctx: Context, c: Obj, path: string): void {
  for (const k of TEMPLATE_KEYS) {
    if (!(k in c)) continue;
    const tpl = c[k];
    if (typeof tpl !== 'string' || !balanced(tpl)) {
      fail(ctx, 'template.syntax', path, `${k} is not a string with balanced {{ }} / {% %}`);
      continue;
    }
    const known = ctx.opts.publishedKeys;
    if (known === undefined || k !== 'value_template') continue;
    for (const ref of referencedKeys(tpl)) {
      if (!known.includes(ref))
        fail(ctx, 'template.unknown_key', path, `value_json.${ref} is never published`);
    }
  }
}

function balanced(tpl: string): boolean {
  let open: string | undefined;
  for (const m of tpl.matchAll(/\{\{|\}\}|\{%|%\}/g)) {
    const tok = m[0];
    if (tok === '{{' || tok === '{%') {
      if (open !== undefined) return false;
      open = tok;
    } else {
      if (open !== (tok === '}}' ? '{{' : '{%')) return false;
      open = undefined;
    }
  }
  return open === undefined;
}

function referencedKeys(tpl: string): Set<string> {
  const refs = new Set<string>();
  for (const m of tpl.matchAll(/value_json\.([A-Za-z_][A-Za-z0-9_]*)/g)) refs.add(m[1] as string);
  for (const m of tpl.matchAll(/value_json\[\s*['"]([^'"]+)['"]\s*\]/g)) refs.add(m[1] as string);
  return refs;
}

// ---------------------------------------------------------------------------------------
// Per-platform rules
// ---------------------------------------------------------------------------------------

type Rule = (ctx: Context, c: Obj, path: string) => void;

const PLATFORM_RULES: Readonly<Record<string, Rule>> = {
  sensor: checkSensor,
  binary_sensor(ctx, c, path) {
    const dc = c.device_class;
    if (dc !== undefined && !BINARY_DEVICE_CLASSES.has(dc as string)) {
      fail(
        ctx,
        'binary.device_class',
        path,
        `device_class ${JSON.stringify(dc)} is not a binary_sensor class`,
      );
    }
    for (const k of ['unit_of_measurement', 'state_class', 'options']) {
      if (k in c) fail(ctx, 'component.unknown_key', path, `${k} does not apply to binary_sensor`);
    }
  },
  button(ctx, c, path) {
    if (typeof c.command_topic !== 'string')
      fail(ctx, 'button.command_topic', path, 'command_topic is required');
    const dc = c.device_class;
    if (dc !== undefined && !['identify', 'restart', 'update'].includes(dc as string)) {
      fail(
        ctx,
        'button.device_class',
        path,
        `device_class ${JSON.stringify(dc)} is not identify/restart/update`,
      );
    }
    if (c.retain === true)
      fail(
        ctx,
        'button.retain',
        path,
        'retain must be absent or false (docs/homeassistant.md#pitfalls)',
      );
    const cmd = typeof c.command_topic === 'string' ? c.command_topic : '';
    // Buttons that cut power; cancelling a shutdown (shutdown.stop) must stay at hand.
    const cutsPower = /\/command\/(shutdown\.(return|stayoff|reboot)|load\.off)/.test(cmd);
    if (cutsPower) {
      if (c.enabled_by_default !== false || c.entity_category !== 'config') {
        fail(
          ctx,
          'button.shutdown',
          path,
          'shutdown needs enabled_by_default false and entity_category config',
        );
      }
    }
  },
  select(ctx, c, path) {
    const ops = c.options;
    if (!Array.isArray(ops) || ops.length === 0)
      fail(ctx, 'select.options', path, 'options must be a non-empty list');
    if (typeof c.command_topic !== 'string')
      fail(ctx, 'select.command_topic', path, 'command_topic is required');
  },
  number(ctx, c, path) {
    // HA's defaults are min 1, max 100, step 1 (docs/homeassistant.md#buttons-numbers-and-events, unverified); explicit values are checked.
    const min = typeof c.min === 'number' ? c.min : 1;
    const max = typeof c.max === 'number' ? c.max : 100;
    if (!(min < max)) fail(ctx, 'number.range', path, `min ${min} is not below max ${max}`);
    if (c.step !== undefined && !(typeof c.step === 'number' && c.step > 0)) {
      fail(ctx, 'number.step', path, 'step must be > 0');
    }
    if (c.mode !== undefined && !['auto', 'box', 'slider'].includes(c.mode as string)) {
      fail(ctx, 'number.mode', path, `mode ${JSON.stringify(c.mode)} is invalid`);
    }
    if (typeof c.command_topic !== 'string')
      fail(ctx, 'number.command_topic', path, 'command_topic is required');
  },
  switch(ctx, c, path) {
    const on = c.payload_on ?? 'ON';
    const off = c.payload_off ?? 'OFF';
    if (on === off) fail(ctx, 'switch.payloads', path, 'payload_on equals payload_off');
  },
  event(ctx, c, path) {
    const types = c.event_types;
    const ok =
      Array.isArray(types) &&
      types.length > 0 &&
      types.every((t) => typeof t === 'string' && t !== '') &&
      new Set(types).size === types.length;
    if (!ok)
      fail(
        ctx,
        'event.event_types',
        path,
        'event_types must be a non-empty list of unique strings',
      );
  },
};

function checkSensor(ctx: Context, c: Obj, path: string): void {
  const dc = c.device_class as string | undefined;
  const sc = c.state_class as string | undefined;
  const unit = c.unit_of_measurement;
  if (dc !== undefined && !SENSOR_DEVICE_CLASSES.has(dc)) {
    fail(ctx, 'sensor.device_class', path, `device_class ${JSON.stringify(dc)} is unknown`);
  }
  if (sc !== undefined && !STATE_CLASSES.has(sc)) {
    fail(ctx, 'sensor.state_class', path, `state_class ${JSON.stringify(sc)} is unknown`);
  }
  if (unit !== undefined && (typeof unit !== 'string' || unit.trim() === '')) {
    fail(ctx, 'sensor.unit_empty', path, 'send no unit key rather than an empty unit');
  }
  const nonNumeric = dc !== undefined && NON_NUMERIC_CLASSES.has(dc);
  if (nonNumeric) {
    if (unit !== undefined) fail(ctx, 'sensor.unit_forbidden', path, `${dc} takes no unit`);
    if (sc !== undefined)
      fail(ctx, 'sensor.state_class_forbidden', path, `${dc} takes no state_class`);
    if ('suggested_display_precision' in c) {
      fail(ctx, 'sensor.unit_forbidden', path, `${dc} takes no display precision`);
    }
  }
  const allowedUnits = dc === undefined ? undefined : UNITS[dc];
  if (allowedUnits !== undefined) {
    const u = typeof unit === 'string' ? unit : null;
    if (!allowedUnits.includes(u)) {
      fail(
        ctx,
        'sensor.unit',
        path,
        `unit ${JSON.stringify(unit)} is not valid with ${dc} (${allowedUnits.join(', ')})`,
      );
    }
  }
  const allowedSc = dc === undefined ? undefined : STATE_CLASSES_FOR[dc];
  if (sc !== undefined && allowedSc !== undefined && !allowedSc.includes(sc)) {
    fail(ctx, 'sensor.state_class_for_class', path, `state_class ${sc} is impossible for ${dc}`);
  }
  if (sc === 'measurement_angle' && unit !== '°') {
    fail(ctx, 'sensor.state_class_for_class', path, 'measurement_angle needs unit °');
  }
  checkOptions(ctx, c, dc, path);
  if ('last_reset_value_template' in c && sc !== 'total') {
    fail(ctx, 'sensor.last_reset', path, 'last_reset_value_template needs state_class total');
  }
  const retained = ctx.opts.retainedTopics ?? [];
  if ('expire_after' in c && retained.includes(c.state_topic as string)) {
    fail(
      ctx,
      'sensor.expire_after_retained',
      path,
      'expire_after on a retained state topic revives stale values',
    );
  }
}

function checkOptions(ctx: Context, c: Obj, dc: string | undefined, path: string): void {
  const ops = c.options;
  if (ops === undefined) {
    if (dc === 'enum') fail(ctx, 'sensor.options', path, 'enum needs options');
    return;
  }
  if (dc !== 'enum') fail(ctx, 'sensor.options', path, 'options need device_class enum');
  const ok =
    Array.isArray(ops) &&
    ops.length > 0 &&
    ops.every((o) => typeof o === 'string') &&
    new Set(ops).size === ops.length;
  if (!ok) fail(ctx, 'sensor.options', path, 'options must be a non-empty list of unique strings');
  if ('unit_of_measurement' in c || 'state_class' in c) {
    fail(ctx, 'sensor.options', path, 'options cannot be combined with a unit or state_class');
  }
}

// ---------------------------------------------------------------------------------------
// Templates: a tiny evaluator for the forms ups2mqtt emits
// ---------------------------------------------------------------------------------------

const UNDEFINED: unique symbol = Symbol('jinja-undefined');
type Value = unknown;

/**
 * Renders a value template against a received payload, the way HA would for the subset
 * ups2mqtt uses: `{{ … }}` blocks holding string/number literals, `value`/`value_json`
 * paths (`.key`, `['key']`), parentheses, `not`, `is defined` / `is not defined`, and
 * `a if cond else b`. Anything else throws, so a new template form needs a new test.
 * Numbers render as JavaScript prints them (`232`, not Python's `232.0`): the checks only
 * care whether the text is numeric.
 */
export function renderTemplate(tpl: string, payloadJson: string): string {
  let valueJson: Value = UNDEFINED;
  try {
    valueJson = JSON.parse(payloadJson);
  } catch {
    // HA leaves value_json undefined for a non-JSON payload.
  }
  if (/\{%/.test(tpl)) throw new Error('renderTemplate: {% %} statements are not supported');
  return tpl.replace(/\{\{(.*?)\}\}/gs, (_m, expr: string) => {
    const parser = new ExprParser(tokenize(expr), { value: payloadJson, value_json: valueJson });
    return toText(parser.parseAll());
  });
}

type Token = { kind: 'str' | 'num' | 'id' | 'op'; text: string };

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  const re =
    /\s*(?:('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|([().[\]]))/y;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(src);
    if (m === null) throw new Error(`renderTemplate: cannot parse "${src.slice(pos)}"`);
    pos = re.lastIndex;
    if (m[1] !== undefined)
      tokens.push({ kind: 'str', text: m[1].slice(1, -1).replace(/\\(.)/g, '$1') });
    else if (m[2] !== undefined) tokens.push({ kind: 'num', text: m[2] });
    else if (m[3] !== undefined) tokens.push({ kind: 'id', text: m[3] });
    else tokens.push({ kind: 'op', text: m[4] as string });
  }
  return tokens;
}

class ExprParser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly vars: Readonly<Record<string, Value>>,
  ) {}

  parseAll(): Value {
    const v = this.conditional();
    if (this.i < this.tokens.length)
      throw new Error(`renderTemplate: unexpected "${this.peek()?.text}"`);
    return v;
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private accept(text: string): boolean {
    if (this.peek()?.text === text && this.peek()?.kind !== 'str') {
      this.i++;
      return true;
    }
    return false;
  }

  private expect(text: string): void {
    if (!this.accept(text)) throw new Error(`renderTemplate: expected "${text}"`);
  }

  /** `a if cond else b` (right-associative); without `else` a false cond yields undefined. */
  private conditional(): Value {
    const then = this.unary();
    if (!this.accept('if')) return then;
    const cond = this.unary();
    const otherwise = this.accept('else') ? this.conditional() : UNDEFINED;
    return truthy(cond) ? then : otherwise;
  }

  private unary(): Value {
    if (this.accept('not')) return !truthy(this.unary());
    const v = this.primary();
    if (this.accept('is')) {
      const negate = this.accept('not');
      this.expect('defined');
      return negate ? v === UNDEFINED : v !== UNDEFINED;
    }
    return v;
  }

  private primary(): Value {
    const t = this.tokens[this.i++];
    if (t === undefined) throw new Error('renderTemplate: unexpected end of expression');
    if (t.kind === 'str') return t.text;
    if (t.kind === 'num') return Number(t.text);
    if (t.text === '(') {
      const v = this.conditional();
      this.expect(')');
      return v;
    }
    if (t.kind === 'id' && t.text in this.vars) return this.path(this.vars[t.text]);
    throw new Error(`renderTemplate: unsupported token "${t.text}"`);
  }

  private path(start: Value): Value {
    let v = start;
    for (;;) {
      let key: string;
      if (this.accept('.')) {
        const t = this.tokens[this.i++];
        if (t?.kind !== 'id') throw new Error('renderTemplate: expected a name after "."');
        key = t.text;
      } else if (this.accept('[')) {
        const t = this.tokens[this.i++];
        if (t?.kind !== 'str') throw new Error('renderTemplate: only string subscripts');
        key = t.text;
        this.expect(']');
      } else {
        return v;
      }
      if (v === UNDEFINED) throw new Error(`renderTemplate: "${key}" of an undefined value`);
      v = isObj(v) && Object.hasOwn(v, key) ? v[key] : UNDEFINED;
    }
  }
}

/** Python truthiness. */
function truthy(v: Value): boolean {
  if (v === UNDEFINED || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isObj(v)) return Object.keys(v).length > 0;
  return true;
}

/** How Jinja prints a value (an undefined prints as an empty string). */
function toText(v: Value): string {
  if (v === UNDEFINED) return '';
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  throw new Error('renderTemplate: cannot print lists or mappings');
}

// ---------------------------------------------------------------------------------------
// Rendered-state checks
// ---------------------------------------------------------------------------------------

/**
 * Renders every sensor/binary_sensor of a device payload that listens on `stateTopic`
 * (default: the root state topic) against `statePayloadJson`, and checks what HA would
 * receive (docs/homeassistant.md#checklist-the-validator-enforces "Numeric sensors only ever receive numbers", "Timestamp sensors receive
 * ISO-8601 with timezone offset", enum values within options, binary ON/OFF/None).
 */
export function checkRenderedStates(
  payload: unknown,
  statePayloadJson: string,
  opts: { stateTopic?: string } = {},
): string[] {
  const errors: string[] = [];
  const ctx = newContext({});
  const root = parsePayload(ctx, payload);
  if (root === undefined) return ctx.errors;
  const r = expand(ctx, root, ABBREVIATIONS, 'root');
  const stateTopic = opts.stateTopic ?? r.state_topic;
  const cmps = isObj(r.components) ? r.components : {};
  for (const [key, raw] of Object.entries(cmps)) {
    if (!isObj(raw)) continue;
    const c = expand(ctx, raw, ABBREVIATIONS, key);
    const topic = c.state_topic ?? r.state_topic;
    if (topic !== stateTopic || (c.platform !== 'sensor' && c.platform !== 'binary_sensor'))
      continue;
    const tpl = typeof c.value_template === 'string' ? c.value_template : '{{ value }}';
    let out: string;
    try {
      out = renderTemplate(tpl, statePayloadJson);
    } catch (err) {
      errors.push(`[render.error] cmps.${key}: ${(err as Error).message}`);
      continue;
    }
    const problem = c.platform === 'binary_sensor' ? binaryProblem(c, out) : sensorProblem(c, out);
    if (problem !== undefined)
      errors.push(`${problem} cmps.${key}: rendered ${JSON.stringify(out)}`);
  }
  return [...ctx.errors, ...errors];
}

function binaryProblem(c: Obj, out: string): string | undefined {
  const allowed = [c.payload_on ?? 'ON', c.payload_off ?? 'OFF', 'None'];
  return allowed.includes(out) ? undefined : '[render.binary]';
}

function sensorProblem(c: Obj, out: string): string | undefined {
  // HA ignores an empty rendering and sets unknown on `None` (docs/homeassistant.md#sensors).
  if (out === 'None' || out === '') return undefined;
  const dc = c.device_class as string | undefined;
  if (dc === 'enum') {
    return Array.isArray(c.options) && c.options.includes(out) ? undefined : '[render.enum]';
  }
  if (dc === 'timestamp') {
    return ISO_WITH_OFFSET.test(out) && !Number.isNaN(Date.parse(out))
      ? undefined
      : '[render.timestamp]';
  }
  if (dc === 'date') return /^\d{4}-\d{2}-\d{2}$/.test(out) ? undefined : '[render.date]';
  const numeric =
    'unit_of_measurement' in c ||
    'state_class' in c ||
    'suggested_display_precision' in c ||
    (dc !== undefined && !NON_NUMERIC_CLASSES.has(dc));
  if (numeric && !(out.trim() !== '' && Number.isFinite(Number(out)))) return '[render.numeric]';
  return undefined;
}
