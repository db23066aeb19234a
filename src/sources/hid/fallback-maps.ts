/**
 * Built-in report maps for known APC models, used only when the report descriptor cannot be
 * read (node-hid has no descriptor call; Linux sysfs provides it, other systems do not:
 * docs/protocols/hid.md#descriptors-and-reports). Report numbering differs between models (docs/protocols/hid.md#worked-example), so each map keeps to
 * the rows that the captured descriptors and apcupsd's report dumps of that family agree
 * on; test/unit/hid/fallback-maps.test.ts checks every row against them.
 */

import type { HidField, ParsedDescriptor, ReportKind } from './descriptor/parser.ts';
import { reportKey } from './descriptor/parser.ts';
import type { HidDeviceInfo } from './transport.ts';
import { UNIT_AMPERE, UNIT_HERTZ, UNIT_KELVIN, UNIT_SECOND, UNIT_VOLT } from './units.ts';

/** [path, reportId, bitOffset, bitSize, unit, exponent, logicalMin, logicalMax, alsoInput]. */
type Row = [string, number, number, number, number, number, number, number, boolean?];

/** One built-in map. */
export interface FallbackMap {
  id: string;
  /** Matches the device (vendor, product id and USB product string). */
  matches(device: Pick<HidDeviceInfo, 'vendorId' | 'productId' | 'product'>): boolean;
  rows: readonly Row[];
}

const S = UNIT_SECOND;
const V = UNIT_VOLT;
const PS = 'UPS.PowerSummary';
const STATUS = `${PS}.PresentStatus`;
const U16 = 65535;

/**
 * Classic Back-UPS layout (ES/XS/RS/BR on PID 0002): the Back-UPS ES 850G2, XS 1400U and
 * RS 1000G descriptors and the Back-UPS ES 550 report dump agree on these rows. The
 * PresentStatus bits beyond bit 6 and the APCStatusFlag position differ between them, so
 * they are left out.
 */
const BACK_UPS: Row[] = [
  [`${STATUS}.Charging`, 0x16, 0, 1, 0, 0, 0, 1, true],
  [`${STATUS}.Discharging`, 0x16, 1, 1, 0, 0, 0, 1, true],
  [`${STATUS}.ACPresent`, 0x16, 2, 1, 0, 0, 0, 1, true],
  [`${STATUS}.BatteryPresent`, 0x16, 3, 1, 0, 0, 0, 1, true],
  [`${STATUS}.BelowRemainingCapacityLimit`, 0x16, 4, 1, 0, 0, 0, 1, true],
  [`${STATUS}.ShutdownImminent`, 0x16, 5, 1, 0, 0, 0, 1, true],
  [`${STATUS}.RemainingTimeLimitExpired`, 0x16, 6, 1, 0, 0, 0, 1, true],
  [`${PS}.RemainingCapacity`, 0x0c, 0, 8, 0, 0, 0, 100, true],
  [`${PS}.RunTimeToEmpty`, 0x0c, 8, 16, S, 0, 0, U16, true],
  [`${PS}.RemainingTimeLimit`, 0x17, 0, 16, S, 0, 0, U16],
  [`${PS}.AudibleAlarmControl`, 0x18, 0, 8, 0, 0, 1, 3],
  ['UPS.Battery.ManufacturerDate', 0x20, 0, 16, 0, 0, 0, U16],
  ['UPS.Battery.ConfigVoltage', 0x25, 0, 16, V, 5, 0, U16],
  ['UPS.Battery.Voltage', 0x26, 0, 16, V, 5, 0, U16],
  ['UPS.Input.ConfigVoltage', 0x30, 0, 8, V, 7, 0, 255],
  ['UPS.Input.Voltage', 0x31, 0, 16, V, 7, 0, U16],
  ['UPS.Input.LowVoltageTransfer', 0x32, 0, 16, V, 7, 0, U16],
  ['UPS.Input.HighVoltageTransfer', 0x33, 0, 16, V, 7, 0, U16],
  ['UPS.Input.APCSensitivity', 0x35, 0, 8, 0, 0, 0, 2],
  ['UPS.Input.APCLineFailCause', 0x36, 0, 8, 0, 0, 0, 13],
  ['UPS.APCGeneralCollection.APCDelayBeforeShutdown', 0x41, 0, 16, S, 0, -1, 32767],
  ['UPS.PowerConverter.PercentLoad', 0x50, 0, 8, 0, 0, 0, 100],
];

/**
 * Smart-UPS with a HID interface on PID 0002 (SUA…, FW 6xx): the Smart-UPS 1500 RM
 * descriptor and the Smart-UPS 1500 (FW 601.3.D) report dump share this numbering.
 */
