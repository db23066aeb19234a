import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pollSlotMs } from '../../../src/bridge/app.ts';
import { PollScheduler } from '../../../src/bridge/scheduler.ts';
import { PollTicker } from '../../../src/bridge/ticker.ts';
import { type Clock, ManualClock } from '../../../src/core/clock.ts';
import { settle } from '../../helpers/settle.ts';

/** A ManualClock that counts the timers armed, i.e. the wake-ups the process would have. */
class CountingClock extends ManualClock {
  armed = 0;
  override setTimeout(fn: () => void, ms: number) {
    this.armed++;
    return super.setTimeout(fn, ms);
  }
}

async function advance(clock: ManualClock, ms: number, step = 5): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await settle();
  }
}

/** N schedulers at `intervalMs`, started spread over one interval as app.ts does. */
function fleet(n: number, intervalMs: number, clock: Clock, ticker: PollTicker | undefined) {
  const runs: number[][] = [];
  const tasks: (() => Promise<boolean>)[] = [];
  const schedulers = Array.from({ length: n }, (_, i) => {
    runs.push([]);
    tasks.push(async () => {
      runs[i]?.push(clock.now());
      return true;
    });
    return new PollScheduler(
      { intervalMs, clock, ...(ticker ? { ticker } : {}) },
      () => tasks[i]?.() ?? Promise.resolve(true),
    );
  });
  schedulers.forEach((s, i) => {
    s.start(Math.floor((i / n) * intervalMs));
  });
  return { runs, schedulers, tasks };
}

describe('PollTicker', () => {
  it('runs entries in the slot nearest their time, one timer per slot', () => {
    const clock = new CountingClock(0);
    const ticker = new PollTicker({ slotMs: 50, maxPerTick: 100, clock });
    const ran: [string, number][] = [];
    for (const [name, at] of [
      ['a', 110],
      ['b', 90],
      ['c', 124],
      ['d', 126],
    ] as const) {
      ticker.add(at, () => ran.push([name, clock.now()]));
    }
    clock.advance(1000);
    assert.deepEqual(ran, [
      ['a', 100],
      ['b', 100],
      ['c', 100],
      ['d', 150],
    ]);
    assert.equal(ticker.pending, 0);
  });

  it('defers what is over its bound to the next slot, oldest first', () => {
    const clock = new ManualClock(0);
    const ticker = new PollTicker({ slotMs: 50, maxPerTick: 2, clock });
    const ran: [string, number][] = [];
    for (const name of ['a', 'b', 'c']) ticker.add(100, () => ran.push([name, clock.now()]));
    ticker.add(150, () => ran.push(['d', clock.now()]));
    clock.advance(1000);
    assert.deepEqual(ran, [
      ['a', 100],
      ['b', 100],
      ['c', 150],
      ['d', 150],
    ]);
  });

  it('cancels an entry, and keeps running the others when one throws', () => {
    const clock = new ManualClock(0);
    const ticker = new PollTicker({ slotMs: 50, maxPerTick: 10, clock });
    const ran: string[] = [];
    const gone = ticker.add(100, () => ran.push('gone'));
    ticker.add(100, () => {
      throw new Error('boom');
    });
    ticker.add(100, () => ran.push('kept'));
    ticker.cancel(gone);
    clock.advance(200);
    assert.deepEqual(ran, ['kept']);
  });
});

describe('PollScheduler with a ticker', () => {
  it('100 UPSes at 1 s wake the process once per 50 ms slot, each polled once a second', async () => {
    const clock = new CountingClock(0);
    const ticker = new PollTicker({ slotMs: 50, maxPerTick: 100, clock });
    const { runs, schedulers } = fleet(100, 1000, clock, ticker);
    clock.armed = 0;
    await advance(clock, 10_000);
    // Without the ticker: 100 timers a second; with it: one per slot, 20 a second.
    assert.ok(clock.armed <= 10 * 20 + 2, `armed ${clock.armed}`);
    for (const r of runs) {
      const gaps = r.slice(1).map((t, i) => t - (r[i] ?? 0));
      assert.ok(
        gaps.every((g) => g === 1000),
        `gaps ${gaps}`,
      );
    }
    const distinct = new Set(runs.flatMap((r) => r.map((t) => t % 1000)));
    assert.equal(distinct.size, 20);
    for (const s of schedulers) s.stop();
    assert.equal(ticker.pending, 0);
  });

  it('keeps the average interval when it is not a whole number of slots', async () => {
    const clock = new ManualClock(0);
    const ticker = new PollTicker({ slotMs: 50, maxPerTick: 100, clock });
    const { runs, schedulers } = fleet(2, 225, clock, ticker);
    await advance(clock, 9000);
    for (const r of runs) {
      const gaps = r.slice(1).map((t, i) => t - (r[i] ?? 0));
      assert.ok(
        gaps.every((g) => g === 200 || g === 250),
        `gaps ${gaps}`,
      );
      const mean = ((r.at(-1) ?? 0) - (r[0] ?? 0)) / (r.length - 1);
      assert.ok(Math.abs(mean - 225) < 3, `mean ${mean}`);
    }
    for (const s of schedulers) s.stop();
  });

  it('a UPS whose poll hangs delays no other', async () => {
    const clock = new ManualClock(0);
    const ticker = new PollTicker({ slotMs: 50, maxPerTick: 100, clock });
    const { runs, schedulers, tasks } = fleet(4, 1000, clock, ticker);
    tasks[0] = async () => {
      runs[0]?.push(clock.now());
      await new Promise(() => {});
      return true;
    };
    await advance(clock, 5000);
    assert.equal(runs[0]?.length, 1);
    for (const r of runs.slice(1)) assert.equal(r.length, 5);
    for (const s of schedulers) s.stop();
  });

  it('a short interval keeps its own timer, and wake() runs at once', async () => {
    const clock = new ManualClock(0);
    const ticker = new PollTicker({ slotMs: 50, maxPerTick: 100, clock });
    const { runs, schedulers } = fleet(1, 120, clock, ticker);
    await advance(clock, 600);
    assert.deepEqual(runs[0], [0, 120, 240, 360, 480, 600]);
    schedulers[0]?.stop();

    const slow = fleet(1, 1000, clock, ticker);
    await advance(clock, 10);
    slow.schedulers[0]?.wake();
    await advance(clock, 5);
    assert.equal(slow.runs[0]?.length, 2);
    slow.schedulers[0]?.stop();
    assert.equal(ticker.pending, 0);
  });
});

describe('pollSlotMs', () => {
  it('sizes a slot for about 20 polls, between 50 and 200 ms', () => {
    assert.equal(pollSlotMs(2 / 1000), 200);
    assert.equal(pollSlotMs(100 / 1000), 200);
    assert.equal(pollSlotMs(200 / 1000), 100);
    assert.equal(pollSlotMs(300 / 1000), 50);
    assert.equal(pollSlotMs(1000 / 1000), 50);
    assert.equal(pollSlotMs(0), 200);
  });
});
