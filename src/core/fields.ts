import {
  SELF_TEST_RESULTS,
  SELF_TEST_STATES,
  SENSITIVITIES,
  SHUTDOWN_STATES,
  UPS_STATUSES,
  type UpsStateKey,
} from './state.ts';

/** How a state key is typed on the wire. */
export type FieldKind =
  | { type: 'boolean' }
  | { type: 'number'; unit?: string; integer?: boolean }
  | { type: 'string' }
  | { type: 'timestamp' }
  | { type: 'enum'; values: readonly string[] };

export interface FieldSpec {
  kind: FieldKind;
  doc: string;
}

const bool = (doc: string): FieldSpec => ({ kind: { type: 'boolean' }, doc });
const num = (unit: string, doc: string, integer = false): FieldSpec => ({
  kind: integer ? { type: 'number', unit, integer } : { type: 'number', unit },
  doc,
});
const str = (doc: string): FieldSpec => ({ kind: { type: 'string' }, doc });
const time = (doc: string): FieldSpec => ({ kind: { type: 'timestamp' }, doc });

/**
 * Every key of the published state with its type, unit and meaning. The compiler checks
 * completeness (`satisfies Record<UpsStateKey, …>`); docs/mqtt.md and
 * schema/state.schema.json are generated from it (scripts/gen-docs.ts).
 */
