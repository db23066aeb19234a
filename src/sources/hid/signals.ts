/**
 * The values the mapping uses ("signals"), each with the path patterns that carry it in
 * priority order (docs/protocols/hid.md#usages and #mapping-to-the-state, NUT's drivers/apc-hid.c table for
 * the order) and whether it changes while the UPS runs. Volatile signals are polled every
 * read; static ones (nominal values, transfer points, dates) at open and now and then.
 */

import type { PathPattern } from './report-map.ts';

interface SignalSpec {
  patterns: readonly PathPattern[];
  volatile: boolean;
}

const v = (...patterns: PathPattern[]): SignalSpec => ({ patterns, volatile: true });
const s = (...patterns: PathPattern[]): SignalSpec => ({ patterns, volatile: false });

/** Status booleans are in PresentStatus on most units, directly in PowerSummary on Back-UPS. */
const status = (name: string): SignalSpec =>
  v(`PowerSummary.PresentStatus.${name}`, `PresentStatus.${name}`, `PowerSummary.${name}`, name);

/** Every signal with its path patterns, best first. */
export const SIGNALS = {
  acPresent: status('ACPresent'),
  discharging: status('Discharging'),
  charging: status('Charging'),
  belowCapacityLimit: status('BelowRemainingCapacityLimit'),
  shutdownImminent: status('ShutdownImminent'),
  timeLimitExpired: status('RemainingTimeLimitExpired'),
  needReplacement: status('NeedReplacement'),
  overload: status('Overload'),
  boost: status('Boost'),
  buck: status('Buck'),
  batteryPresent: status('BatteryPresent'),
  commLost: v('PowerSummary.PresentStatus.CommunicationLost', 'PresentStatus.CommunicationLost'),
  apcStatusFlag: v('PowerSummary.APCStatusFlag', 'APCStatusFlag'),
  // NUT looks for Test under UPS.BatterySystem.Battery and UPS.Battery (docs/protocols/hid.md#commands); CyberPower
  // declares it under Output.
  test: v('Battery.Test', 'Output.Test', 'PowerSummary.Test'),
  charge: v('PowerSummary.RemainingCapacity', 'Battery.RemainingCapacity'),
  capacityMode: s('PowerSummary.CapacityMode', 'Battery.CapacityMode'),
  fullChargeCapacity: s('PowerSummary.FullChargeCapacity', 'Battery.FullChargeCapacity'),
  runtime: v('PowerSummary.RunTimeToEmpty', 'Battery.RunTimeToEmpty'),
  batteryVoltage: v('Battery.Voltage', 'PowerSummary.Voltage'),
  inputVoltage: v('Input.Voltage'),
  inputFrequency: v('Input.Frequency'),
  outputVoltage: v('Output.Voltage'),
  outputFrequency: v('Output.Frequency'),
  outputCurrent: v('Output.Current'),
  load: v('Output.PercentLoad', 'PowerConverter.PercentLoad', 'PowerSummary.PercentLoad'),
  batteryTemperature: v('Battery.Temperature', 'PowerSummary.Temperature'),
  ambientTemperature: v('APCProbe1.Temperature'),
  ambientHumidity: v('APCProbe1.Humidity'),
  lineFailCause: v('APCLineFailCause'),
  audibleAlarm: v('PowerSummary.AudibleAlarmControl', 'AudibleAlarmControl'),
  batteryVoltageNominal: s('Battery.ConfigVoltage', 'PowerSummary.ConfigVoltage'),
  inputVoltageNominal: s('Input.ConfigVoltage'),
  outputVoltageNominal: s('Output.ConfigVoltage'),
  nominalPower: s('ConfigActivePower'),
  nominalApparentPower: s('ConfigApparentPower'),
  transferLow: s('Input.LowVoltageTransfer', 'Output.LowVoltageTransfer', 'LowVoltageTransfer'),
  transferHigh: s('Input.HighVoltageTransfer', 'Output.HighVoltageTransfer', 'HighVoltageTransfer'),
  sensitivity: s('APCSensitivity'),
  runtimeLimit: s('PowerSummary.RemainingTimeLimit', 'Battery.RemainingTimeLimit'),
  restartCharge: s('APCBattCapBeforeStartup'),
  shutdownAfterDelay: s('APCShutdownAfterDelay'),
  wakeDelay: s('APCDelayBeforeStartup'),
  manufactureDate: s('UPS.ManufacturerDate', 'UPS.PowerSummary.ManufacturerDate'),
  batteryManufactureDate: s('Battery.ManufacturerDate'),
  batteryReplaceDate: s('Battery.APCBattReplaceDate', 'PowerSummary.APCBattReplaceDate'),
} as const satisfies Record<string, SignalSpec>;

/** A signal name. */
export type SignalName = keyof typeof SIGNALS;

/** The signal names, in table order. */
export const SIGNAL_NAMES = Object.keys(SIGNALS) as SignalName[];
