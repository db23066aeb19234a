/**
 * Usage names for the HID Power Device pages (USB-IF "Usage Tables for HID Power Devices"
 * 1.0: page 0x84 Power Device, 0x85 Battery System) and the APC vendor page 0xFF86.
 *
 * Names follow NUT's spelling (e.g. `ManufacturerDate` for 85:85, `APCDelayBeforeReboot`
 * for FF86:7C) so that a path such as `UPS.PowerSummary.RemainingCapacity` reads the same
 * as in a NUT debug log and in the fixtures' `decodedPaths` (docs/protocols/hid.md#usages). Unknown
 * usages print as 8 hex digits, as NUT does (`ff860024`).
 */

/** Power Device usage page. */
export const PAGE_POWER_DEVICE = 0x84;
/** Battery System usage page. */
export const PAGE_BATTERY_SYSTEM = 0x85;
/** APC's vendor page. */
export const PAGE_APC = 0xff86;
/** HID Ordinal page: collections numbered `[1]`, `[2]`… (Eaton/MGE flows and outlets). */
export const PAGE_ORDINAL = 0x0a;

/** A 32-bit usage: page in the high half, id in the low half. */
export function usage(page: number, id: number): number {
  return page * 0x10000 + id;
}

/** The page half of a 32-bit usage. */
export function usagePage(u: number): number {
  return Math.floor(u / 0x10000);
}

/** The id half of a 32-bit usage. */
export function usageId(u: number): number {
  return u % 0x10000;
}

const POWER_DEVICE: Record<number, string> = {
  1: 'iName',
  2: 'PresentStatus',
  3: 'ChangedStatus',
  4: 'UPS',
  5: 'PowerSupply',
  16: 'BatterySystem',
  17: 'BatterySystemID',
  18: 'Battery',
  19: 'BatteryID',
  20: 'Charger',
  21: 'ChargerID',
  22: 'PowerConverter',
  23: 'PowerConverterID',
  24: 'OutletSystem',
  25: 'OutletSystemID',
  26: 'Input',
  27: 'InputID',
  28: 'Output',
  29: 'OutputID',
  30: 'Flow',
  31: 'FlowID',
  32: 'Outlet',
  33: 'OutletID',
  34: 'Gang',
  35: 'GangID',
  36: 'PowerSummary',
  37: 'PowerSummaryID',
  48: 'Voltage',
  49: 'Current',
  50: 'Frequency',
  51: 'ApparentPower',
  52: 'ActivePower',
  53: 'PercentLoad',
  54: 'Temperature',
  55: 'Humidity',
  56: 'BadCount',
  64: 'ConfigVoltage',
  65: 'ConfigCurrent',
  66: 'ConfigFrequency',
  67: 'ConfigApparentPower',
  68: 'ConfigActivePower',
  69: 'ConfigPercentLoad',
  70: 'ConfigTemperature',
  71: 'ConfigHumidity',
  80: 'SwitchOnControl',
  81: 'SwitchOffControl',
  82: 'ToggleControl',
  83: 'LowVoltageTransfer',
  84: 'HighVoltageTransfer',
  85: 'DelayBeforeReboot',
  86: 'DelayBeforeStartup',
  87: 'DelayBeforeShutdown',
  88: 'Test',
  89: 'ModuleReset',
  90: 'AudibleAlarmControl',
  96: 'Present',
  97: 'Good',
  98: 'InternalFailure',
  99: 'VoltageOutOfRange',
  100: 'FrequencyOutOfRange',
  101: 'Overload',
  102: 'OverCharged',
  103: 'OverTemperature',
  104: 'ShutdownRequested',
  105: 'ShutdownImminent',
  107: 'SwitchOnOff',
  108: 'Switchable',
  109: 'Used',
  110: 'Boost',
  111: 'Buck',
  112: 'Initialized',
  113: 'Tested',
  114: 'AwaitingPower',
  115: 'CommunicationLost',
  253: 'iManufacturer',
  254: 'iProduct',
  255: 'iSerialNumber',
};

