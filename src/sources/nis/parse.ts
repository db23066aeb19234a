/**
 * Parsing of apcupsd `status` lines and of the value formats inside them (docs/protocols/nis.md#records-and-parsing).
 * Pure and tolerant of content: nothing here throws on odd input.
 */

/** One `KEY : value` record, in the order the server sent it. */
export interface NisRecord {
  /** Upper case, inner spaces kept (`END APC`). */
  key: string;
  /** Trimmed; may be empty. */
  value: string;
}

/** Trims blanks and NULs: USB string values can carry both (docs/protocols/nis.md#records-and-parsing, HID string descriptors). */
export function trimNis(text: string): string {
  // String.prototype.trim removes exactly the blanks `\s` matches; NULs are rare, so the
  // regular expression (slow on long values: it retries at every inner blank) only runs
  // when one is left at an end.
  const trimmed = text.trim();
  if (!trimmed.startsWith('\0') && !trimmed.endsWith('\0')) return trimmed;
  return trimmed.replace(/^[\s\0]+|[\s\0]+$/g, '');
}

/**
 * Splits status lines into records: at the first colon (values contain colons, e.g. times),
 * both sides trimmed. Blank and colon-less lines are skipped and described in `warnings`
 * when a sink is given (they never fail the poll, docs/protocols/nis.md#records-and-parsing).
 */
export function parseStatusLines(lines: readonly string[], warnings?: string[]): NisRecord[] {
  const records: NisRecord[] = [];
  lines.forEach((line, index) => {
    const colon = line.indexOf(':');
    const key = colon < 0 ? '' : trimNis(line.slice(0, colon)).toUpperCase();
    if (key === '') {
      warnings?.push(
        trimNis(line) === ''
          ? `status line ${index + 1} is blank`
          : `status line ${index + 1} has no "KEY :" prefix: ${JSON.stringify(line)}`,
      );
      return;
    }
    records.push({ key, value: trimNis(line.slice(colon + 1)) });
  });
  return records;
}

/** A decimal number at the start, followed by a blank or the end. */
const NIS_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:\s|$)/;

/**
 * Parses a number the way apcupsd writes them: the first token of the value, with optional
 * leading blanks and zeros (`  24.0 Percent Load Capacity`, `097.0 Volts`). `N/A` and
 * anything not numeric give undefined.
 */
export function parseNisNumber(text: string): number | undefined {
  const trimmed = trimNis(text);
  // The first token is a plain decimal (nothing glued to it, e.g. no `1e3` or `12.5.3`), so
  // parseFloat reads exactly that token: no split into an array on every value of every poll.
  if (!NIS_NUMBER.test(trimmed)) return undefined;
  const value = Number.parseFloat(trimmed);
  return Number.isFinite(value) ? value : undefined;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * Offsets (minutes east of UTC) of the zone abbreviations pre-3.14.8 apcupsd printed through
 * ctime-style `%Z`. Ambiguous abbreviations take their most common meaning in apcupsd's
 * user base (CST = US Central, IST left out: India, Ireland and Israel all use it).
 */
const ZONE_OFFSETS: Readonly<Record<string, number>> = {
  UTC: 0,
  UT: 0,
  GMT: 0,
  Z: 0,
  WET: 0,
  WEST: 60,
  BST: 60,
  CET: 60,
  MET: 60,
  CEST: 120,
  MEST: 120,
  EET: 120,
  EEST: 180,
  MSK: 180,
  EST: -300,
  EDT: -240,
  CST: -360,
  CDT: -300,
  MST: -420,
  MDT: -360,
  PST: -480,
  PDT: -420,
  AKST: -540,
  AKDT: -480,
  HST: -600,
  JST: 540,
  KST: 540,
  AWST: 480,
  ACST: 570,
  ACDT: 630,
  AEST: 600,
  AEDT: 660,
  NZST: 720,
  NZDT: 780,
};

/** `2024-03-02 14:05:11 +0100` (3.14.8+). The sign is optional: Home Assistant's fixture drops it. */
const ISO_LIKE =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})\s*(?:(Z)|([+-]?)(\d{2}):?(\d{2}))$/i;

/** `Sun Jun 05 21:20:37 PDT 2005` (ctime with a zone, apcupsd ≤ 3.14.7). */
const CTIME =
  /^[A-Za-z]{3},?\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+([A-Za-z]{1,5})\s+(\d{4})$/;

/**
 * Parses an apcupsd timestamp into ISO 8601 with the offset kept as sent
 * (`2024-03-02 14:05:11 +0100  ` → `2024-03-02T14:05:11+01:00`). Also reads the old ctime
 * form with a zone abbreviation from a small table. Unknown zones, missing offsets and
 * impossible dates give undefined (docs/protocols/nis.md#records-and-parsing).
 */
export function parseNisTimestamp(text: string): string | undefined {
  const t = trimNis(text);
  const iso = ISO_LIKE.exec(t);
  if (iso) {
    const [, y, mo, d, h, mi, s, zulu, sign, oh, om] = iso;
    const offset = zulu ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
    if (!zulu && (Number(oh) > 23 || Number(om) > 59)) return undefined;
    return build(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s), offset);
  }
  const ct = CTIME.exec(t);
  if (ct) {
    const [, mon = '', d, h, mi, s, zone = '', y] = ct;
    const month = MONTHS.indexOf(mon.toLowerCase()) + 1;
    const offset = ZONE_OFFSETS[zone.toUpperCase()];
    if (month === 0 || offset === undefined) return undefined;
    return build(Number(y), month, Number(d), Number(h), Number(mi), Number(s), offset);
  }
  return undefined;
}

function build(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  offsetMinutes: number,
): string | undefined {
  const probe = new Date(Date.UTC(year, month - 1, day));
  const validDate =
    probe.getUTCFullYear() === year &&
    probe.getUTCMonth() === month - 1 &&
    probe.getUTCDate() === day;
  // A leap second (:60) is refused: Date.parse() cannot read it back, and data_age_s relies on it.
  if (!validDate || hour > 23 || minute > 59 || second > 59) return undefined;
  const abs = Math.abs(offsetMinutes);
  const offset = `${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return `${year}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}${offset}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
