import { equal, rejects } from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNisNumber } from '../../src/sources/nis/parse.ts';
import { STAMP_PERIOD_MS, sinceStamp, stampValue, withDeadline } from '../lib/clock.ts';

describe('reply stamps in LINEV', () => {
  const cases: [name: string, builtAt: number, receivedAt: number, expected: number][] = [
    ['same period', 1_000_123.5, 1_000_126, 2.5],
    ['receive after the wrap of the period', 1_099_999, 1_100_001.25, 2.25],
    ['zero delay', 5000, 5000, 0],
  ];
  for (const [name, builtAt, receivedAt, expected] of cases) {
    it(name, () => {
      // Through the bridge's own NIS number parser, as the bridge reads it.
      const stamp = parseNisNumber(stampValue(builtAt));
      equal(typeof stamp, 'number');
      equal(Math.round(sinceStamp(stamp as number, receivedAt) * 1000) / 1000, expected);
    });
  }
  it('prints three decimals and the unit, below the period', () => {
    equal(stampValue(STAMP_PERIOD_MS * 3 + 42.1234), '42.123 Volts');
  });
});

describe('withDeadline', () => {
  it('passes a result through', async () =>
    equal(await withDeadline(Promise.resolve(7), 1000, 'x'), 7));
  it('rejects with READ_TIMEOUT when the promise is late', async () => {
    await rejects(withDeadline(new Promise(() => {}), 10, 'never'), { code: 'READ_TIMEOUT' });
  });
});