const SMART_UPS: Row[] = [
  [`${STATUS}.Charging`, 0x07, 0, 1, 0, 0, 0, 1, true],
  [`${STATUS}.Discharging`, 0x07, 1, 1, 0, 0, 0, 1, true],
  [`${STATUS}.ACPresent`, 0x07, 2, 1, 0, 0, 0, 1, true],
  [`${STATUS}.BatteryPresent`, 0x07, 3, 1, 0, 0, 0, 1, true],
  [`${STATUS}.BelowRemainingCapacityLimit`, 0x07, 4, 1, 0, 0, 0, 1, true],
  [`${STATUS}.ShutdownRequested`, 0x07, 5, 1, 0, 0, 0, 1, true],
  [`${STATUS}.ShutdownImminent`, 0x07, 6, 1, 0, 0, 0, 1, true],
  [`${STATUS}.RemainingTimeLimitExpired`, 0x07, 7, 1, 0, 0, 0, 1, true],
  [`${STATUS}.CommunicationLost`, 0x07, 8, 1, 0, 0, 0, 1, true],
  [`${STATUS}.NeedReplacement`, 0x07, 9, 1, 0, 0, 0, 1, true],
  [`${STATUS}.Overload`, 0x07, 10, 1, 0, 0, 0, 1, true],
  [`${PS}.RemainingCapacity`, 0x0c, 0, 8, 0, 0, 0, 100, true],
  [`${PS}.RunTimeToEmpty`, 0x0d, 0, 16, S, 0, 0, U16, true],
  [`${PS}.AudibleAlarmControl`, 0x14, 0, 8, 0, 0, 1, 3, true],
  ['UPS.Battery.ManufacturerDate', 0x15, 0, 16, 0, 0, 0, U16, true],
  ['UPS.Battery.Test', 0x16, 0, 8, 0, 0, 0, 6, true],
  ['UPS.Battery.APCBattCapBeforeStartup', 0x17, 0, 8, 0, 0, 0, 90, true],
  ['UPS.Battery.Voltage', 0x1d, 0, 16, V, 5, 0, U16],
  ['UPS.Battery.Temperature', 0x1e, 0, 16, UNIT_KELVIN, -1, 0, U16],
  ['UPS.Battery.ConfigVoltage', 0x1f, 0, 16, V, 5, 0, U16],
  ['UPS.Input.Voltage', 0x20, 0, 16, V, 6, 0, U16],
  ['UPS.Input.APCLineFailCause', 0x21, 0, 8, 0, 0, 0, 10, true],
  ['UPS.Input.APCSensitivity', 0x22, 0, 8, 0, 0, 0, 2, true],
  ['UPS.Output.HighVoltageTransfer', 0x23, 0, 16, V, 7, 0, U16, true],
  ['UPS.Output.LowVoltageTransfer', 0x24, 0, 16, V, 7, 0, U16, true],
  ['UPS.Output.APCDelayBeforeStartup', 0x25, 0, 16, S, 0, 0, U16, true],
  ['UPS.Output.APCShutdownAfterDelay', 0x26, 0, 16, S, 0, 0, U16, true],
  ['UPS.Output.DelayBeforeShutdown', 0x27, 0, 16, S, 0, -1, 32767],
  ['UPS.Output.DelayBeforeStartup', 0x28, 0, 16, S, 0, -1, 32767],
  ['UPS.Output.Frequency', 0x2a, 0, 16, UNIT_HERTZ, -2, 0, U16],
  ['UPS.Output.Voltage', 0x2b, 0, 16, V, 6, 0, U16],
  ['UPS.Output.PercentLoad', 0x2c, 0, 16, 0, -1, 0, U16],
  ['UPS.Output.ConfigVoltage', 0x2d, 0, 16, V, 7, 0, U16, true],
  ['UPS.Output.Current', 0x40, 0, 16, UNIT_AMPERE, -2, 0, U16],
];

const APC = 0x051d;
const product = (d: Pick<HidDeviceInfo, 'product'>): string => d.product?.trim() ?? '';

/** Every built-in map, tried in order. */
export const FALLBACK_MAPS: readonly FallbackMap[] = [
  {
    id: 'apc-back-ups',
    matches: (d) => d.vendorId === APC && d.productId === 0x0002 && /^Back-?UPS/i.test(product(d)),
    rows: BACK_UPS,
  },
  {
    id: 'apc-smart-ups-0002',
    matches: (d) => d.vendorId === APC && d.productId === 0x0002 && /^Smart-UPS/i.test(product(d)),
    rows: SMART_UPS,
  },
];

/** The built-in map for a device, if any. */
export function fallbackMapFor(
  device: Pick<HidDeviceInfo, 'vendorId' | 'productId' | 'product'>,
): FallbackMap | undefined {
  return FALLBACK_MAPS.find((m) => m.matches(device));
}

function rowField(row: Row, kind: ReportKind): HidField {
  const [path, reportId, bitOffset, bitSize, unit, unitExponent, logicalMin, logicalMax] = row;
  return {
    kind,
    reportId,
    bitOffset,
    bitSize,
    usage: 0,
    path,
    collections: [],
    logicalMin,
    logicalMax,
    physicalMin: 0,
    physicalMax: 0,
    unit,
    unitExponent,
    signed: logicalMin < 0,
    constant: false,
    variable: true,
  };
}

/**
 * A descriptor-shaped view of a built-in map. Report lengths are the known fields' extent:
 * the real reports may be longer, so GETs on such a map ask for a full-size buffer.
 */
export function fallbackDescriptor(map: FallbackMap): ParsedDescriptor {
  const fields: HidField[] = [];
  const reportBytes = new Map<string, number>();
  for (const row of map.rows) {
    const kinds: ReportKind[] = row[8] ? ['input', 'feature'] : ['feature'];
    for (const kind of kinds) {
      const field = rowField(row, kind);
      fields.push(field);
      const key = reportKey(kind, field.reportId);
      const bytes = Math.ceil((field.bitOffset + field.bitSize) / 8);
      reportBytes.set(key, Math.max(reportBytes.get(key) ?? 0, bytes));
    }
  }
  return {
    fields,
    reportBytes,
    applications: [0x00840004],
    usesReportIds: true,
    collectionCount: 0,
    byteLength: 0,
  };
}
