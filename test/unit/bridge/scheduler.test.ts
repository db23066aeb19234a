import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PollScheduler } from '../../../src/bridge/scheduler.ts';
import { ManualClock } from '../../../src/core/clock.ts';
import { settle } from '../../helpers/settle.ts';

function setup(results: boolean[], taskMs = 0) {
  const clock = new ManualClock(0);
  const runs: number[] = [];
  const s = new PollScheduler({ intervalMs: 1000, clock }, async () => {
    runs.push(clock.now());
    if (taskMs > 0) await new Promise<void>((r) => clock.setTimeout(r, taskMs));
    return results.shift() ?? true;
  });
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

  // A peer back after an outage is read within one interval: no backoff (issue 14; the
  // exponential backoff that was here made the bridge ~3 intervals late after a restart).
  it('retries a failing task every interval, and keeps that cadence after a success', async () => {
    const { clock, runs, s } = setup([false, false, false, false, false, false, true, true]);
    s.start();
    await advance(clock, 9000);
    assert.deepEqual(runs, [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]);
    assert.equal(s.consecutiveFailures, 0);
    s.stop();
  });

  it('counts consecutive failures, and a failure that outlasted the interval is retried at once', async () => {
    const { clock, runs, s } = setup([false, false, false, true], 2500);
    s.start();
    await advance(clock, 5100);
    assert.equal(s.consecutiveFailures, 2);
    // Each run takes 2.5 s (a read timeout): the next starts when it ends, one at a time.
    assert.deepEqual(runs, [0, 2500, 5000]);
    s.stop();
  });

  it('coalesces wakes while a run is in flight into one immediate run', async () => {
    const clock = new ManualClock(0);
    let release: () => void = () => {};
    let runs = 0;
    const s = new PollScheduler({ intervalMs: 1000, clock }, async () => {
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
