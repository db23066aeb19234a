/**
 * Maps the simulator state to the normalized model (src/core/state.ts, docs/mqtt.md#keys).
 * Pure. Values are rounded the way real sources report them: 0.1 for percentages,
 * voltages and temperatures, whole seconds for times, 0.01 A for current.
 */

import type { UpsData } from '../../core/state.ts';
import {
  batteryVoltage,
  LOAD_POWER_FACTOR,
  LOW_CHARGE_PCT,
  LOW_RUNTIME_S,
  mainsFrequencyHz,
  RESTART_CHARGE_PCT,
  SHUTDOWN_DELAY_S,
  TRANSFER_POINTS_V,
  WAKE_DELAY_S,
} from './physics.ts';
import {
  currentLoadPct,
  currentRuntimeS,
  isCharging,
  isOnBattery,
  isOnline,
  type SimState,
} from './sim-state.ts';

/** Published identity of every simulated unit. */
export const SIM_MANUFACTURER = 'ups2mqtt';
export const SIM_FIRMWARE = 'sim-1';

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  // Adding 0 turns -0 into 0 so JSON never shows "-0".
  return Math.round(value * f) / f + 0;
}

/** The normalized reading of the simulated UPS. */
export function toUpsData(s: SimState): UpsData {
  const c = s.config;
  const onBattery = isOnBattery(s);
  const outputOn = s.output === 'on';
  const load = round(currentLoadPct(s), 1);
  const loadW = (load * c.nominalPowerW) / 100;
  const outputV = outputOn ? c.mains : 0;
  const frequency = mainsFrequencyHz(c.mains);
  const transfer = TRANSFER_POINTS_V[c.mains];
  const charge = round(s.chargePct, 1);
  const runtime = Math.round(currentRuntimeS(s));
  // Low battery is judged on the published figures, so a reader can check the rule
  // (on battery and charge < 10 % or runtime < 120 s) against the same message.
  const lowBattery = onBattery && (charge < LOW_CHARGE_PCT || runtime < LOW_RUNTIME_S);
  const data: UpsData = {
    manufacturer: SIM_MANUFACTURER,
    model: c.model,
    serial_number: c.serial,
    firmware: SIM_FIRMWARE,

    online: isOnline(s),
    on_battery: onBattery,
    low_battery: lowBattery,
    replace_battery: false,
    overload: load > 100,
    charging: isCharging(s),
    discharging: onBattery,
    calibrating: s.test?.kind === 'calibration',
    output_off: !outputOn,
    test_in_progress: onBattery && s.test !== null,

    battery_charge_pct: charge,
    runtime_s: runtime,
    load_pct: load,
    load_apparent_pct: round((loadW / LOAD_POWER_FACTOR / c.nominalApparentVa) * 100, 1),
    load_w: round(loadW, 1),
    input_voltage_v: round(s.inputVoltageV, 1),
    input_voltage_nominal_v: c.mains,
    input_frequency_hz: s.mainsPresent ? frequency : 0,
    output_voltage_v: outputV,
    output_voltage_nominal_v: c.mains,
    output_frequency_hz: outputOn ? frequency : 0,
    output_current_a: outputOn ? round(loadW / LOAD_POWER_FACTOR / c.mains, 2) : 0,
    battery_voltage_v: round(batteryVoltage(c, s.chargePct, load, onBattery), 1),
    battery_voltage_nominal_v: c.batteryNominalV,
    internal_temp_c: round(s.tempC, 1),
    nominal_power_w: c.nominalPowerW,
    nominal_apparent_power_va: c.nominalApparentVa,
    transfers: s.transfers,
    time_on_battery_s: Math.floor(s.onBatteryMs / 1000),
    cumulative_on_battery_s: Math.floor(s.cumulativeOnBatteryMs / 1000),

    transfer_low_v: transfer.low,
    transfer_high_v: transfer.high,
    sensitivity: 'high',
    shutdown_delay_s: SHUTDOWN_DELAY_S,
    wake_delay_s: WAKE_DELAY_S,
    low_battery_warning_s: LOW_RUNTIME_S,
    restart_charge_pct: RESTART_CHARGE_PCT,
    alarm_mode: s.beeper,

    last_transfer_reason: s.lastTransferReason,
    self_test_result: s.selfTestResult,
  };
  if (s.lastSelfTestAt !== null) data.last_self_test_at = s.lastSelfTestAt;
  if (s.lastOnBatteryAt !== null) data.last_on_battery_at = s.lastOnBatteryAt;
  if (s.lastOffBatteryAt !== null) data.last_off_battery_at = s.lastOffBatteryAt;
  return data;
}
