import { deepEqual, equal } from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  latencyByQuarter,
  latencyStretch,
  medianByQuarter,
  range,
  t95,
  trend,
} from '../lib/soak-report.ts';

describe('t95', () => {
  it('is Student t for small samples and tends to 1.98 for large ones', () => {
    equal(t95(1), 12.706);
    equal(t95(10), 2.228);
    equal(t95(30), 2.042);
    equal(t95(45), 2.0);
    equal(t95(500), 1.98);
  });
  it('is NaN without degrees of freedom', () => equal(Number.isNaN(t95(0)), true));
});

describe('trend', () => {
  it('reports growth per 100,000 polls: 1 MB per 50,000 polls is 2 MB per 100k', () => {
    const points = [0, 1, 2, 3, 4].map((i) => [500_000 + i * 50_000, 30 + i] as const);
    const t = trend(points);
    equal(t?.slopePer100k, 2);
    equal(t?.stdErr, 0);
    deepEqual(t?.ci95, [2, 2]);
    equal(t?.verdict, 'growing');
  });
  it('calls a noisy level series flat: its 95 % interval contains zero', () => {
    const ys = [24.1, 23.8, 24.3, 23.9, 24.2, 23.7, 24.1, 24.0];
    const t = trend(ys.map((y, i) => [i * 10_000, y] as const));
    equal(t?.verdict, 'flat');
    equal((t?.ci95[0] ?? 1) < 0 && (t?.ci95[1] ?? -1) > 0, true);
  });
  it('calls a falling series shrinking', () => {
    equal(trend([0, 1, 2, 3].map((i) => [i * 100_000, 10 - i] as const))?.verdict, 'shrinking');
  });
  it('needs three distinct poll counts', () => {
    equal(
      trend([
        [1, 1],
        [1, 2],
        [2, 3],
      ]),
      null,
    );
  });
});

describe('latencyByQuarter', () => {
  it('puts each window in the quarter of the run its poll count ends in', () => {
    const windows = [
      { polls: 250, latenciesMs: [1, 2, 3] },
      { polls: 251, latenciesMs: [10] },
      { polls: 600, latenciesMs: [20] },
      { polls: 1000, latenciesMs: [7, 9] },
    ];
    deepEqual(
      latencyByQuarter(windows, 1000).map((q) => q.median),
      [2, 10, 20, 8],
    );
  });
  it('reports an empty quarter as nulls', () => {
    deepEqual(latencyByQuarter([{ polls: 1000, latenciesMs: [5] }], 1000)[0], {
      count: 0,
      median: null,
      p99: null,
    });
  });
});

describe('latencyStretch and range', () => {
  it('p99 is nearest rank', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    deepEqual(latencyStretch(hundred), { count: 100, median: 50.5, p99: 99 });
  });
  it('range keeps first, last, min and max', () => {
    deepEqual(range([121, 119, 125, 121]), { first: 121, last: 121, min: 119, max: 125 });
    equal(range([]), null);
  });
});

describe('medianByQuarter', () => {
  it('takes the median of a per-window figure in each quarter, skipping nulls', () => {
    const windows = [
      { polls: 100, v: 1 },
      { polls: 200, v: 3 },
      { polls: 400, v: null },
      { polls: 700, v: 5 },
      { polls: 1000, v: 8 },
    ];
    deepEqual(
      medianByQuarter(windows, 1000, (w) => w.v),
      [2, null, 5, 8],
    );
  });
});
