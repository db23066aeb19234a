/**
 * Wire types of a device-based discovery payload (docs/homeassistant.md#discovery-topic-and-payload), with the
 * abbreviated keys of docs/homeassistant.md#discovery-topic-and-payload. Only abbreviated forms appear here, so a payload can never
 * carry both the short and the long form of one option (docs/homeassistant.md#checklist-the-validator-enforces).
 */

/** MQTT platforms a `cmps` entry may name (docs/homeassistant.md#checklist-the-validator-enforces, topic level). */
export const COMPONENT_PLATFORMS = [
  'sensor',
  'binary_sensor',
  'button',
  'select',
  'number',
  'switch',
  'update',
  'event',
] as const;
export type ComponentPlatform = (typeof COMPONENT_PLATFORMS)[number];

/** True when `value` names a supported platform. */
export function isComponentPlatform(value: string): value is ComponentPlatform {
  return (COMPONENT_PLATFORMS as readonly string[]).includes(value);
}

/** One availability topic; payloads default to `online`/`offline` (docs/homeassistant.md#availability). */
export interface AvailabilityItem {
  t: string;
  pl_avail?: string;
  pl_not_avail?: string;
}

/** Options of one `cmps` entry. A removal stub carries only `p` (docs/homeassistant.md#discovery-topic-and-payload). */
export interface ComponentConfig {
  p: ComponentPlatform;
  uniq_id?: string;
  def_ent_id?: string;
  name?: string | null;
  stat_t?: string;
  val_tpl?: string;
  dev_cla?: string;
  unit_of_meas?: string;
  stat_cla?: string;
  ent_cat?: 'diagnostic' | 'config';
  en?: boolean;
  ic?: string;
  ops?: string[];
  sug_dsp_prc?: number;
  evt_typ?: string[];
  avty?: AvailabilityItem[];
  avty_mode?: 'all' | 'any' | 'latest';
  json_attr_t?: string;
  json_attr_tpl?: string;
  cmd_t?: string;
  cmd_tpl?: string;
  pl_prs?: string;
  pl_on?: string;
  pl_off?: string;
  ret?: boolean;
  opt?: boolean;
  qos?: 0 | 1 | 2;
  min?: number;
  max?: number;
  step?: number;
  mode?: 'auto' | 'box' | 'slider';
}

/** The strict device block (docs/homeassistant.md#device-block): nothing but these keys is accepted by HA. */
export interface DeviceBlock {
  ids: string[];
  name: string;
  mf?: string;
  mdl?: string;
  sn?: string;
  sw?: string;
  hw?: string;
  /** `model_id` (HA ≥ 2024.9). */
  mdl_id?: string;
  /** `configuration_url`: HA links "Visit" on the device page to it. */
  cu?: string;
  via_device?: string;
}

/** The strict origin block (docs/homeassistant.md#device-block). */
export interface OriginBlock {
  name: string;
  sw: string;
  url: string;
}

/** Root of `<prefix>/device/<id>/config`; every key is in the root schema of docs/homeassistant.md#discovery-topic-and-payload. */
export interface DeviceDiscoveryPayload {
  dev: DeviceBlock;
  o: OriginBlock;
  avty: AvailabilityItem[];
  avty_mode: 'all';
  stat_t: string;
  cmps: Record<string, ComponentConfig>;
}
