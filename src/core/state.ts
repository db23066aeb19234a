/**
 * The normalized UPS state: one flat object whose keys carry their unit in the name
 * (`runtime_s`, `input_voltage_v`). It is exactly what `ups2mqtt/<ups_id>/state` carries,
 * so there is no second mapping layer between the model and the wire.
 *
 * Rules (docs/mqtt.md): an absent key means "this UPS or source does not report it";
 * numbers are numbers in fixed SI-ish units; timestamps are ISO 8601 with an offset.
 */

/** Closed set for the `status` enum sensor. Order in this list is display order only. */
export const UPS_STATUSES = [
  'online',
  'on_battery',
  'low_battery',
  'calibrating',
  'overload',
  'output_off',
  'comm_lost',
  'shutting_down',
  // No flag the source reported names a known condition; the raw words are in status_text.
  // Deliberately not `unknown`: that is Home Assistant's own word for "no value".
  'other',
] as const;
export type UpsStatus = (typeof UPS_STATUSES)[number];

/** Closed set for `self_test_result`. */
export const SELF_TEST_RESULTS = [
  'none',
  'passed',
  'warning',
  'failed_capacity',
  'failed_load',
  'failed',
  'in_progress',
  'aborted',
  // The source reported a code outside this list; the raw code is in self_test_code. A
  // source that says it does not know (apcupsd's `??`) gives no value at all.
  'other',
] as const;
export type SelfTestResult = (typeof SELF_TEST_RESULTS)[number];

/** Lifecycle of the last battery self-test as the bridge tracked it. */
export const SELF_TEST_STATES = ['idle', 'running', 'passed', 'failed', 'aborted'] as const;
export type SelfTestState = (typeof SELF_TEST_STATES)[number];

/**
 * The power policy's progress (docs/power-policy.md): `idle` on mains; `pending` on battery
 * while the triggers are counted; `shutting_down` once one fired; `waiting_for_mains` when
 * every step ran; `cancelled` when mains returned before a trigger (then `idle` again).
 */
export const SHUTDOWN_STATES = [
  'idle',
  'pending',
  'shutting_down',
  'waiting_for_mains',
  'cancelled',
] as const;
export type ShutdownState = (typeof SHUTDOWN_STATES)[number];

/** Closed set for `sensitivity`. */
/**
 * Closed set for `sensitivity`. There is no "unknown" member: a setting the source cannot
 * read or that no word here describes is left out, so Home Assistant shows its own unknown.
 */
export const SENSITIVITIES = ['low', 'medium', 'high', 'auto'] as const;
export type Sensitivity = (typeof SENSITIVITIES)[number];

/** Boolean condition flags. `status` is derived from these (see deriveStatus). */
export interface UpsFlags {
  online?: boolean;
  on_battery?: boolean;
  low_battery?: boolean;
  replace_battery?: boolean;
  overload?: boolean;
  charging?: boolean;
  discharging?: boolean;
  comm_lost?: boolean;
  trim?: boolean;
  boost?: boolean;
  calibrating?: boolean;
  battery_missing?: boolean;
  output_off?: boolean;
  /** The monitoring daemon (apcupsd) has started a host shutdown. */
  shutting_down?: boolean;
  test_in_progress?: boolean;
}

/** Measurements (numbers, unit in the key). */
export interface UpsMeasurements {
  battery_charge_pct?: number;
  runtime_s?: number;
  load_pct?: number;
  load_apparent_pct?: number;
  /** Derived: load_pct × nominal_power_w / 100. */
  load_w?: number;
  input_voltage_v?: number;
  input_voltage_min_v?: number;
  input_voltage_max_v?: number;
  input_voltage_nominal_v?: number;
  input_frequency_hz?: number;
  output_voltage_v?: number;
  output_voltage_nominal_v?: number;
  output_current_a?: number;
  output_frequency_hz?: number;
  battery_voltage_v?: number;
  battery_voltage_nominal_v?: number;
  internal_temp_c?: number;
  ambient_temp_c?: number;
  ambient_humidity_pct?: number;
  nominal_power_w?: number;
  nominal_apparent_power_va?: number;
  transfers?: number;
  time_on_battery_s?: number;
  cumulative_on_battery_s?: number;
  external_batteries?: number;
  bad_batteries?: number;
}

/** Settings the UPS or daemon reports (read-only here). */
export interface UpsSettings {
  transfer_low_v?: number;
  transfer_high_v?: number;
  sensitivity?: Sensitivity;
  shutdown_delay_s?: number;
  wake_delay_s?: number;
  low_battery_warning_s?: number;
  restart_charge_pct?: number;
  /**
   * apcupsd's own shutdown thresholds (MBATTCHG, MINTIMEL, MAXTIME). A threshold apcupsd has
   * disabled (`-1`) is absent, never a negative value.
   */
  shutdown_charge_pct?: number;
  shutdown_runtime_s?: number;
  max_time_on_battery_s?: number;
  /** Beeper mode as the source words it, e.g. "30 Seconds", "No alarm". */
  alarm_mode?: string;
  self_test_interval?: string;
}

