/**
 * The pure half of `bench/soak.ts`: from the samples of a long run to the figures the soak
 * reports — the growth of a series per 100,000 polls with a confidence bound, latency by
 * quarter of the run, the range of a count. No I/O.
 */
import { fitLine, median as medianOf, percentile, round } from './stats.ts';

/** Two-sided 97.5 % quantiles of Student's t for 1–30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];

/** The t multiplier of a 95 % two-sided interval with `df` degrees of freedom. */
export function t95(df: number): number {
  if (df < 1) return Number.NaN;
  if (df <= 30) return T975[df - 1] as number;
  if (df <= 60) return 2.0;
  return 1.98;
}

/** A series' trend over part of the run. */
export interface Trend {
  /** Points in the fit. */
  readonly n: number;
  /** Least-squares slope, units per 100,000 polls. */
  readonly slopePer100k: number;
  readonly stdErr: number;
  /** 95 % interval of the slope (t distribution, independent residuals assumed). */
  readonly ci95: readonly [number, number];
  /** `flat` when the interval contains zero. */
  readonly verdict: 'flat' | 'growing' | 'shrinking';
}

/**
 * The slope of `value` against `polls` (per 100,000 polls) through `points`, or null with
 * fewer than three distinct poll counts.
 */
export function trend(points: readonly (readonly [polls: number, value: number])[]): Trend | null {
  if (new Set(points.map(([x]) => x)).size < 3) return null;
  const fit = fitLine(points.map(([x, y]) => [x / 100_000, y] as const));
  const half = t95(points.length - 2) * fit.slopeStdErr;
  const lo = fit.slope - half;
  const hi = fit.slope + half;
  return {
    n: points.length,
    slopePer100k: round(fit.slope, 4),
    stdErr: round(fit.slopeStdErr, 4),
    ci95: [round(lo, 4), round(hi, 4)],
    verdict: lo <= 0 && hi >= 0 ? 'flat' : fit.slope > 0 ? 'growing' : 'shrinking',
  };
}

/** Latency of one stretch of the run (ms). */
export interface LatencyStretch {
  readonly count: number;
  readonly median: number | null;
  readonly p99: number | null;
}

/** Median and p99 (nearest rank) of `values`; nulls when empty. */
export function latencyStretch(values: readonly number[]): LatencyStretch {
  if (values.length === 0) return { count: 0, median: null, p99: null };
  return {
    count: values.length,
    median: round(medianOf(values), 2),
    p99: round(percentile(values, 99), 2),
  };
}

/**
 * Splits windows into four quarters of the run by the poll count at their end (a window
 * ending at or below 25 % of `totalPolls` is in the first quarter, and so on) and pools each
 * quarter's latencies.
 */
export function latencyByQuarter(
  windows: readonly { readonly polls: number; readonly latenciesMs: readonly number[] }[],
  totalPolls: number,
): LatencyStretch[] {
  const pools: number[][] = [[], [], [], []];
  for (const w of windows) {
    const q = Math.min(3, Math.max(0, Math.ceil((w.polls / totalPolls) * 4) - 1));
    pools[q]?.push(...w.latenciesMs);
  }
  return pools.map(latencyStretch);
}

/** Smallest and largest of a non-empty series, with the first and last values. */
export function range(values: readonly number[]): {
  first: number;
  last: number;
  min: number;
  max: number;
} | null {
  const first = values[0];
  const last = values.at(-1);
  if (first === undefined || last === undefined) return null;
  let min = first;
  let max = first;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { first, last, min, max };
}

/**
 * The median of `pick` over the windows of each quarter of the run (split by polls as in
 * {@link latencyByQuarter}); windows where `pick` gives null are skipped.
 */
export function medianByQuarter<T extends { readonly polls: number }>(
  windows: readonly T[],
  totalPolls: number,
  pick: (w: T) => number | null,
  digits = 3,
): (number | null)[] {
  const pools: number[][] = [[], [], [], []];
  for (const w of windows) {
    const v = pick(w);
    if (v === null || !Number.isFinite(v)) continue;
    const q = Math.min(3, Math.max(0, Math.ceil((w.polls / totalPolls) * 4) - 1));
    pools[q]?.push(v);
  }
  return pools.map((p) => (p.length === 0 ? null : round(medianOf(p), digits)));
}
