/**
 * The status page's chart data: a bounded, in-memory history per UPS of the four series a
 * person watches during an outage. Pure data structure; HistoryRecorder (recorder.ts) feeds
 * it from the bridge.
 *
 * Memory is bounded twice: points older than the window are dropped, and time is cut into
 * buckets of `resolutionMs` with at most one point each (a newer sample in the same bucket
 * replaces the older one), so one UPS never holds more than windowMs / resolutionMs points.
 */
import type { UpsState } from '../core/state.ts';

/** The charted series, in the order of a point's values. */
export const HISTORY_SERIES = [
  { key: 'battery_charge_pct', label: 'Battery charge', unit: '%', min: 0, max: 100 },
  { key: 'load_pct', label: 'Load', unit: '%', min: 0, max: 100 },
  { key: 'input_voltage_v', label: 'Input voltage', unit: 'V', min: null, max: null },
  { key: 'runtime_s', label: 'Runtime', unit: 's', min: 0, max: null },
] as const satisfies readonly {
  key: keyof UpsState;
  label: string;
  unit: string;
  /** Fixed axis bounds; null: from the data. */
  min: number | null;
  max: number | null;
}[];

/**
 * One sample: `[t, ...values]`, t in epoch ms, values in HISTORY_SERIES order; null where
 * the UPS did not report the value or was unavailable (the chart shows a gap).
 */
export type HistoryPoint = [number, ...(number | null)[]];

/** How much history to keep: the window and the spacing of points. */
export interface HistoryOptions {
  windowMs: number;
  resolutionMs: number;
}

/** The values of HISTORY_SERIES in a state, or all null when there is no usable state. */
export function sampleOf(state: UpsState | undefined, available: boolean): (number | null)[] {
  return HISTORY_SERIES.map((s) => {
    const v = available ? state?.[s.key] : undefined;
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  });
}

/** The history of one UPS. */
export class UpsHistory {
  private readonly points: HistoryPoint[] = [];

  constructor(private readonly opts: HistoryOptions) {}

  /** Adds a sample taken at `t`; samples must come in time order (older ones are ignored). */
  record(t: number, values: readonly (number | null)[]): void {
    const last = this.points.at(-1);
    if (last && t < last[0]) return;
    const point: HistoryPoint = [t, ...values];
    if (last && this.bucket(last[0]) === this.bucket(t)) {
      this.points[this.points.length - 1] = point;
    } else {
      this.points.push(point);
    }
    this.prune(t);
  }

  /** Points with a time after `since` (all points when omitted), oldest first. */
  since(since = Number.NEGATIVE_INFINITY): HistoryPoint[] {
    let i = this.points.length;
    while (i > 0 && (this.points[i - 1]?.[0] ?? 0) > since) i--;
    return this.points.slice(i);
  }

  get size(): number {
    return this.points.length;
  }

  private bucket(t: number): number {
    return Math.floor(t / this.opts.resolutionMs);
  }

  private prune(now: number): void {
    const oldest = now - this.opts.windowMs;
    let drop = 0;
    while (drop < this.points.length && (this.points[drop]?.[0] ?? 0) < oldest) drop++;
    if (drop > 0) this.points.splice(0, drop);
  }
}