const BATTERY_SYSTEM: Record<number, string> = {
  1: 'SMBBatteryMode',
  2: 'SMBBatteryStatus',
  3: 'SMBAlarmWarning',
  4: 'SMBChargerMode',
  5: 'SMBChargerStatus',
  6: 'SMBChargerSpecInfo',
  7: 'SMBSelectorState',
  8: 'SMBSelectorPresets',
  9: 'SMBSelectorInfo',
  40: 'ManufacturerAccess',
  41: 'RemainingCapacityLimit',
  42: 'RemainingTimeLimit',
  43: 'AtRate',
  44: 'CapacityMode',
  45: 'BroadcastToCharger',
  46: 'PrimaryBattery',
  47: 'ChargeController',
  64: 'TerminateCharge',
  65: 'TerminateDischarge',
  66: 'BelowRemainingCapacityLimit',
  67: 'RemainingTimeLimitExpired',
  68: 'Charging',
  69: 'Discharging',
  70: 'FullyCharged',
  71: 'FullyDischarged',
  72: 'ConditioningFlag',
  73: 'AtRateOK',
  74: 'SMBErrorCode',
  75: 'NeedReplacement',
  96: 'AtRateTimeToFull',
  97: 'AtRateTimeToEmpty',
  98: 'AverageCurrent',
  99: 'MaxError',
  100: 'RelativeStateOfCharge',
  101: 'AbsoluteStateOfCharge',
  102: 'RemainingCapacity',
  103: 'FullChargeCapacity',
  104: 'RunTimeToEmpty',
  105: 'AverageTimeToEmpty',
  106: 'AverageTimeToFull',
  107: 'CycleCount',
  128: 'BattPackModelLevel',
  129: 'InternalChargeController',
  130: 'PrimaryBatterySupport',
  131: 'DesignCapacity',
  132: 'SpecificationInfo',
  133: 'ManufacturerDate',
  134: 'SerialNumber',
  135: 'iManufacturerName',
  136: 'iDeviceName',
  137: 'iDeviceChemistry',
  138: 'ManufacturerData',
  139: 'Rechargeable',
  140: 'WarningCapacityLimit',
  141: 'CapacityGranularity1',
  142: 'CapacityGranularity2',
  143: 'iOEMInformation',
  192: 'InhibitCharge',
  193: 'EnablePolling',
  194: 'ResetToZero',
  208: 'ACPresent',
  209: 'BatteryPresent',
  210: 'PowerFail',
  211: 'AlarmInhibited',
  212: 'ThermistorUnderRange',
  213: 'ThermistorHot',
  214: 'ThermistorCold',
  215: 'ThermistorOverRange',
  216: 'VoltageOutOfRange',
  217: 'CurrentOutOfRange',
  218: 'CurrentNotRegulated',
  219: 'VoltageNotRegulated',
  220: 'MasterMode',
};

/**
 * APC vendor usages (docs/protocols/hid.md#usages; names as NUT's drivers/apc-hid.c spells them, whose
 * semantics apcupsd and NUT reverse-engineered). FF86:7C is `APCDelayBeforeReboot` in NUT
 * and `APCForceShutdown` in apcupsd; NUT's name is kept so paths match NUT logs.
 */
const APC: Record<number, string> = {
  5: 'APCGeneralCollection',
  6: 'APCEnvironment',
  7: 'APCProbe1',
  8: 'APCProbe2',
  22: 'APCBattReplaceDate',
  25: 'APCBattCapBeforeStartup',
  66: 'APC_UPS_FirmwareRevision',
  82: 'APCLineFailCause',
  96: 'APCStatusFlag',
  97: 'APCSensitivity',
  114: 'APCPanelTest',
  118: 'APCShutdownAfterDelay',
  121: 'APC_USB_FirmwareRevision',
  124: 'APCDelayBeforeReboot',
  125: 'APCDelayBeforeShutdown',
  126: 'APCDelayBeforeStartup',
};

const PAGES: Record<number, Record<number, string>> = {
  [PAGE_POWER_DEVICE]: POWER_DEVICE,
  [PAGE_BATTERY_SYSTEM]: BATTERY_SYSTEM,
  [PAGE_APC]: APC,
};

/** The usage's name, or its 8-digit hex form when unknown (`ff860024`). */
export function usageName(u: number): string {
  const name = PAGES[usagePage(u)]?.[usageId(u)];
  return name ?? u.toString(16).padStart(8, '0');
}
