/**
 * Decoded HID values → the normalized model (src/core/state.ts; docs/protocols/hid.md#mapping-to-the-state). Pure: a
 * lookup function for signals in, UpsData out. Absent signals stay absent.
 */

import type { UpsData } from '../../core/state.ts';
import {
  apcBcdDate,
  beeperWord,
  hidDate,
  lineFailCause,
  selfTestResult,
  sensitivity,
  TEST_IN_PROGRESS,
} from './enums.ts';
import type { SignalName } from './signals.ts';

/** Reads one signal's current physical value, or undefined when the UPS lacks it. */
export type SignalLookup = (name: SignalName) => number | undefined;

/** What the mapping needs besides the values. */
export interface MappingContext {
  /** A deep test (runtime calibration) was started by us and has not ended yet. */
  deepTestRunning?: boolean;
  /** Quirk: this unit reports RunTimeToEmpty in minutes. */
  runtimeInMinutes?: boolean;
}

/** CapacityMode 2 = RemainingCapacity is in percent (Battery System page §4.2). */
const CAPACITY_MODE_PERCENT = 2;
/** A temperature above this is in kelvin whatever the descriptor's unit says. */
const KELVIN_THRESHOLD = 150;

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f + 0;
}

function flag(value: number | undefined): boolean | undefined {
  return value === undefined ? undefined : value !== 0;
}

/** apcupsd divides nominal voltages by 10 while they exceed 1000 (firmware quirk, docs/protocols/hid.md#units-and-exponents). */
function nominalVolts(value: number | undefined): number | undefined {
  if (value === undefined || value <= 0) return undefined;
  let v = value;
  while (v > 1000) v /= 10;
  return round(v, 2);
}

function celsius(value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  return round(value > KELVIN_THRESHOLD ? value - 273.15 : value, 2);
}

/** Copies defined values only (exactOptionalPropertyTypes: absent, never `undefined`). */
function assign(data: UpsData, values: { [K in keyof UpsData]?: UpsData[K] | undefined }): void {
  const target = data as Record<string, unknown>;
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) target[key] = value;
  }
}

function mapFlags(get: SignalLookup, ctx: MappingContext): UpsData {
  const ac = flag(get('acPresent'));
  const discharging = flag(get('discharging'));
  const statusFlag = get('apcStatusFlag');
  // ACPresent is what "online" means (NUT's OL/OB); Discharging is reported on its own, so a
  // self-test (Discharging with mains present, apcupsd docs/protocols/hid.md#polling) does not look like an outage.
  let online = ac;
  if (online === undefined && discharging !== undefined) online = !discharging;
  if (online === undefined && statusFlag !== undefined && statusFlag !== 0) {
    online = (statusFlag & 0x08) !== 0;
  }
  const lowSignals = [get('belowCapacityLimit'), get('shutdownImminent'), get('timeLimitExpired')];
  const anyLow = lowSignals.some((x) => x !== undefined && x !== 0);
  const lowKnown = lowSignals.some((x) => x !== undefined);
  const batteryPresent = flag(get('batteryPresent'));
  const test = get('test');
  const data: UpsData = {};
  assign(data, {
    online,
    on_battery: online === undefined ? undefined : !online,
    charging: flag(get('charging')),
    discharging,
    low_battery: lowKnown ? anyLow : undefined,
    replace_battery: flag(get('needReplacement')),
    overload: flag(get('overload')),
    boost: flag(get('boost')),
    trim: flag(get('buck')),
    comm_lost: flag(get('commLost')),
    battery_missing: batteryPresent === undefined ? undefined : !batteryPresent,
    // NUT apcstatusflag_info: APCStatusFlag 0 means the UPS output is off.
    output_off: statusFlag === undefined ? undefined : statusFlag === 0,
    test_in_progress: test === undefined ? undefined : test === TEST_IN_PROGRESS,
    calibrating:
      test === undefined ? undefined : test === TEST_IN_PROGRESS && !!ctx.deepTestRunning,
  });
  return data;
}

