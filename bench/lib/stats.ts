/**
 * Summary statistics for benchmark samples. Pure functions over plain numbers; the scripts
 * report medians and tail percentiles because this machine is shared and noisy (means are
 * pulled around by one descheduled sample).
 */
import { Ups2MqttError } from '../../src/core/errors.ts';

/** The summary every latency-like series is reported with (all in the samples' unit). */
export interface Summary {
  readonly count: number;
  readonly min: number;
  readonly median: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

function sorted(values: readonly number[]): number[] {
  if (values.length === 0) throw new Ups2MqttError('CONFIG_INVALID', 'no samples to summarise');
  return [...values].sort((a, b) => a - b);
}

/**
 * The `p`-th percentile (0 < p ≤ 100) by the nearest-rank method: the smallest sample with
 * at least p % of the samples at or below it. With 50 samples p99 is therefore the maximum;
 * nearest rank never invents a value that was not measured.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100))
    throw new Ups2MqttError('CONFIG_INVALID', `percentile ${p} out of (0, 100]`);
  const s = sorted(values);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.max(0, rank - 1)] as number;
}

/** The median: the middle sample, or the mean of the two middle ones. */
export function median(values: readonly number[]): number {
  const s = sorted(values);
  const mid = Math.floor(s.length / 2);
  const upper = s[mid] as number;
  return s.length % 2 === 1 ? upper : ((s[mid - 1] as number) + upper) / 2;
}

export function mean(values: readonly number[]): number {
  const s = sorted(values);
  return s.reduce((sum, v) => sum + v, 0) / s.length;
}

/** Count, min, median, p90, p99, max and mean of a non-empty series. */
export function summarize(values: readonly number[]): Summary {
  const s = sorted(values);
  return {
    count: s.length,
    min: s[0] as number,
    median: median(s),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s[s.length - 1] as number,
    mean: mean(s),
  };
}

/** A least-squares line through (x, y) points. */
export interface LineFit {
  /** Change of y per unit of x. */
  readonly slope: number;
  readonly intercept: number;
  /**
   * Standard error of the slope (NaN with fewer than three points). A slope within about
   * two standard errors of zero is indistinguishable from flat.
   */
  readonly slopeStdErr: number;
}

/** Ordinary least squares; needs two or more points with distinct x. */
export function fitLine(points: readonly (readonly [x: number, y: number])[]): LineFit {
  const n = points.length;
  if (n < 2) throw new Ups2MqttError('CONFIG_INVALID', 'a line needs at least two points');
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
  }
  if (sxx === 0) throw new Ups2MqttError('CONFIG_INVALID', 'a line needs distinct x values');
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let residuals = 0;
  for (const [x, y] of points) residuals += (y - intercept - slope * x) ** 2;
  const slopeStdErr = n > 2 ? Math.sqrt(residuals / (n - 2) / sxx) : Number.NaN;
  return { slope, intercept, slopeStdErr };
}

/** Rounds for display and JSON (keeps results readable; raw samples are kept separately). */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A summary with every field rounded. */
export function roundSummary(s: Summary, digits = 2): Summary {
  return {
    count: s.count,
    min: round(s.min, digits),
    median: round(s.median, digits),
    p90: round(s.p90, digits),
    p99: round(s.p99, digits),
    max: round(s.max, digits),
    mean: round(s.mean, digits),
  };
}
