/**
 * Report bytes → physical values by path. Pure functions plus a small value store that
 * remembers the latest value of every path, whichever report (polled Feature or pushed
 * Input) brought it: APC declares dynamic values twice under one report ID so either way
 * gives the same meaning (docs/protocols/hid.md#descriptors-and-reports).
 */

import { fieldFits, readField } from './bits.ts';
import type { HidField, ReportKind } from './descriptor/parser.ts';
import type { ReportMap } from './report-map.ts';
import { toPhysical } from './units.ts';

/** One decoded field. */
export interface DecodedValue {
  field: HidField;
  /** Logical value as read (sign-extended when the field is signed). */
  raw: number;
  /** Physical value after physical range and unit exponent. */
  value: number;
}

/**
 * Decodes every value field of a report (`report[0]` is the ID). Fields that do not fit a
 * short report are skipped: Back-UPS CS units send shorter interrupt reports than declared
 * (apcupsd drops them whole; keeping the fields that did arrive loses less).
 */
export function decodeReport(map: ReportMap, kind: ReportKind, report: Uint8Array): DecodedValue[] {
  const id = report[0] ?? 0;
  const out: DecodedValue[] = [];
  for (const field of map.fieldsOf(kind, id)) {
    if (!fieldFits(field, report.length)) continue;
    const raw = readField(field, report);
    out.push({ field, raw, value: toPhysical(field, raw) });
  }
  return out;
}

/** Latest physical value per path. */
export class ValueStore {
  private readonly values = new Map<string, number>();

  /** Stores the report's values; returns the paths whose value changed. */
  apply(map: ReportMap, kind: ReportKind, report: Uint8Array): string[] {
    const changed: string[] = [];
    for (const { field, value } of decodeReport(map, kind, report)) {
      if (this.values.get(field.path) !== value) {
        this.values.set(field.path, value);
        changed.push(field.path);
      }
    }
    return changed;
  }

  get(path: string): number | undefined {
    return this.values.get(path);
  }

  /** A read-only view for the mapping. */
  view(): ReadonlyMap<string, number> {
    return this.values;
  }
}
