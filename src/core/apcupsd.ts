/**
 * apcupsd's vocabulary, shared by the NIS source (reading apcupsd) and the NIS server
 * (speaking as apcupsd): STATFLAG bits with their STATUS words, and the value words of
 * SENSE and SELFTEST. Pure data. Facts from apcupsd 3.14.14 (`include/defines.h`,
 * `src/lib/apcstatus.c`); see docs/nis-server.md.
 */
import type { SelfTestResult, Sensitivity, UpsFlags } from './state.ts';

/** A flag that apcupsd carries as one STATFLAG bit and one STATUS word. */
export type ApcupsdBitFlag = keyof Pick<
  UpsFlags,
  | 'calibrating'
  | 'trim'
  | 'boost'
  | 'online'
  | 'on_battery'
  | 'overload'
  | 'low_battery'
  | 'replace_battery'
  | 'comm_lost'
  | 'shutting_down'
>;

/**
 * STATFLAG bits and the STATUS word apcupsd prints for each, in the order it prints them
 * (`CAL TRIM BOOST ONLINE ONBATT OVERLOAD LOWBATT REPLACEBATT`; `COMMLOST` and
 * `SHUTTING DOWN` replace the whole string).
 */
export const APCUPSD_FLAG_BITS: readonly (readonly [ApcupsdBitFlag, number, string])[] = [
  ['calibrating', 0x1, 'CAL'],
  ['trim', 0x2, 'TRIM'],
  ['boost', 0x4, 'BOOST'],
  ['online', 0x8, 'ONLINE'],
  ['on_battery', 0x10, 'ONBATT'],
  ['overload', 0x20, 'OVERLOAD'],
  ['low_battery', 0x40, 'LOWBATT'],
  ['replace_battery', 0x80, 'REPLACEBATT'],
  ['comm_lost', 0x100, 'COMMLOST'],
  ['shutting_down', 0x200, 'SHUTTING DOWN'],
];

/** STATFLAG bit: the host is powered by this UPS (set by apcupsd on every standalone UPS). */
export const APCUPSD_PLUGGED_BIT = 0x01000000;
/** STATFLAG bit: battery present; clear means STATUS shows `NOBATT` (3.14.14). */
export const APCUPSD_BATTPRESENT_BIT = 0x04000000;

/** STATFLAG bit: apcupsd has announced the transfer to battery. */
export const APCUPSD_ONBATT_MSG_BIT = 0x00020000;
/** STATFLAG bit: apcupsd polls fast during a power failure (a slave copies it and follows). */
export const APCUPSD_FASTPOLL_BIT = 0x00040000;

/** SENSE values (upper case, single spaces) → sensitivity. */
export const APCUPSD_SENSITIVITY: Readonly<Record<string, Sensitivity>> = {
  'AUTO ADJUST': 'auto',
  LOW: 'low',
  MEDIUM: 'medium',
  HIGH: 'high',
};

/** Sensitivity → the SENSE text apcupsd prints. */
export const APCUPSD_SENSE_TEXT: Readonly<Record<Sensitivity, string>> = {
  auto: 'Auto Adjust',
  low: 'Low',
  medium: 'Medium',
  high: 'High',
};

/**
 * SELFTEST codes → result. `??` (apcupsd does not know) is not here: it is no value, never a
 * result (docs/protocols/nis.md#status-fields).
 */
export const APCUPSD_SELF_TEST: Readonly<Record<string, SelfTestResult>> = {
  NO: 'none',
  OK: 'passed',
  BT: 'failed_capacity',
  NG: 'failed_load',
  WN: 'warning',
  IP: 'in_progress',
};

/**
 * Result → the SELFTEST code apcupsd prints. apcupsd has one code for every failure that
 * is not the battery's capacity (`NG`) and none for an aborted test (left out).
 */
export const APCUPSD_SELF_TEST_CODE: Readonly<Record<SelfTestResult, string | undefined>> = {
  none: 'NO',
  passed: 'OK',
  failed_capacity: 'BT',
  failed_load: 'NG',
  failed: 'NG',
  warning: 'WN',
  in_progress: 'IP',
  // A code outside apcupsd's list: the raw code is printed instead (src/servers/nis/format.ts).
  other: '??',
  aborted: undefined,
};
