/**
 * Enumerated HID values → the normalized model's words. Pure lookups (docs/protocols/hid.md#usages,
 * docs/protocols/hid.md#worked-example, docs/mqtt.md#keys).
 */

import type { SelfTestResult, Sensitivity } from '../../core/state.ts';

/**
 * `Test` (84:58) as read back: 1 passed · 2 warning · 3 error · 4 aborted · 5 in progress ·
 * 6 no test initiated; 7 "scheduled" (NUT) has no word in the model.
 */
export function selfTestResult(code: number): SelfTestResult {
  switch (code) {
    case 0:
    case 6:
      return 'none';
    case 1:
      return 'passed';
    case 2:
      return 'warning';
    case 3:
      return 'failed';
    case 4:
      return 'aborted';
    case 5:
      return 'in_progress';
    default:
      return 'other';
  }
}

/** `Test` value that means a test is running. */
export const TEST_IN_PROGRESS = 5;

/**
 * APCSensitivity (FF86:61): 0 low · 1 medium · 2 high (NUT apc_sensitivity_info); any other
 * code is no value.
 */
export function sensitivity(code: number): Sensitivity | undefined {
  return code === 0 ? 'low' : code === 1 ? 'medium' : code === 2 ? 'high' : undefined;
}

/** AudibleAlarmControl (84:5A): 1 disabled · 2 enabled · 3 muted (temporarily). */
export function beeperWord(code: number): string | undefined {
  return code === 1 ? 'disabled' : code === 2 ? 'enabled' : code === 3 ? 'muted' : undefined;
}

/** APCLineFailCause (FF86:52), last transfer cause as apcupsd words it (docs/protocols/hid.md#usages). */
const LINE_FAIL_CAUSES: Record<number, string> = {
  0: 'No transfers since turnon',
  1: 'Low line voltage',
  2: 'High line voltage',
  3: 'Unacceptable line voltage changes',
  4: 'Line voltage notch or spike',
  5: 'Automatic or explicit self test',
  6: 'Forced by software',
  7: 'Input frequency out of range',
  8: 'Notch or blackout',
  9: 'Spike or blackout',
  10: 'Graceful shutdown by accessory',
  11: 'Self test via the Test usage',
  12: 'Self test from the front button',
  13: 'Automatic 14-day self test',
};

/** The last transfer cause in words; unknown codes keep their number. */
export function lineFailCause(code: number): string {
  return LINE_FAIL_CAUSES[code] ?? `Unknown cause ${code}`;
}

/**
 * HID ManufactureDate (85:85): (year − 1980) × 512 + month × 32 + day, e.g. 13692 is
 * 2006-11-28 (docs/protocols/hid.md#worked-example). Zero or an impossible month/day means "not set".
 */
export function hidDate(value: number): string | undefined {
  if (!Number.isInteger(value) || value <= 0) return undefined;
  const year = 1980 + Math.floor(value / 512);
  const month = Math.floor(value / 32) % 16;
  const day = value % 32;
  return isoDate(year, month, day);
}

/**
 * APCBattReplaceDate (FF86:16): BCD digits month (bits 16–23), day (8–15), year (0–7);
 * `0x102202` is 2002-10-22. Years ≥ 70 are 19xx, as NUT's apc_date_conversion does.
 */
export function apcBcdDate(value: number): string | undefined {
  if (!Number.isInteger(value) || value <= 0) return undefined;
  const bcd = (byte: number): number => (byte >> 4) * 10 + (byte & 0x0f);
  const yy = bcd(value & 0xff);
  const day = bcd((value >> 8) & 0xff);
  const month = bcd((value >> 16) & 0xff);
  return isoDate(yy >= 70 ? 1900 + yy : 2000 + yy, month, day);
}

function isoDate(year: number, month: number, day: number): string | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}
