/**
 * An index over a parsed descriptor: fields by report and by path, report lengths, and
 * path-pattern resolution. The same usage appears under several collections with different
 * meanings (`Voltage` under `Input` is line voltage, under `Battery` battery voltage:
 * docs/protocols/hid.md#descriptors-and-reports), so lookups are by the tail of the path, never by usage alone.
 */

import {
  type HidField,
  type ParsedDescriptor,
  type ReportKind,
  reportKey,
} from './descriptor/parser.ts';

/**
 * A path pattern. `UPS.ManufacturerDate` (starting with the application collection `UPS.`)
 * must match the whole path; anything else matches the path's last segments, so
 * `Input.Voltage` finds `UPS.Input.Voltage` and `UPS.PowerConverter.Input.Voltage`.
 * Ordinal segments (`[1]`, Eaton flows) are skipped when matching.
 */
export type PathPattern = string;

function segments(path: string): string[] {
  return path.split('.').filter((s) => !s.startsWith('['));
}

function matches(pathSegs: readonly string[], pattern: PathPattern): boolean {
  const pat = segments(pattern);
  if (pattern.startsWith('UPS.')) {
    return pat.length === pathSegs.length && pat.every((s, i) => s === pathSegs[i]);
  }
  if (pat.length > pathSegs.length) return false;
  const from = pathSegs.length - pat.length;
  return pat.every((s, i) => s === pathSegs[from + i]);
}

/** Fields of a descriptor, indexed for decoding and for the mapping. */
export class ReportMap {
  readonly descriptor: ParsedDescriptor;
  /** Paths in declaration order (first declaration wins ties). */
  readonly paths: readonly string[];
  private readonly byReport = new Map<string, HidField[]>();
  private readonly byPath = new Map<string, HidField[]>();
  private readonly resolved = new Map<string, readonly string[]>();

  constructor(descriptor: ParsedDescriptor) {
    this.descriptor = descriptor;
    const paths: string[] = [];
    for (const field of descriptor.fields) {
      if (!field.variable) continue; // array selectors carry indexes, not values
      const rk = reportKey(field.kind, field.reportId);
      const list = this.byReport.get(rk);
      if (list) list.push(field);
      else this.byReport.set(rk, [field]);
      const pl = this.byPath.get(field.path);
      if (pl) pl.push(field);
      else {
        this.byPath.set(field.path, [field]);
        paths.push(field.path);
      }
    }
    this.paths = paths;
  }

  /** Value fields of one report. */
  fieldsOf(kind: ReportKind, reportId: number): readonly HidField[] {
    return this.byReport.get(reportKey(kind, reportId)) ?? [];
  }

  /** Declared length of a report in bytes, report-ID byte included (0 when undeclared). */
  reportLength(kind: ReportKind, reportId: number): number {
    const data = this.descriptor.reportBytes.get(reportKey(kind, reportId));
    return data === undefined ? 0 : data + 1;
  }

  /** The longest report of the descriptor, ID byte included. */
  maxReportLength(): number {
    let max = 0;
    for (const n of this.descriptor.reportBytes.values()) max = Math.max(max, n + 1);
    return max;
  }

  /** The field at a path, preferring the given kind (Feature for polling and writing). */
  field(path: string, kind?: ReportKind): HidField | undefined {
    const list = this.byPath.get(path);
    if (!list) return undefined;
    return (kind && list.find((f) => f.kind === kind)) || list[0];
  }

  /** Every field at a path (Input and Feature declarations of the same value). */
  fieldsAt(path: string): readonly HidField[] {
    return this.byPath.get(path) ?? [];
  }

  /** Paths matching any of the patterns, in pattern priority then declaration order. */
  resolve(patterns: readonly PathPattern[]): readonly string[] {
    const key = patterns.join('|');
    const hit = this.resolved.get(key);
    if (hit) return hit;
    const out: string[] = [];
    for (const pattern of patterns) {
      for (const path of this.paths) {
        if (!out.includes(path) && matches(segments(path), pattern)) out.push(path);
      }
    }
    this.resolved.set(key, out);
    return out;
  }

  /** The first path matching the patterns that has a Feature field (readable and writable). */
  resolveFeature(patterns: readonly PathPattern[]): HidField | undefined {
    for (const path of this.resolve(patterns)) {
      const f = this.fieldsAt(path).find((x) => x.kind === 'feature');
      if (f) return f;
    }
    return undefined;
  }
}
