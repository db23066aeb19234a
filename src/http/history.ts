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

const SERIES = HISTORY_SERIES.length;

/**
 * The history of one UPS, in a ring of typed arrays (time, then one slot per series; NaN
 * for a gap). A thousand UPSes each keeping an hour at 2 s would otherwise hold 1.8 million
 * small arrays; the ring grows by doubling up to its bound and never beyond.
 */
export class UpsHistory {
  private readonly capacity: number;
  private times = new Float64Array(16);
  private values = new Float64Array(16 * SERIES);
  /** How many values each point was given (callers pass HISTORY_SERIES.length). */
  private lengths = new Uint8Array(16);
  private start = 0;
  private count = 0;

  constructor(private readonly opts: HistoryOptions) {
    this.capacity = Math.max(2, Math.ceil(opts.windowMs / opts.resolutionMs) + 1);
  }

  /** Adds a sample taken at `t`; samples must come in time order (older ones are ignored). */
  record(t: number, values: readonly (number | null)[]): void {
    if (this.count > 0) {
      const lastT = this.timeAt(this.count - 1);
      if (t < lastT) return;
      if (this.bucket(lastT) === this.bucket(t)) {
        this.write(this.count - 1, t, values);
        this.prune(t);
        return;
      }
    }
    if (this.count === this.times.length && this.times.length < this.capacity) this.grow();
    if (this.count === this.times.length) {
      // Full at its bound: the oldest point makes room.
      this.start = (this.start + 1) % this.times.length;
      this.count--;
    }
    this.count++;
    this.write(this.count - 1, t, values);
    this.prune(t);
  }

  /** Points with a time after `since` (all points when omitted), oldest first. */
  since(since = Number.NEGATIVE_INFINITY): HistoryPoint[] {
    let first = this.count;
    while (first > 0 && this.timeAt(first - 1) > since) first--;
    const out: HistoryPoint[] = [];
    for (let i = first; i < this.count; i++) {
      const slot = this.slot(i);
      const point: HistoryPoint = [this.times[slot] ?? 0];
      const n = this.lengths[slot] ?? SERIES;
      for (let k = 0; k < n; k++) {
        const v = this.values[slot * SERIES + k] ?? Number.NaN;
        point.push(Number.isNaN(v) ? null : v);
      }
      out.push(point);
    }
    return out;
  }

  get size(): number {
    return this.count;
  }

  private slot(i: number): number {
    return (this.start + i) % this.times.length;
  }

  private timeAt(i: number): number {
    return this.times[this.slot(i)] ?? 0;
  }

  private write(i: number, t: number, values: readonly (number | null)[]): void {
    const slot = this.slot(i);
    this.times[slot] = t;
    this.lengths[slot] = Math.min(SERIES, values.length);
    for (let k = 0; k < SERIES; k++) this.values[slot * SERIES + k] = values[k] ?? Number.NaN;
  }

  private grow(): void {
    const size = Math.min(this.capacity, this.times.length * 2);
    const times = new Float64Array(size);
    const values = new Float64Array(size * SERIES);
    const lengths = new Uint8Array(size);
    for (let i = 0; i < this.count; i++) {
      const slot = this.slot(i);
      times[i] = this.times[slot] ?? 0;
      lengths[i] = this.lengths[slot] ?? SERIES;
      values.set(this.values.subarray(slot * SERIES, slot * SERIES + SERIES), i * SERIES);
    }
    this.times = times;
    this.values = values;
    this.lengths = lengths;
    this.start = 0;
  }

  private bucket(t: number): number {
    return Math.floor(t / this.opts.resolutionMs);
  }

  private prune(now: number): void {
    const oldest = now - this.opts.windowMs;
    while (this.count > 0 && this.timeAt(0) < oldest) {
      this.start = (this.start + 1) % this.times.length;
      this.count--;
    }
  }
}