function mapMeasurements(get: SignalLookup, ctx: MappingContext): UpsData {
  let charge = get('charge');
  const mode = get('capacityMode');
  const full = get('fullChargeCapacity');
  if (charge !== undefined && mode !== undefined && mode !== CAPACITY_MODE_PERCENT) {
    charge = full !== undefined && full > 0 ? (charge * 100) / full : undefined;
  }
  let runtime = get('runtime');
  if (runtime !== undefined && ctx.runtimeInMinutes) runtime *= 60;
  const load = get('load');
  const nominalPower = get('nominalPower');
  const nominalW = nominalPower !== undefined && nominalPower > 0 ? nominalPower : undefined;
  const nominalVa = get('nominalApparentPower');
  const data: UpsData = {};
  assign(data, {
    battery_charge_pct: charge === undefined ? undefined : round(charge, 1),
    runtime_s: runtime === undefined || runtime < 0 ? undefined : Math.round(runtime),
    battery_voltage_v: get('batteryVoltage'),
    input_voltage_v: get('inputVoltage'),
    input_frequency_hz: get('inputFrequency'),
    output_voltage_v: get('outputVoltage'),
    output_frequency_hz: get('outputFrequency'),
    output_current_a: get('outputCurrent'),
    load_pct: load === undefined ? undefined : round(load, 1),
    load_w:
      load === undefined || nominalW === undefined ? undefined : round((load * nominalW) / 100, 1),
    internal_temp_c: celsius(get('batteryTemperature')),
    ambient_temp_c: celsius(get('ambientTemperature')),
    ambient_humidity_pct: get('ambientHumidity'),
    battery_voltage_nominal_v: nominalVolts(get('batteryVoltageNominal')),
    input_voltage_nominal_v: nominalVolts(get('inputVoltageNominal')),
    output_voltage_nominal_v: nominalVolts(get('outputVoltageNominal')),
    nominal_power_w: nominalW,
    nominal_apparent_power_va: nominalVa !== undefined && nominalVa > 0 ? nominalVa : undefined,
  });
  return data;
}

function mapSettings(get: SignalLookup): UpsData {
  const sens = get('sensitivity');
  const beeper = get('audibleAlarm');
  const cause = get('lineFailCause');
  const test = get('test');
  const testResult = test === undefined ? undefined : selfTestResult(test);
  const mfr = get('manufactureDate');
  const batteryMfr = get('batteryManufactureDate');
  const replaced = get('batteryReplaceDate');
  const data: UpsData = {};
  assign(data, {
    transfer_low_v: get('transferLow'),
    transfer_high_v: get('transferHigh'),
    sensitivity: sens === undefined ? undefined : sensitivity(sens),
    alarm_mode: beeper === undefined ? undefined : beeperWord(beeper),
    low_battery_warning_s: get('runtimeLimit'),
    restart_charge_pct: get('restartCharge'),
    shutdown_delay_s: get('shutdownAfterDelay'),
    wake_delay_s: get('wakeDelay'),
    last_transfer_reason: cause === undefined ? undefined : lineFailCause(cause),
    self_test_result: testResult,
    self_test_code: testResult === 'other' ? String(test) : undefined,
    manufacture_date: mfr === undefined ? undefined : hidDate(mfr),
    // The battery's own date first; APC's replace date is often a factory default (docs/protocols/hid.md#usages).
    battery_date:
      (batteryMfr === undefined ? undefined : hidDate(batteryMfr)) ??
      (replaced === undefined ? undefined : apcBcdDate(replaced)),
  });
  return data;
}

/** The normalized reading from the current signal values. */
export function mapSignals(get: SignalLookup, ctx: MappingContext = {}): UpsData {
  return { ...mapFlags(get, ctx), ...mapMeasurements(get, ctx), ...mapSettings(get) };
}

/** Only the status booleans: compared before and after an input report to decide a wake-up. */
export function statusKey(get: SignalLookup, ctx: MappingContext = {}): string {
  return JSON.stringify(mapFlags(get, ctx));
}
