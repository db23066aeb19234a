import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PollScheduler } from '../../../src/bridge/scheduler.ts';
import { ManualClock } from '../../../src/core/clock.ts';
import { settle } from '../../helpers/settle.ts';

function setup(results: boolean[], random = () => 0.5) {
  const clock = new ManualClock(0);
  const runs: number[] = [];
  const s = new PollScheduler(
    { intervalMs: 1000, maxBackoffMs: 30_000, clock, random },
    async () => {
      runs.push(clock.now());
      return results.shift() ?? true;
    },
  );
  return { clock, runs, s };
}

async function advance(clock: ManualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    clock.advance(50);
    await settle();
  }
}

describe('PollScheduler', () => {
  it('runs at once, then every interval', async () => {
    const { clock, runs, s } = setup([]);
    s.start();
    await advance(clock, 3000);
    assert.deepEqual(runs, [0, 1000, 2000, 3000]);
    s.stop();
  });

  it('backs off exponentially while failing, capped, and returns to the interval on success', async () => {
    const { clock, runs, s } = setup([false, false, false, false, false, false, true, true]);
    s.start();
    await advance(clock, 70_000);
    // 50 ms clock steps: a failure's delay counts from when it completed, so floor to 100 ms.
    const gaps = runs.slice(1, 9).map((t, i) => Math.floor((t - (runs[i] ?? 0)) / 100) * 100);
    // random 0.5 → no jitter: 1 s, 2 s, 4 s, 8 s, 16 s, 30 s (cap), then 1 s after success
    assert.deepEqual(gaps, [1000, 2000, 4000, 8000, 16000, 30000, 1000, 1000]);
    s.stop();
  });

  it('applies ±20 % jitter to the backoff but never goes below the interval', () => {
    const low = setup([], () => 0).s;
    const high = setup([], () => 0.999).s;
    for (const s of [low, high]) (s as unknown as { failures: number }).failures = 3;
    assert.equal(low.nextDelayMs(), 3200);
    assert.ok(Math.abs(high.nextDelayMs() - 4800) <= 2);
    (low as unknown as { failures: number }).failures = 1;
    assert.equal(low.nextDelayMs(), 1000);
  });

  it('coalesces wakes while a run is in flight into one immediate run', async () => {
    const clock = new ManualClock(0);
    let release: () => void = () => {};
    let runs = 0;
    const s = new PollScheduler({ intervalMs: 1000, maxBackoffMs: 30_000, clock }, async () => {
      runs++;
      if (runs === 1) await new Promise<void>((r) => (release = r));
      return true;
    });
    s.start();
    clock.advance(0);
    await settle();
    s.wake();
    s.wake();
    s.wake();
    release();
    await settle();
    clock.advance(0);
    await settle();
    assert.equal(runs, 2);
    s.stop();
  });

  it('does nothing after stop()', async () => {
    const { clock, runs, s } = setup([]);
    s.start();
    await advance(clock, 100);
    s.stop();
    s.wake();
    await advance(clock, 5000);
    assert.deepEqual(runs, [0]);
    assert.equal(clock.pending(), 0);
  });
});
