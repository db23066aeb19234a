import type { NisRecord } from './parse.ts';

/**
 * Voltages apcupsd prints as `-1` until it has read them from the UPS: no UPS can have a
 * negative transfer or nominal voltage.
 */
const UNREAD_WHEN_NEGATIVE: ReadonlySet<string> = new Set(['LOTRANS', 'HITRANS', 'NOMOUTV']);

/**
 * Why a `status` reply is one of apcupsd's start-up placeholders rather than a reading, or
 * undefined for a reading (docs/protocols/nis.md#status-fields). For about a second after it
 * starts, apcupsd answers:
 *
 * 1. with an empty STATUS (and few fields);
 * 2. then, for some tens of ms (3.14.14, Smart driver, on every restart), with `ONLINE
 *    REPLACEBATT` over values it has not read: 0 V, 0 %, `-1` settings, a blank MODEL;
 * 3. then, as briefly, the same with the settings read but the values still 0 and MODEL
 *    still blank.
 *
 * apcupsd prints MODEL only for a UPS that has one, so a blank MODEL means "not read yet";
 * it counts together with a charge of 0 %, so that a UPS that reports a blank model
 * (possible over USB) is still read. Published, any of these would read as "off mains" or
 * "replace battery, 0 % charge" and could trigger an automation.
 */
export function startupPlaceholder(records: readonly NisRecord[]): string | undefined {
  let status: string | undefined;
  let model: string | undefined;
  let charge: string | undefined;
  for (const r of records) {
    if (r.key === 'STATUS') status = r.value;
    else if (r.key === 'MODEL') model = r.value;
    else if (r.key === 'BCHARGE') charge = r.value;
    else if (UNREAD_WHEN_NEGATIVE.has(r.key) && r.value.startsWith('-')) return `${r.key} -1`;
  }
  if (status === undefined || status.trim() === '') return 'empty STATUS';
  if (model?.trim() === '' && charge !== undefined && Number.parseFloat(charge) === 0) {
    return 'blank MODEL, 0 % charge';
  }
  return undefined;
}
