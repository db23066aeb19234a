/**
 * The normalized state as NUT variables (the reverse of what a NUT driver feeds upsd).
 * Names and units follow NUT's standard variable list (NUT developer guide, "Variables":
 * https://networkupstools.org/docs/developer-guide.chunked/apas01.html).
 * Only what the source reported is served: an absent state key is an absent variable, so
 * `upsc` shows the same facts as the MQTT state and nothing invented.
 */
import type { SelfTestResult, UpsState } from '../../core/state.ts';

/** The `driver.name` a NUT client sees for every UPS served by ups2mqtt. */
export const NUT_DRIVER_NAME = 'ups2mqtt';

type Formatter = (value: never) => string | undefined;

/** One state key served as one or more NUT variables. */
export interface NutVarRule {
  key: keyof UpsState;
  vars: readonly string[];
  format?: Formatter;
}

/** NUT's `ups.test.result` wording (usbhid-ups' test result strings). */
const TEST_RESULT_TEXT: Readonly<Record<SelfTestResult, string | undefined>> = {
  none: 'No test initiated',
  passed: 'Done and passed',
  warning: 'Done and warning',
  failed_capacity: 'Done and error',
  failed_load: 'Done and error',
  failed: 'Done and error',
  in_progress: 'In progress',
  aborted: 'Aborted',
  // A code outside the list: NUT has no wording for it, so the variable is left out.
  other: undefined,
};

/**
 * The table: state key → NUT variable(s). `ups.status` is built from the flags by
 * nutStatus(); `driver.name` is added by nutVariables().
 */
export const NUT_VAR_RULES: readonly NutVarRule[] = [
  { key: 'battery_charge_pct', vars: ['battery.charge'] },
  { key: 'runtime_s', vars: ['battery.runtime'] },
  { key: 'low_battery_warning_s', vars: ['battery.runtime.low'] },
  { key: 'restart_charge_pct', vars: ['battery.charge.restart'] },
  { key: 'battery_voltage_v', vars: ['battery.voltage'] },
  { key: 'battery_voltage_nominal_v', vars: ['battery.voltage.nominal'] },
  { key: 'battery_date', vars: ['battery.date'] },
  { key: 'external_batteries', vars: ['battery.packs'] },
  { key: 'bad_batteries', vars: ['battery.packs.bad'] },
  { key: 'manufacturer', vars: ['device.mfr', 'ups.mfr'] },
  { key: 'model', vars: ['device.model', 'ups.model'] },
  { key: 'serial_number', vars: ['device.serial', 'ups.serial'] },
  { key: 'input_voltage_v', vars: ['input.voltage'] },
  { key: 'input_voltage_nominal_v', vars: ['input.voltage.nominal'] },
  { key: 'input_voltage_min_v', vars: ['input.voltage.minimum'] },
  { key: 'input_voltage_max_v', vars: ['input.voltage.maximum'] },
  { key: 'input_frequency_hz', vars: ['input.frequency'] },
  { key: 'transfer_low_v', vars: ['input.transfer.low'] },
  { key: 'transfer_high_v', vars: ['input.transfer.high'] },
  { key: 'last_transfer_reason', vars: ['input.transfer.reason'] },
  { key: 'sensitivity', vars: ['input.sensitivity'] },
  { key: 'output_voltage_v', vars: ['output.voltage'] },
  { key: 'output_voltage_nominal_v', vars: ['output.voltage.nominal'] },
  { key: 'output_current_a', vars: ['output.current'] },
  { key: 'output_frequency_hz', vars: ['output.frequency'] },
  { key: 'ambient_temp_c', vars: ['ambient.temperature'] },
  { key: 'ambient_humidity_pct', vars: ['ambient.humidity'] },
  { key: 'load_pct', vars: ['ups.load'] },
  { key: 'nominal_power_w', vars: ['ups.realpower.nominal'] },
  { key: 'nominal_apparent_power_va', vars: ['ups.power.nominal'] },
  { key: 'internal_temp_c', vars: ['ups.temperature'] },
  { key: 'firmware', vars: ['ups.firmware'] },
  { key: 'ups_name', vars: ['ups.id'] },
  { key: 'manufacture_date', vars: ['ups.mfr.date'] },
  { key: 'shutdown_delay_s', vars: ['ups.delay.shutdown'] },
  { key: 'wake_delay_s', vars: ['ups.delay.start'] },
  {
    key: 'self_test_result',
    vars: ['ups.test.result'],
    format: ((v: SelfTestResult) => TEST_RESULT_TEXT[v]) as Formatter,
  },
];

/**
 * `ups.status` tokens from the flags, in the order NUT drivers set them. FSD comes first,
 * as upsd prefixes it (`FSD OL`): it is raised by a primary's `FSD`, by the power policy, or
 * when the monitoring daemon reports it is shutting down (apcupsd's `SHUTTING DOWN`, which
 * its own network clients also obey). Undefined when no flag is known.
 */
export function nutStatus(state: UpsState, fsd: boolean): string | undefined {
  const tokens: string[] = [];
  if (state.online) tokens.push('OL');
  if (state.on_battery) tokens.push('OB');
  if (state.low_battery) tokens.push('LB');
  if (state.replace_battery) tokens.push('RB');
  if (state.charging) tokens.push('CHRG');
  if (state.discharging) tokens.push('DISCHRG');
  if (state.calibrating) tokens.push('CAL');
  if (state.output_off) tokens.push('OFF');
  if (state.overload) tokens.push('OVER');
  if (state.trim) tokens.push('TRIM');
  if (state.boost) tokens.push('BOOST');
  if (fsd || state.shutting_down) tokens.unshift('FSD');
  return tokens.length > 0 ? tokens.join(' ') : undefined;
}

function formatValue(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'string') return value === '' ? undefined : value;
  return undefined;
}

/**
 * Every NUT variable of a state, sorted by name as upsd lists them (`LIST VAR`).
 * `fsd` adds NUT's forced-shutdown token to `ups.status`.
 */
export function nutVariables(state: UpsState, fsd = false): [string, string][] {
  const out: [string, string][] = [['driver.name', NUT_DRIVER_NAME]];
  for (const rule of NUT_VAR_RULES) {
    const raw = state[rule.key];
    if (raw === undefined) continue;
    const text = rule.format ? rule.format(raw as never) : formatValue(raw);
    if (text === undefined) continue;
    for (const name of rule.vars) out.push([name, text]);
  }
  const status = nutStatus(state, fsd);
  if (status !== undefined) out.push(['ups.status', status]);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
