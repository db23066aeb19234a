import { deepEqual, equal, throws } from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitLine, median, percentile, round, summarize } from '../lib/stats.ts';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  const cases: [name: string, values: number[], p: number, expected: number][] = [
    ['p50 of 1..100 is the 50th value', hundred, 50, 50],
    ['p99 of 1..100 is the 99th value, not the max', hundred, 99, 99],
    ['p100 is the max', hundred, 100, 100],
    ['p99 of 50 samples is the max (rank 49.5 rounds up to 50)', hundred.slice(0, 50), 99, 50],
    ['order of input does not matter', [5, 1, 4, 2, 3], 60, 3],
    ['one sample is every percentile', [7], 1, 7],
  ];
  for (const [name, values, p, expected] of cases) {
    it(name, () => equal(percentile(values, p), expected));
  }
  it('rejects p outside (0, 100]', () => {
    throws(() => percentile([1], 0), { code: 'CONFIG_INVALID' });
    throws(() => percentile([1], 101), { code: 'CONFIG_INVALID' });
  });
  it('rejects an empty series', () => throws(() => percentile([], 50), { code: 'CONFIG_INVALID' }));
});

describe('median', () => {
  it('odd count: the middle sample', () => equal(median([9, 1, 5]), 5));
  it('even count: mean of the two middle samples', () => equal(median([4, 1, 3, 2]), 2.5));
});

describe('summarize', () => {
  it('reports every field from the sorted samples', () => {
    deepEqual(summarize([3, 1, 2, 10]), {
      count: 4,
      min: 1,
      median: 2.5,
      p90: 10,
      p99: 10,
      max: 10,
      mean: 4,
    });
  });
});

describe('fitLine', () => {
  it('recovers slope and intercept of exact points', () => {
    const fit = fitLine([
      [0, 1],
      [1, 3],
      [2, 5],
    ]);
    equal(fit.slope, 2);
    equal(fit.intercept, 1);
    equal(fit.slopeStdErr, 0);
  });
  it('the standard error of the slope grows with the scatter', () => {
    // Residuals +1, -1, -1, +1 around y = 10: SE = sqrt(4 / 2 / 5) = 0.632...
    const fit = fitLine([
      [0, 11],
      [1, 9],
      [2, 9],
      [3, 11],
    ]);
    equal(round(fit.slope, 6), 0);
    equal(round(fit.slopeStdErr, 4), 0.6325);
  });
  it('two points have no standard error', () => {
    equal(
      Number.isNaN(
        fitLine([
          [0, 0],
          [1, 1],
        ]).slopeStdErr,
      ),
      true,
    );
  });
  it('a flat noisy series has a slope near zero', () => {
    const fit = fitLine([
      [0, 10],
      [1, 11],
      [2, 9],
      [3, 10],
    ]);
    equal(round(fit.slope, 6), -0.2);
  });
  it('needs two distinct x values', () => {
    throws(() => fitLine([[1, 1]]), { code: 'CONFIG_INVALID' });
    throws(
      () =>
        fitLine([
          [1, 1],
          [1, 2],
        ]),
      { code: 'CONFIG_INVALID' },
    );
  });
});
