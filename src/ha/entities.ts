/**
 * Discovery as data: one row per published state field (adding a field is adding a row).
 *
 * Keys and names follow HA's core `apcupsd` integration (docs/homeassistant.md#parity-with-the-core-apcupsd-integration) so users moving
 * from it recognise their entities; keys for fields core lacks are short snake_case words.
 * Where core infers a unit at runtime or shows text, ups2mqtt has fixed units and typed
 * values instead (docs/homeassistant.md#parity-with-the-core-apcupsd-integration): durations in `s`, timestamps as `timestamp`, the
 * self-test result and sensitivity as `enum`. Categories and default-enabled follow core's
 * table; fields core disables stay disabled, and a few minor ones core lacks are disabled too.
 */
import {
  SELF_TEST_RESULTS,
  SELF_TEST_STATES,
  SENSITIVITIES,
  SHUTDOWN_STATES,
  UPS_STATUSES,
  type UpsStateKey,
} from '../core/state.ts';
import type { EntityDef } from './entity-def.ts';

const D = 'diagnostic';

/** Measurements and readings (sensor platform). */
// biome-ignore format: one row per line keeps the table readable as a table
const SENSORS = [
  // The closed enum keeps HA's state machine happy (docs/homeassistant.md#sensors); the raw words are `status_text`.
  // bridgeOnly: it is the entity that says "comm_lost" while the rest is unavailable.
  { key: 'status', field: 'status', platform: 'sensor', name: 'Status', device_class: 'enum', options: UPS_STATUSES, bridgeOnly: true },
  { key: 'status_text', field: 'status_text', platform: 'sensor', name: 'Status text', category: D },
  { key: 'bcharge', field: 'battery_charge_pct', platform: 'sensor', name: null, device_class: 'battery', unit: '%', state_class: 'measurement', precision: 0 },
  // Core: min, inferred from "Minutes"; we publish seconds (runtime_s).
  { key: 'timeleft', field: 'runtime_s', platform: 'sensor', name: 'Time left', device_class: 'duration', unit: 's', state_class: 'measurement', precision: 0 },
  { key: 'loadpct', field: 'load_pct', platform: 'sensor', name: 'Load', unit: '%', state_class: 'measurement', icon: 'mdi:gauge', precision: 1 },
  { key: 'loadapnt', field: 'load_apparent_pct', platform: 'sensor', name: 'Load apparent power', unit: '%', state_class: 'measurement', icon: 'mdi:gauge', precision: 1 },
  { key: 'load_power', field: 'load_w', platform: 'sensor', name: 'Load power', device_class: 'power', unit: 'W', state_class: 'measurement', precision: 0 },
  { key: 'linev', field: 'input_voltage_v', platform: 'sensor', name: 'Input voltage', device_class: 'voltage', unit: 'V', state_class: 'measurement', precision: 1 },
  { key: 'minlinev', field: 'input_voltage_min_v', platform: 'sensor', name: 'Input voltage low', device_class: 'voltage', unit: 'V', state_class: 'measurement', precision: 1 },
  { key: 'maxlinev', field: 'input_voltage_max_v', platform: 'sensor', name: 'Input voltage high', device_class: 'voltage', unit: 'V', state_class: 'measurement', precision: 1 },
  { key: 'nominv', field: 'input_voltage_nominal_v', platform: 'sensor', name: 'Nominal input voltage', device_class: 'voltage', unit: 'V', category: D },
  { key: 'linefreq', field: 'input_frequency_hz', platform: 'sensor', name: 'Line frequency', device_class: 'frequency', unit: 'Hz', state_class: 'measurement', precision: 1 },
  { key: 'outputv', field: 'output_voltage_v', platform: 'sensor', name: 'Output voltage', device_class: 'voltage', unit: 'V', state_class: 'measurement', precision: 1 },
  { key: 'nomoutv', field: 'output_voltage_nominal_v', platform: 'sensor', name: 'Nominal output voltage', device_class: 'voltage', unit: 'V', category: D },
  { key: 'outcurnt', field: 'output_current_a', platform: 'sensor', name: 'Output current', device_class: 'current', unit: 'A', state_class: 'measurement', precision: 2 },
  { key: 'output_freq', field: 'output_frequency_hz', platform: 'sensor', name: 'Output frequency', device_class: 'frequency', unit: 'Hz', state_class: 'measurement', precision: 1 },
  { key: 'battv', field: 'battery_voltage_v', platform: 'sensor', name: 'Battery voltage', device_class: 'voltage', unit: 'V', state_class: 'measurement', precision: 1 },
  { key: 'nombattv', field: 'battery_voltage_nominal_v', platform: 'sensor', name: 'Battery nominal voltage', device_class: 'voltage', unit: 'V', category: D },
  { key: 'itemp', field: 'internal_temp_c', platform: 'sensor', name: 'Internal temperature', device_class: 'temperature', unit: '°C', state_class: 'measurement', precision: 1 },
  { key: 'ambtemp', field: 'ambient_temp_c', platform: 'sensor', name: 'Ambient temperature', device_class: 'temperature', unit: '°C', state_class: 'measurement', precision: 1 },
  { key: 'humidity', field: 'ambient_humidity_pct', platform: 'sensor', name: 'Ambient humidity', device_class: 'humidity', unit: '%', state_class: 'measurement', precision: 0 },
  { key: 'nompower', field: 'nominal_power_w', platform: 'sensor', name: 'Nominal output power', device_class: 'power', unit: 'W', category: D },
  // `VA` is valid only with apparent_power, never with power (docs/homeassistant.md#sensors, pitfall docs/homeassistant.md#pitfalls).
  { key: 'nomapnt', field: 'nominal_apparent_power_va', platform: 'sensor', name: 'Nominal apparent power', device_class: 'apparent_power', unit: 'VA', category: D },
  // A counter that only resets when apcupsd restarts: HA treats a drop as a reset (docs/homeassistant.md#sensors).
  { key: 'numxfers', field: 'transfers', platform: 'sensor', name: 'Transfer count', state_class: 'total_increasing', icon: 'mdi:counter' },
  // Core says total_increasing, but TONBATT is "how long this outage has lasted so far" and
  // drops to 0 every time mains returns; as a total it would add every outage again on top
  // of `cumonbatt`, so it is a gauge: measurement.
  { key: 'tonbatt', field: 'time_on_battery_s', platform: 'sensor', name: 'Time on battery', device_class: 'duration', unit: 's', state_class: 'measurement', precision: 0 },
  { key: 'cumonbatt', field: 'cumulative_on_battery_s', platform: 'sensor', name: 'Total time on battery', device_class: 'duration', unit: 's', state_class: 'total_increasing', precision: 0 },
  { key: 'extbatts', field: 'external_batteries', platform: 'sensor', name: 'External batteries', category: D },
  { key: 'badbatts', field: 'bad_batteries', platform: 'sensor', name: 'Bad batteries', category: D },
  { key: 'lotrans', field: 'transfer_low_v', platform: 'sensor', name: 'Transfer low', device_class: 'voltage', unit: 'V', category: D },
  { key: 'hitrans', field: 'transfer_high_v', platform: 'sensor', name: 'Transfer high', device_class: 'voltage', unit: 'V', category: D },
  { key: 'sense', field: 'sensitivity', platform: 'sensor', name: 'Sensitivity', device_class: 'enum', options: SENSITIVITIES, category: D, enabled: false },
  { key: 'dshutd', field: 'shutdown_delay_s', platform: 'sensor', name: 'Shutdown delay', device_class: 'duration', unit: 's', category: D },
  { key: 'dwake', field: 'wake_delay_s', platform: 'sensor', name: 'Wake delay', device_class: 'duration', unit: 's', category: D },
  { key: 'dlowbatt', field: 'low_battery_warning_s', platform: 'sensor', name: 'Low battery signal', device_class: 'duration', unit: 's', category: D },
  { key: 'retpct', field: 'restart_charge_pct', platform: 'sensor', name: 'Restore requirement', unit: '%', category: D },
  { key: 'mbattchg', field: 'shutdown_charge_pct', platform: 'sensor', name: 'Battery shutdown', unit: '%', category: D },
  { key: 'mintimel', field: 'shutdown_runtime_s', platform: 'sensor', name: 'Shutdown time', device_class: 'duration', unit: 's', category: D },
  { key: 'maxtime', field: 'max_time_on_battery_s', platform: 'sensor', name: 'Battery timeout', device_class: 'duration', unit: 's', category: D },
  // Free text from the source ("30 Seconds", "No alarm", "336", "7 days"): plain sensors.
  { key: 'alarmdel', field: 'alarm_mode', platform: 'sensor', name: 'Alarm delay', category: D },
  { key: 'stesti', field: 'self_test_interval', platform: 'sensor', name: 'Self test interval', category: D },
  { key: 'model', field: 'model', platform: 'sensor', name: 'Model', category: D, enabled: false },
  // Core names it "Model" too; names must be unique per device, so this one says what it is.
  { key: 'apcmodel', field: 'apc_model', platform: 'sensor', name: 'Model code', category: D, enabled: false },
  { key: 'serialno', field: 'serial_number', platform: 'sensor', name: 'Serial number', category: D, enabled: false },
  { key: 'firmware', field: 'firmware', platform: 'sensor', name: 'Firmware version', category: D, enabled: false },
  { key: 'upsname', field: 'ups_name', platform: 'sensor', name: 'Name', category: D, enabled: false },
  // Dates as the UPS words them (`10/22/11`, `2019-11-27`): not guaranteed YYYY-MM-DD, so no
  // `date` device class (a malformed date is rejected at state-write time, docs/homeassistant.md#sensors).
  { key: 'mandate', field: 'manufacture_date', platform: 'sensor', name: 'Manufacture date', category: D, enabled: false },
  { key: 'battdate', field: 'battery_date', platform: 'sensor', name: 'Battery replaced' },
  { key: 'driver', field: 'driver', platform: 'sensor', name: 'Driver', category: D, enabled: false },
  { key: 'cable', field: 'cable', platform: 'sensor', name: 'Cable type', category: D, enabled: false },
  { key: 'upsmode', field: 'ups_mode', platform: 'sensor', name: 'Mode', category: D },
  { key: 'hostname', field: 'daemon_hostname', platform: 'sensor', name: 'Hostname', category: D, enabled: false },
  { key: 'version', field: 'daemon_version', platform: 'sensor', name: 'Daemon version', category: D, enabled: false },
  { key: 'starttime', field: 'daemon_started_at', platform: 'sensor', name: 'Startup time', device_class: 'timestamp', category: D },
  { key: 'masterupd', field: 'master_updated_at', platform: 'sensor', name: 'Master update', device_class: 'timestamp', category: D },
  { key: 'apc', field: 'status_data', platform: 'sensor', name: 'Status data', category: D, enabled: false },
  { key: 'statflag', field: 'status_flags', platform: 'sensor', name: 'Status flag', category: D, enabled: false },
  // NUT's ups.alarm text; absent (and the entity unknown) while the UPS raises no alarm.
  { key: 'alarm', field: 'alarm', platform: 'sensor', name: 'Alarm', category: D, icon: 'mdi:alert' },
  { key: 'dipsw', field: 'dip_switch', platform: 'sensor', name: 'DIP switch settings', category: D },
  { key: 'reg1', field: 'fault_register_1', platform: 'sensor', name: 'Register 1 fault', category: D, enabled: false },
  { key: 'reg2', field: 'fault_register_2', platform: 'sensor', name: 'Register 2 fault', category: D, enabled: false },
  { key: 'reg3', field: 'fault_register_3', platform: 'sensor', name: 'Register 3 fault', category: D, enabled: false },
  { key: 'linefail', field: 'input_status', platform: 'sensor', name: 'Input voltage status', category: D },
  { key: 'battstat', field: 'battery_status', platform: 'sensor', name: 'Battery status' },
  { key: 'lastxfer', field: 'last_transfer_reason', platform: 'sensor', name: 'Last transfer', category: D, enabled: false },
  { key: 'selftest', field: 'self_test_result', platform: 'sensor', name: 'Self test result', device_class: 'enum', options: SELF_TEST_RESULTS },
  // Bridge-tracked lifecycle: refreshes at once after a test instead of waiting for apcupsd's 5-minute window.
  { key: 'selftest_state', field: 'self_test_state', platform: 'sensor', name: 'Self test', device_class: 'enum', options: SELF_TEST_STATES, icon: 'mdi:battery-heart-variant' },
  // The power policy: bridgeOnly, because it keeps counting while the UPS cannot be read.
  { key: 'shutdown_state', field: 'shutdown_state', platform: 'sensor', name: 'Shutdown policy', device_class: 'enum', options: SHUTDOWN_STATES, icon: 'mdi:power-settings', bridgeOnly: true },
  { key: 'selftest_done', field: 'self_test_finished_at', platform: 'sensor', name: 'Self test finished', device_class: 'timestamp', category: D },
  { key: 'selftest_code', field: 'self_test_code', platform: 'sensor', name: 'Self test code', category: D, enabled: false },
  { key: 'laststest', field: 'last_self_test_at', platform: 'sensor', name: 'Last self test', device_class: 'timestamp' },
  { key: 'xonbatt', field: 'last_on_battery_at', platform: 'sensor', name: 'Transfer to battery', device_class: 'timestamp', category: D },
  { key: 'xoffbatt', field: 'last_off_battery_at', platform: 'sensor', name: 'Transfer from battery', device_class: 'timestamp', category: D },
  { key: 'date', field: 'sampled_at', platform: 'sensor', name: 'Status date', device_class: 'timestamp', category: D, enabled: false },
  // Core's key is "end apc"; a space is not allowed in unique ids (docs/homeassistant.md#checklist-the-validator-enforces), hence the underscore.
  { key: 'end_apc', field: 'reported_at', platform: 'sensor', name: 'Date and time', device_class: 'timestamp', category: D, enabled: false },
  { key: 'data_age', field: 'data_age_s', platform: 'sensor', name: 'Data age', device_class: 'duration', unit: 's', category: D },
  // Changes on every poll: enabled it would write one recorder row per poll per UPS into the
  // user's database, so it is off by default like core's date sensors.
  { key: 'last_update', field: 'updated_at', platform: 'sensor', name: 'Last update', device_class: 'timestamp', category: D, enabled: false },
  // Bridge-owned (src/policy/outages.ts, energy.ts). The count never drops (persisted), so
  // total_increasing; the last outage's figures are single values, not a sampled series,
  // hence no state class. The end time is start + duration: disabled by default.
  { key: 'outages', field: 'outages_total', platform: 'sensor', name: 'Outages', state_class: 'total_increasing', icon: 'mdi:transmission-tower-off' },
  { key: 'outage_start', field: 'last_outage_started_at', platform: 'sensor', name: 'Last outage start', device_class: 'timestamp' },
  { key: 'outage_end', field: 'last_outage_ended_at', platform: 'sensor', name: 'Last outage end', device_class: 'timestamp', enabled: false },
  { key: 'outage_duration', field: 'last_outage_duration_s', platform: 'sensor', name: 'Last outage duration', device_class: 'duration', unit: 's', precision: 0 },
  // No `battery` class: that would make HA list it as the device's battery level.
  { key: 'outage_min_charge', field: 'last_outage_min_charge_pct', platform: 'sensor', name: 'Last outage lowest charge', unit: '%', icon: 'mdi:battery-arrow-down-outline', precision: 0 },
  // Energy dashboard: energy + kWh + total_increasing (docs/homeassistant.md#sensors).
  { key: 'energy', field: 'energy_kwh', platform: 'sensor', name: 'Energy', device_class: 'energy', unit: 'kWh', state_class: 'total_increasing', precision: 3 },
] as const satisfies readonly EntityDef[];

