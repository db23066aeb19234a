import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { HISTORY_SERIES, sampleOf, UpsHistory } from '../../../src/http/history.ts';
import { HistoryRecorder } from '../../../src/http/recorder.ts';
import { FakeBridge, FakeUps, onlineState } from './fakes.ts';

describe('UpsHistory', () => {
  it('keeps one point per resolution bucket: the newest sample replaces the older one', () => {
    const h = new UpsHistory({ windowMs: 60_000, resolutionMs: 1000 });
    h.record(10_000, [1]);
    h.record(10_400, [2]);
    h.record(10_999, [3]);
    h.record(11_000, [4]);
    assert.deepEqual(h.since(), [
      [10_999, 3],
      [11_000, 4],
    ]);
  });

  it('drops points older than the window', () => {
    const h = new UpsHistory({ windowMs: 10_000, resolutionMs: 1000 });
    for (let t = 0; t <= 30_000; t += 1000) h.record(t, [t]);
    const points = h.since();
    assert.equal(points[0]?.[0], 20_000);
    assert.equal(points.at(-1)?.[0], 30_000);
    assert.equal(h.size, 11);
  });

  it('never holds more than window / resolution + 1 points', () => {
    const h = new UpsHistory({ windowMs: 3_600_000, resolutionMs: 2000 });
    for (let t = 0; t < 3 * 3_600_000; t += 700) h.record(t, [1, 2, 3, 4]);
    assert.ok(h.size <= 1801, `size ${h.size}`);
  });

  it('since(t) returns only points after t (the page asks for what it lacks)', () => {
    const h = new UpsHistory({ windowMs: 60_000, resolutionMs: 1000 });
    h.record(1000, [1]);
    h.record(2000, [2]);
    h.record(3000, [3]);
    assert.deepEqual(h.since(2000), [[3000, 3]]);
    assert.deepEqual(h.since(3000), []);
    assert.deepEqual(h.since(0).length, 3);
  });

  it('ignores a sample older than the last one', () => {
    const h = new UpsHistory({ windowMs: 60_000, resolutionMs: 1000 });
    h.record(5000, [5]);
    h.record(3000, [3]);
    assert.deepEqual(h.since(), [[5000, 5]]);
  });
});

describe('sampleOf', () => {
  it('takes the charted values in HISTORY_SERIES order', () => {
    assert.deepEqual(
      HISTORY_SERIES.map((s) => s.key),
      ['battery_charge_pct', 'load_pct', 'input_voltage_v', 'runtime_s'],
    );
    assert.deepEqual(sampleOf(onlineState(), true), [100, 18, 230.4, 3000]);
  });

  it('gives null for absent values and for an unavailable UPS (a gap, not a stale value)', () => {
    const { load_pct: _omit, ...noLoad } = onlineState();
    assert.deepEqual(sampleOf(noLoad, true), [100, null, 230.4, 3000]);
    assert.deepEqual(sampleOf(onlineState(), false), [null, null, null, null]);
    assert.deepEqual(sampleOf(undefined, true), [null, null, null, null]);
  });
});

describe('HistoryRecorder', () => {
  it('samples at start, after every publish and once per resolution step', () => {
    const clock = new ManualClock(100_000);
    const ups = new FakeUps({ id: 'office', currentAvailability: 'online', state: onlineState() });
    const rec = new HistoryRecorder(
      new FakeBridge([ups]),
      { windowMs: 60_000, resolutionMs: 1000 },
      clock,
    );
    rec.start();
    assert.deepEqual(rec.historyOf(ups)?.since(), [[100_000, 100, 18, 230.4, 3000]]);

    clock.advance(1500);
    ups.publish(onlineState({ on_battery: true, status: 'on_battery', input_voltage_v: 0 }));
    assert.deepEqual(rec.historyOf(ups)?.since(100_000), [[101_500, 100, 18, 0, 3000]]);

    clock.advance(1500); // the periodic samples due at 102 000 and 103 000
    assert.deepEqual(
      rec
        .historyOf(ups)
        ?.since(101_500)
        .map((p) => p[0]),
      [102_000, 103_000],
    );
  });

  it('records an unavailable UPS as a gap', () => {
    const clock = new ManualClock(0);
    const ups = new FakeUps({ id: 'office', currentAvailability: 'online', state: onlineState() });
    const rec = new HistoryRecorder(
      new FakeBridge([ups]),
      { windowMs: 60_000, resolutionMs: 1000 },
      clock,
    );
    rec.start();
    clock.advance(1000);
    ups.publish(onlineState(), 'offline');
    assert.deepEqual(rec.historyOf(ups)?.since().at(-1), [1000, null, null, null, null]);
  });

  it('arms no timer (an idle bridge is not woken per step) and stop() removes its listeners', () => {
    const clock = new ManualClock(0);
    const ups = new FakeUps({ id: 'office', currentAvailability: 'online', state: onlineState() });
    const rec = new HistoryRecorder(
      new FakeBridge([ups]),
      { windowMs: 60_000, resolutionMs: 1000 },
      clock,
    );
    rec.start();
    assert.equal(ups.listenerCount, 1);
    assert.equal(clock.pending(), 0);
    rec.stop();
    assert.equal(ups.listenerCount, 0);
    assert.equal(clock.pending(), 0);
  });

  it('fills the quiet steps with the sample of the latest change, and only within the window', () => {
    const clock = new ManualClock(0);
    const ups = new FakeUps({ id: 'office', currentAvailability: 'online', state: onlineState() });
    const rec = new HistoryRecorder(
      new FakeBridge([ups]),
      { windowMs: 10_000, resolutionMs: 1000 },
      clock,
    );
    rec.start();
    clock.advance(2500);
    ups.publish(onlineState({ load_pct: 40 }));
    clock.advance(2000);
    assert.deepEqual(rec.historyOf(ups)?.since(), [
      [0, 100, 18, 230.4, 3000],
      [1000, 100, 18, 230.4, 3000],
      [2500, 100, 40, 230.4, 3000], // replaces the step at 2000: one point per bucket
      [3000, 100, 40, 230.4, 3000],
      [4000, 100, 40, 230.4, 3000],
    ]);
    clock.advance(60_000); // nobody looked for a minute: one window of steps, no more
    const points = rec.historyOf(ups)?.since() ?? [];
    assert.deepEqual(
      points.map((p) => p[0]),
      [54_000, 55_000, 56_000, 57_000, 58_000, 59_000, 60_000, 61_000, 62_000, 63_000, 64_000],
    );
    assert.deepEqual(points.at(-1), [64_000, 100, 40, 230.4, 3000]);
  });
});

describe('UpsHistory ring', () => {
  it('wraps around at its bound and keeps the newest points in order', () => {
    const h = new UpsHistory({ windowMs: 10_000, resolutionMs: 1000 });
    for (let t = 0; t <= 60_000; t += 1000) h.record(t, [t / 1000, null, 230, 600]);
    const points = h.since();
    assert.ok(h.size <= 11, `size ${h.size}`);
    assert.deepEqual(
      points.map((p) => p[0]),
      [50_000, 51_000, 52_000, 53_000, 54_000, 55_000, 56_000, 57_000, 58_000, 59_000, 60_000],
    );
    assert.deepEqual(points.at(-1), [60_000, 60, null, 230, 600]);
  });
});
