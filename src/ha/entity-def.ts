/**
 * The shape of one row of the discovery table (entities.ts): which state field becomes which
 * Home Assistant entity. Only the values ups2mqtt actually uses are in the unions, so a typo
 * in the table is a compile error rather than an entity HA rejects (docs/homeassistant.md#sensors).
 */
import type { UpsStateKey } from '../core/state.ts';

/** Platforms the state table produces (buttons and the event entity are built elsewhere). */
export type EntityPlatform = 'sensor' | 'binary_sensor';

/** Sensor device classes used by the table (docs/homeassistant.md#sensors). */
export type SensorDeviceClass =
  | 'battery'
  | 'voltage'
  | 'current'
  | 'frequency'
  | 'power'
  | 'apparent_power'
  | 'temperature'
  | 'humidity'
  | 'duration'
  | 'energy'
  | 'timestamp'
  | 'enum';

/** binary_sensor device classes used by the table (docs/homeassistant.md#binary-sensors). */
export type BinaryDeviceClass = 'power' | 'battery' | 'battery_charging' | 'problem' | 'running';

/**
 * Units, spelled exactly as HA compares them: `°C` is U+00B0 followed by `C`
 * (docs/homeassistant.md#sensors, #pitfalls). Fixed units only: HA cannot infer units in discovery.
 */
export type EntityUnit = 'V' | 'A' | 'Hz' | 'W' | 'VA' | '°C' | '%' | 's' | 'kWh';

/** State classes (docs/homeassistant.md#sensors); `total` is not needed by any UPS field. */
export type EntityStateClass = 'measurement' | 'total_increasing';

/** One published state field and the entity that shows it. */
export interface EntityDef {
  /** `cmps` key and unique-id suffix. Stable forever: changing it re-creates the entity (docs/homeassistant.md#discovery-topic-and-payload). */
  readonly key: string;
  /** The `UpsState` key the value template reads. */
  readonly field: UpsStateKey;
  readonly platform: EntityPlatform;
  /** Entity name without the device name; null = use the device-class name (docs/homeassistant.md#entity-identity-and-names). */
  readonly name: string | null;
  readonly device_class?: SensorDeviceClass | BinaryDeviceClass;
  readonly unit?: EntityUnit;
  readonly state_class?: EntityStateClass;
  readonly category?: 'diagnostic';
  /** Present only to disable by default; absent = enabled (HA's default). */
  readonly enabled?: false;
  readonly icon?: `mdi:${string}`;
  /** Closed value set of an `enum` sensor. */
  readonly options?: readonly string[];
  /** `suggested_display_precision`. */
  readonly precision?: number;
  /**
   * Follow only the bridge's availability, not the UPS's: these entities explain *why*
   * the others are unavailable, so they must stay visible when the UPS link is down.
   */
  readonly bridgeOnly?: true;
}