/** Condition flags (binary_sensor platform, docs/homeassistant.md#binary-sensors). */
// biome-ignore format: one row per line keeps the table readable as a table
const BINARY_SENSORS = [
  // Core's only binary sensor is "Online status" (key `statflag`, ON when STATFLAG & 0x08).
  // Its key is taken by the raw STATFLAG sensor here (cmps keys are unique across platforms),
  // so this one is `online`, with class `power`: ON = running on mains.
  { key: 'online', field: 'online', platform: 'binary_sensor', name: 'Online status', device_class: 'power' },
  // No device class means "on battery" well (`power` would read inverted), so an icon instead.
  { key: 'on_battery', field: 'on_battery', platform: 'binary_sensor', name: 'On battery', icon: 'mdi:battery-arrow-down' },
  // `battery` binary class: ON means low (docs/homeassistant.md#binary-sensors).
  { key: 'low_battery', field: 'low_battery', platform: 'binary_sensor', name: 'Low battery', device_class: 'battery' },
  { key: 'replace_battery', field: 'replace_battery', platform: 'binary_sensor', name: 'Replace battery', device_class: 'problem' },
  { key: 'overload', field: 'overload', platform: 'binary_sensor', name: 'Overload', device_class: 'problem' },
  { key: 'charging', field: 'charging', platform: 'binary_sensor', name: null, device_class: 'battery_charging' },
  // bridgeOnly: must say ON while the UPS availability says offline.
  { key: 'comm_lost', field: 'comm_lost', platform: 'binary_sensor', name: 'Communication lost', device_class: 'problem', bridgeOnly: true },
  { key: 'trim', field: 'trim', platform: 'binary_sensor', name: 'Voltage trim', category: D, icon: 'mdi:arrow-down-bold' },
  { key: 'boost', field: 'boost', platform: 'binary_sensor', name: 'Voltage boost', category: D, icon: 'mdi:arrow-up-bold' },
  { key: 'calibrating', field: 'calibrating', platform: 'binary_sensor', name: 'Calibrating', device_class: 'running', category: D },
  { key: 'battery_missing', field: 'battery_missing', platform: 'binary_sensor', name: 'Battery missing', device_class: 'problem', category: D },
  { key: 'output_off', field: 'output_off', platform: 'binary_sensor', name: 'Output off', category: D, icon: 'mdi:power-plug-off' },
  { key: 'shutting_down', field: 'shutting_down', platform: 'binary_sensor', name: 'Shutdown in progress', category: D },
  { key: 'test_in_progress', field: 'test_in_progress', platform: 'binary_sensor', name: 'Self test running', device_class: 'running', category: D },
] as const satisfies readonly EntityDef[];

/** The whole table, in `cmps` order. */
export const ENTITIES = [...SENSORS, ...BINARY_SENSORS] as const satisfies readonly EntityDef[];

/** A state field that has an entity. */
export type DiscoveredField = (typeof ENTITIES)[number]['field'];

/**
 * Every state field that deliberately has no entity, with the reason. The type makes this
 * exhaustive: a new `UpsState` key without a row above fails to compile until it is listed
 * here, and a key listed both here and above fails too.
 */
export const NOT_DISCOVERED = {
  discharging:
    'duplicates on_battery (HID Discharging mirrors it on APC units); one entity per condition',
  manufacturer: 'published as the device manufacturer (dev.mf), which is where HA shows it',
} as const satisfies Record<Exclude<UpsStateKey, DiscoveredField>, string>;
