import type { SelfTestResult, Sensitivity, UpsData, UpsFlags } from '../../core/state.ts';

/**
 * Maps NUT variables (`LIST VAR <ups>`) onto the normalized model, with the same keys and
 * units as the other sources (docs/protocols/nut.md "Variables"; NUT's variable names:
 * https://networkupstools.org/docs/developer-guide.chunked/new-names.html). Pure and
 * tolerant: a value that does not parse is left out and kept raw in `unknown` with a
 * warning; a variable the model has no place for is kept raw in `unknown`. Never throws.
 */

/** The result of {@link mapNutVars}. */
export interface NutVarsMapping {
  data: UpsData;
  /** Raw values of variables the model has no place for, and of values that did not parse. */
  unknown: Record<string, string>;
  warnings: string[];
  /** True when upsd says it is still waiting for the driver (`ups.status: WAIT`). */
  waiting: boolean;
}

type KeysOf<V> = {
  [K in keyof UpsData]-?: NonNullable<UpsData[K]> extends V ? K : never;
}[keyof UpsData];
type NumberKey = KeysOf<number>;
type TextKey = Exclude<KeysOf<string>, 'self_test_result' | 'sensitivity'>;

/** Numbers as NUT drivers print them: `100`, `13.5`, `004.5`, `-1`, `1.56117e+09`. */
const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** A NUT value as a number, or undefined. */
export function parseNutNumber(value: string): number | undefined {
  const t = value.trim();
  if (!NUMBER.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** Plain numeric variables, first match wins where several name the same key. */
const NUMBERS: readonly (readonly [string, NumberKey])[] = [
  ['battery.charge', 'battery_charge_pct'],
  ['battery.runtime', 'runtime_s'],
  ['battery.runtime.low', 'low_battery_warning_s'],
  ['battery.charge.restart', 'restart_charge_pct'],
  ['battery.voltage', 'battery_voltage_v'],
  ['battery.voltage.nominal', 'battery_voltage_nominal_v'],
  ['battery.packs', 'external_batteries'],
  ['battery.packs.bad', 'bad_batteries'],
  ['input.voltage', 'input_voltage_v'],
  ['input.voltage.nominal', 'input_voltage_nominal_v'],
  ['input.voltage.minimum', 'input_voltage_min_v'],
  ['input.voltage.maximum', 'input_voltage_max_v'],
  ['input.frequency', 'input_frequency_hz'],
  ['input.transfer.low', 'transfer_low_v'],
  ['input.transfer.high', 'transfer_high_v'],
  ['output.voltage', 'output_voltage_v'],
  ['output.voltage.nominal', 'output_voltage_nominal_v'],
  ['output.frequency', 'output_frequency_hz'],
  ['output.current', 'output_current_a'],
  ['ups.load', 'load_pct'],
  ['ups.realpower.nominal', 'nominal_power_w'],
  ['ups.power.nominal', 'nominal_apparent_power_va'],
  // ups.temperature is the UPS's; usbhid-ups and apc_modbus report the battery's instead.
  ['ups.temperature', 'internal_temp_c'],
  ['battery.temperature', 'internal_temp_c'],
  ['ambient.temperature', 'ambient_temp_c'],
  ['ambient.humidity', 'ambient_humidity_pct'],
  ['ups.delay.shutdown', 'shutdown_delay_s'],
  ['ups.delay.start', 'wake_delay_s'],
];

/** Text variables; `device.*` (NUT ≥ 2.6) before the older `ups.*` duplicates. */
const TEXTS: readonly (readonly [string, TextKey])[] = [
  ['device.mfr', 'manufacturer'],
  ['ups.mfr', 'manufacturer'],
  ['device.model', 'model'],
  ['ups.model', 'model'],
  ['ups.firmware', 'firmware'],
  ['ups.id', 'ups_name'],
  ['ups.mfr.date', 'manufacture_date'],
  ['battery.date', 'battery_date'],
  ['battery.mfr.date', 'battery_date'],
  ['driver.name', 'driver'],
  ['driver.version', 'daemon_version'],
  ['input.transfer.reason', 'last_transfer_reason'],
  ['ups.beeper.status', 'alarm_mode'],
  ['ups.test.interval', 'self_test_interval'],
];

/** Variables read by the special cases below (flags, serial, power, self-test, alarm). */
const SPECIAL = new Set([
  'ups.status',
  'ups.alarm',
  'device.serial',
  'ups.serial',
  'ups.realpower',
  'ups.test.result',
  'input.sensitivity',
  'battery.charger.status',
]);

/** `input.sensitivity` as drivers word it: usbhid-ups `low|medium|high`, apcsmart `L|M|H|A`. */
const SENSITIVITY: Readonly<Record<string, Sensitivity>> = {
  l: 'low',
  low: 'low',
  m: 'medium',
  medium: 'medium',
  normal: 'medium',
  h: 'high',
  high: 'high',
  a: 'auto',
  auto: 'auto',
  'auto adjust': 'auto',
};

/**
 * `ups.test.result` as drivers word it: usbhid-ups ("No test initiated", "Done and passed",
 * "Done and warning", "Done and error", "Aborted", "In progress"), apcsmart (Smart `X`
 * codes `OK`, `BT`, `NG`, `NO`, later with text), apc_modbus ("Passed, Source: Internal").
 */
function selfTestResult(value: string): SelfTestResult | undefined {
  const v = value.trim().toLowerCase();
  if (/^no\b|no test|^none\b/.test(v)) return 'none';
  if (/progress/.test(v)) return 'in_progress';
  if (/abort|cancel/.test(v)) return 'aborted';
  if (/^bt\b|capacity/.test(v)) return 'failed_capacity';
  if (/^ng\b|overload|load/.test(v)) return 'failed_load';
  if (/warn/.test(v)) return 'warning';
  if (/pass|^ok\b|good/.test(v)) return 'passed';
  if (/error|fail/.test(v)) return 'failed';
  return undefined;
}

/** A serial that identifies something: at least one letter or digit (`....` does not). */
function serialOf(value: string | undefined): string | undefined {
  const t = value?.trim();
  return t !== undefined && /[A-Za-z0-9]/.test(t) ? t : undefined;
}

/**
 * `ups.status` tokens (docs/protocols/nut.md "Status tokens") to explicit flags. The token
 * list is complete on every reply, so a flag whose token is missing is false. HB (high
 * battery) and BYPASS have no flag; they stay visible in `status_text`.
 */
export function nutStatusFlags(status: string, chargerStatus?: string): UpsFlags {
  const t = new Set(status.trim().toUpperCase().split(/\s+/).filter(Boolean));
  const charger = chargerStatus?.trim().toLowerCase();
  const charging = t.has('CHRG') || charger === 'charging';
  const discharging = t.has('DISCHRG') || charger === 'discharging' || (t.has('OB') && !charging);
  return {
    online: t.has('OL'),
    on_battery: t.has('OB'),
    low_battery: t.has('LB'),
    replace_battery: t.has('RB'),
    charging,
    discharging,
    calibrating: t.has('CAL'),
    output_off: t.has('OFF'),
    overload: t.has('OVER'),
    trim: t.has('TRIM'),
    boost: t.has('BOOST'),
    // FSD: upsmon's primary has ordered the forced shutdown of its hosts.
    shutting_down: t.has('FSD'),
    test_in_progress: t.has('TEST'),
    comm_lost: false,
  };
}

/** Maps one UPS's variables to {@link UpsData}. */
export function mapNutVars(vars: ReadonlyMap<string, string>): NutVarsMapping {
  const data: UpsData = {};
  const unknown: Record<string, string> = {};
  const warnings: string[] = [];
  const used = new Set<string>(SPECIAL);

  for (const [name, key] of NUMBERS) {
    used.add(name);
    const raw = vars.get(name);
    if (raw === undefined || raw.trim() === '' || data[key] !== undefined) continue;
    const n = parseNutNumber(raw);
    if (n === undefined) {
      unknown[name] = raw;
      warnings.push(`NUT ${name} value ${JSON.stringify(raw)} is not a number; left out`);
      continue;
    }
    data[key] = n;
  }
  for (const [name, key] of TEXTS) {
    used.add(name);
    const raw = vars.get(name)?.trim();
    if (raw === undefined || raw === '' || data[key] !== undefined) continue;
    data[key] = raw;
  }

  const serial = serialOf(vars.get('device.serial')) ?? serialOf(vars.get('ups.serial'));
  if (serial !== undefined) data.serial_number = serial;

  // Load in watts: measured by the UPS when it can, else the load share of the rating.
  const realpower = parseNutNumber(vars.get('ups.realpower') ?? '');
  if (realpower !== undefined) data.load_w = realpower;
  else if (data.load_pct !== undefined && data.nominal_power_w !== undefined) {
    // Two finite numbers can still multiply past the largest double: then there is no value.
    const w = Math.round((data.load_pct * data.nominal_power_w) / 10) / 10;
    if (Number.isFinite(w)) data.load_w = w;
  }

  // A wording the model does not know is no value: kept raw in `unknown`.
  const sensitivity = vars.get('input.sensitivity')?.trim();
  const known = sensitivity ? SENSITIVITY[sensitivity.toLowerCase()] : undefined;
  if (known !== undefined) data.sensitivity = known;
  else if (sensitivity) unknown['input.sensitivity'] = sensitivity;

  const testResult = vars.get('ups.test.result')?.trim();
  if (testResult) {
    const result = selfTestResult(testResult);
    data.self_test_result = result ?? 'other';
    if (result === undefined) data.self_test_code = testResult;
  }

  const status = vars.get('ups.status')?.trim() ?? '';
  const tokens = status.toUpperCase().split(/\s+/).filter(Boolean);
  const waiting = tokens.length === 1 && tokens[0] === 'WAIT';
  if (status !== '') {
    data.status_text = status;
    if (!waiting) {
      Object.assign(data, nutStatusFlags(status, vars.get('battery.charger.status')));
      if (data.self_test_result === 'in_progress') data.test_in_progress = true;
    }
  }
  const alarm = vars.get('ups.alarm')?.trim();
  if (alarm) data.alarm = alarm;
  else if (tokens.includes('ALARM')) data.alarm = 'ALARM';

  for (const [name, value] of vars) if (!used.has(name)) unknown[name] = value;
  return { data, unknown, warnings, waiting };
}