/** Identity and daemon/diagnostic strings. */
export interface UpsIdentity {
  model?: string;
  /** apcupsd's APCMODEL: a short model code (`BR1500G`, or a 3-letter Smart code). */
  apc_model?: string;
  serial_number?: string;
  firmware?: string;
  manufacturer?: string;
  /** Name stored in the UPS or daemon (UPSNAME). */
  ups_name?: string;
  manufacture_date?: string;
  battery_date?: string;
  driver?: string;
  cable?: string;
  ups_mode?: string;
  daemon_hostname?: string;
  daemon_version?: string;
  daemon_started_at?: string;
  master_updated_at?: string;
  /** NIS header record `001,NNN,BBBB`. */
  status_data?: string;
  /** Raw apcupsd STATUS words, for display next to the enum. */
  status_text?: string;
  /** The UPS's own alarm text (NUT `ups.alarm`), present while it raises an alarm. */
  alarm?: string;
  /** Raw STATFLAG as `0x%08X`. */
  status_flags?: string;
  dip_switch?: string;
  fault_register_1?: string;
  fault_register_2?: string;
  fault_register_3?: string;
  input_status?: string;
  battery_status?: string;
}

/** Times of transfers and tests. */
export interface UpsTimes {
  last_transfer_reason?: string;
  self_test_result?: SelfTestResult;
  /** The source's raw self-test code, kept when it maps to `other`. */
  self_test_code?: string;
  last_self_test_at?: string;
  last_on_battery_at?: string;
  last_off_battery_at?: string;
  /** When the UPS was last polled by its daemon (NIS `DATE`). */
  sampled_at?: string;
  /** When the daemon produced this reply (NIS `END APC`). */
  reported_at?: string;
  /** `reported_at − sampled_at`, seconds. */
  data_age_s?: number;
}

/** Everything a source can tell about a UPS (no bridge-owned keys). */
export type UpsData = UpsFlags & UpsMeasurements & UpsSettings & UpsIdentity & UpsTimes;

/** The published state: the source's data plus the bridge-owned keys. */
export interface UpsState extends UpsData {
  status: UpsStatus;
  /** Self-test lifecycle: idle → running → passed / failed / aborted (bridge-tracked). */
  self_test_state?: SelfTestState;
  /** When the last self-test ended, as seen by the bridge or reported by the source. */
  self_test_finished_at?: string;
  /** The power policy's state; present only when `shutdown.mode` is not `off`. */
  shutdown_state?: ShutdownState;
  /** ISO time of the reading this state describes (never of the publish). */
  updated_at: string;
  /** Outages seen by the bridge (src/policy/outages.ts), persisted across restarts. */
  outages_total?: number;
  last_outage_started_at?: string;
  last_outage_ended_at?: string;
  last_outage_duration_s?: number;
  last_outage_min_charge_pct?: number;
  /** Energy delivered by the UPS output, integrated from load_w (src/policy/energy.ts). */
  energy_kwh?: number;
}

export type UpsStateKey = keyof UpsState;

/**
 * Names the most important condition. Priority is fixed by the MQTT contract:
 * comm_lost, shutting_down, low_battery, on_battery, then the lesser ones.
 * It never contradicts the booleans: each branch tests exactly the flag it names.
 */
export function deriveStatus(f: UpsFlags): UpsStatus {
  if (f.comm_lost) return 'comm_lost';
  if (f.shutting_down) return 'shutting_down';
  if (f.low_battery) return 'low_battery';
  if (f.on_battery) return 'on_battery';
  if (f.overload) return 'overload';
  if (f.calibrating) return 'calibrating';
  if (f.output_off) return 'output_off';
  if (f.online) return 'online';
  return 'other';
}

/** Serials that UPSes and daemons report when they have none (HA core PR #130852). */
const PLACEHOLDER_SERIALS = new Set([
  '',
  'blank',
  'n/a',
  'na',
  'unknown',
  'none',
  '0',
  '000000000000',
]);

/** True when the serial can identify a device (not empty or a placeholder). */
export function isUsableSerial(serial: string | undefined): serial is string {
  if (serial === undefined) return false;
  const s = serial.trim().toLowerCase();
  return !PLACEHOLDER_SERIALS.has(s) && !/^0+$/.test(s);
}

/** Lower-case slug of `[a-z0-9_]`, for ids derived from serials and names. */
export function slugify(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}