export const STATE_FIELDS = {
  status: {
    kind: { type: 'enum', values: UPS_STATUSES },
    doc: 'The most important condition: comm_lost, then shutting_down, low_battery, on_battery, overload, calibrating, output_off, online.',
  },
  updated_at: time(
    'When the bridge took the reading this state describes (not when it was published).',
  ),
  online: bool('On mains (utility) power.'),
  on_battery: bool('Running on battery.'),
  low_battery: bool('The UPS signals a low battery.'),
  replace_battery: bool('The UPS asks for a battery replacement.'),
  overload: bool('Output overloaded.'),
  charging: bool('Battery charging (NIS: derived as online and charge below 100 %).'),
  discharging: bool('Battery discharging.'),
  comm_lost: bool('The UPS cannot be read (by the bridge or by its daemon).'),
  trim: bool('Reducing a high input voltage (SmartTrim/buck).'),
  boost: bool('Raising a low input voltage (SmartBoost).'),
  calibrating: bool('Runtime calibration running.'),
  battery_missing: bool('No battery connected.'),
  output_off: bool('The UPS output is switched off.'),
  shutting_down: bool('The monitoring daemon has started a host shutdown.'),
  test_in_progress: bool('A battery self-test is running.'),
  battery_charge_pct: num('%', 'Battery charge.'),
  runtime_s: num('s', 'Estimated runtime on battery at the present load.', true),
  load_pct: num('%', 'Load, percent of the real-power capacity.'),
  load_apparent_pct: num('%', 'Load, percent of the apparent-power capacity.'),
  load_w: num('W', 'Real power drawn: load_pct × nominal_power_w / 100.'),
  input_voltage_v: num('V', 'Input (line) voltage.'),
  input_voltage_min_v: num('V', 'Lowest input voltage since the previous reading.'),
  input_voltage_max_v: num('V', 'Highest input voltage since the previous reading.'),
  input_voltage_nominal_v: num('V', 'Nominal input voltage.'),
  input_frequency_hz: num('Hz', 'Line frequency.'),
  output_voltage_v: num('V', 'Output voltage.'),
  output_voltage_nominal_v: num('V', 'Nominal output voltage (on battery).'),
  output_current_a: num('A', 'Output current.'),
  output_frequency_hz: num('Hz', 'Output frequency.'),
  battery_voltage_v: num('V', 'Battery voltage.'),
  battery_voltage_nominal_v: num('V', 'Nominal battery voltage.'),
  internal_temp_c: num('°C', 'Internal (or battery) temperature.'),
  ambient_temp_c: num('°C', 'Ambient temperature (probe).'),
  ambient_humidity_pct: num('%', 'Ambient humidity (probe).'),
  nominal_power_w: num('W', 'Nominal real power.'),
  nominal_apparent_power_va: num('VA', 'Nominal apparent power.'),
  transfers: num('', 'Transfers to battery since the daemon started.', true),
  time_on_battery_s: num('s', 'Seconds on battery in the present outage (0 on mains).', true),
  cumulative_on_battery_s: num('s', 'Seconds on battery since the daemon started.', true),
  external_batteries: num('', 'External battery packs.', true),
  bad_batteries: num('', 'Bad battery packs.', true),
  transfer_low_v: num('V', 'Input voltage below which the UPS goes to battery.'),
  transfer_high_v: num('V', 'Input voltage above which the UPS goes to battery.'),
  sensitivity: { kind: { type: 'enum', values: SENSITIVITIES }, doc: 'Input sensitivity.' },
  shutdown_delay_s: num('s', 'Delay between a shutdown command and the output turning off.', true),
  wake_delay_s: num('s', 'Delay before the output turns back on after mains returns.', true),
  low_battery_warning_s: num('s', 'Runtime left at which the UPS signals low battery.', true),
  restart_charge_pct: num('%', 'Charge required before the output turns back on.'),
  shutdown_charge_pct: num(
    '%',
    "apcupsd's shutdown threshold on charge (BATTERYLEVEL); absent when disabled.",
  ),
  shutdown_runtime_s: num(
    's',
    "apcupsd's shutdown threshold on runtime (MINUTES); absent when disabled.",
    true,
  ),
  max_time_on_battery_s: num('s', "apcupsd's limit on time on battery (TIMEOUT, 0 = off).", true),
  alarm_mode: str('Beeper mode as the source words it (e.g. "30 Seconds", "No alarm").'),
  self_test_interval: str('Automatic self-test interval as the source words it.'),
  model: str('UPS model.'),
  apc_model: str("apcupsd's APCMODEL: a short model code; Home Assistant's device model id."),
  serial_number: str('UPS serial number.'),
  firmware: str('Firmware revision.'),
  manufacturer: str('Manufacturer.'),
  ups_name: str('Name stored in the UPS or daemon (UPSNAME).'),
  manufacture_date: str('Manufacture date, as the UPS reports it.'),
  battery_date: str('Battery installation or replacement date, as the UPS reports it.'),
  driver: str("The daemon's driver name (apcupsd DRIVER, NUT driver.name)."),
  cable: str("apcupsd's cable type."),
  ups_mode: str("apcupsd's mode (Stand Alone, ShareUPS …)."),
  daemon_hostname: str('Host running the monitoring daemon.'),
  daemon_version: str("The monitoring daemon's version (NUT: the driver's version)."),
  daemon_started_at: time('When the monitoring daemon started.'),
  master_updated_at: time('Last successful poll of the NIS master (apcupsd as a network slave).'),
  status_data: str('NIS header record (format revision, record count, byte count).'),
  status_text: str("The daemon's raw status words (apcupsd STATUS, NUT ups.status)."),
  status_flags: str("The daemon's raw STATFLAG, 0x%08X."),
  alarm: str("The UPS's own alarm text (NUT ups.alarm), present while it raises an alarm."),
  dip_switch: str('DIP switch settings (hex).'),
  fault_register_1: str('Fault register 1 (hex).'),
  fault_register_2: str('Fault register 2 (hex).'),
  fault_register_3: str('Fault register 3 (hex).'),
  input_status: str('Input voltage status text (old apcupsd).'),
  battery_status: str('Battery status text (old apcupsd).'),
  last_transfer_reason: str('Cause of the last transfer to battery.'),
  self_test_result: {
    kind: { type: 'enum', values: SELF_TEST_RESULTS },
    doc: 'Result of the last self-test.',
  },
  self_test_state: {
    kind: { type: 'enum', values: SELF_TEST_STATES },
    doc: 'Self-test lifecycle tracked by the bridge: idle, running, then passed, failed or aborted until the next test.',
  },
  self_test_finished_at: time('When the last self-test ended.'),
  shutdown_state: {
    kind: { type: 'enum', values: SHUTDOWN_STATES },
    doc: 'The power policy (docs/power-policy.md), only when shutdown.mode is not off: idle; pending (on battery, triggers counted); shutting_down (a trigger fired); waiting_for_mains (every step ran); cancelled (mains returned before a trigger).',
  },
  self_test_code: str("The source's raw self-test code when self_test_result is `other`."),
  last_self_test_at: time('When the last self-test ran.'),
  last_on_battery_at: time('Last transfer to battery.'),
  last_off_battery_at: time('Last return from battery.'),
  sampled_at: time('When the daemon last read the UPS (NIS DATE).'),
  reported_at: time('When the daemon produced the reply (NIS END APC).'),
  data_age_s: num('s', 'reported_at − sampled_at.', true),
  outages_total: num(
    '',
    'Outages seen by the bridge: a good reading on battery (not during a self-test or calibration) starts one. Persisted in data_dir; kept while the UPS is unavailable.',
    true,
  ),
  last_outage_started_at: time(
    'Start of the last outage (ongoing or ended): the first reading that saw it on battery.',
  ),
  last_outage_ended_at: time(
    'End of the last outage: the first good reading off battery. Absent while it lasts; readings missed meanwhile (communication lost, bridge restarted) count as still on battery.',
  ),
  last_outage_duration_s: num(
    's',
    'last_outage_ended_at − last_outage_started_at, whole seconds. Absent while the outage lasts.',
    true,
  ),
  last_outage_min_charge_pct: num(
    '%',
    'Lowest battery_charge_pct among the good readings of the last outage, from its first to the one that ended it (updated while it lasts).',
  ),
  energy_kwh: num(
    'kWh',
    'Energy delivered by the UPS output since the bridge first counted it: load_w integrated over time (trapezoids between good readings; gaps while unread are skipped). Never decreases; persisted in data_dir; advances in steps of 1 Wh at most once a minute.',
  ),
} as const satisfies Record<UpsStateKey, FieldSpec>;

/** JSON Schema (2020-12) of the state payload, built from STATE_FIELDS. */
export function stateJsonSchema(): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(STATE_FIELDS) as [string, FieldSpec][]) {
    const k = spec.kind;
    const base: Record<string, unknown> = { description: spec.doc };
    if (k.type === 'boolean') base.type = 'boolean';
    else if (k.type === 'number') {
      base.type = k.integer ? 'integer' : 'number';
      if (k.unit) base['x-unit'] = k.unit;
    } else if (k.type === 'string') base.type = 'string';
    else if (k.type === 'timestamp') {
      base.type = 'string';
      base.format = 'date-time';
      base.pattern = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$';
    } else {
      base.type = 'string';
      base.enum = [...k.values];
    }
    properties[key] = base;
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://github.com/ups2mqtt/ups2mqtt/schema/state.schema.json',
    title: 'ups2mqtt UPS state (topic <base>/<ups_id>/state)',
    description: 'Retained JSON. A key is absent when the UPS or source does not report it.',
    type: 'object',
    required: ['status', 'updated_at'],
    additionalProperties: false,
    properties,
  };
}
