import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import type { UpsEvent } from '../../../src/core/events.ts';
import type { UpsState } from '../../../src/core/state.ts';
import { isoWithOffset } from '../../../src/core/time.ts';
import {
  OutageExtension,
  OutageTracker,
  parseOutageSnapshot,
} from '../../../src/policy/outages.ts';
import { captureLogger } from '../bridge/fakes.ts';

const root = mkdtempSync(join(tmpdir(), 'ups2mqtt-outages-'));
after(() => rmSync(root, { recursive: true, force: true }));

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
let clock = new ManualClock(T0);

/** A state read now (by the manual clock). */
function reading(onBattery: boolean, charge: number, extra: Partial<UpsState> = {}): UpsState {
  return {
    status: onBattery ? 'on_battery' : 'online',
    online: !onBattery,
    on_battery: onBattery,
    battery_charge_pct: charge,
    updated_at: isoWithOffset(new Date(clock.now())),
    ...extra,
  };
}
const reduced = (): UpsState => ({
  status: 'comm_lost',
  comm_lost: true,
  updated_at: isoWithOffset(new Date(clock.now())),
});
const iso = (ms: number): string => isoWithOffset(new Date(ms));

/** Feeds a state through the extension as the bridge does; returns state and events. */
function feed(
  ext: OutageExtension,
  state: UpsState,
  good = true,
): { state: UpsState; events: UpsEvent[] } {
  ext.extend(state, good, { upsId: 'rack' });
  return { state, events: ext.events() };
}

describe('OutageTracker', () => {
  it('counts an outage from the first reading on battery to the first off it, figures exact', () => {
    clock = new ManualClock(T0);
    const t = new OutageTracker();
    assert.deepEqual(t.observe(reading(false, 100), true), { changed: false, events: [] });
    clock.advance(1000);
    const start = t.observe(reading(true, 99), true);
    assert.deepEqual(start.events, [
      {
        event_type: 'outage_started',
        at: iso(T0 + 1000),
        origin: 'bridge',
        message: 'Outage 1 started: running on battery',
        outages_total: 1,
        min_charge_pct: 99,
      },
    ]);
    for (const c of [97, 95.5, 96]) {
      clock.advance(10_000);
      assert.deepEqual(t.observe(reading(true, c), true).events, []);
    }
    clock.advance(12_400);
    const end = t.observe(reading(false, 96), true);
    assert.deepEqual(end.events, [
      {
        event_type: 'outage_ended',
        at: iso(T0 + 43_400),
        origin: 'bridge',
        message: 'Outage 1 ended after 42 s: mains power back',
        outages_total: 1,
        started_at: iso(T0 + 1000),
        duration_s: 42,
        min_charge_pct: 95.5,
      },
    ]);
    const s: UpsState = { status: 'online', updated_at: iso(clock.now()) };
    t.apply(s);
    assert.deepEqual(s, {
      status: 'online',
      updated_at: iso(clock.now()),
      outages_total: 1,
      last_outage_started_at: iso(T0 + 1000),
      last_outage_ended_at: iso(T0 + 43_400),
      last_outage_duration_s: 42,
      last_outage_min_charge_pct: 95.5,
    });
  });

  it('a charge lower on the reading that ends the outage counts; a start adds the count and clears the end', () => {
    clock = new ManualClock(T0);
    const t = new OutageTracker({
      version: 1,
      outages_total: 4,
      last: {
        started_at: iso(T0 - 9e6),
        ended_at: iso(T0 - 8e6),
        duration_s: 1000,
        min_charge_pct: 50,
      },
    });
    t.observe(reading(true, 80), true);
    const mid: UpsState = { status: 'on_battery', updated_at: iso(T0) };
    t.apply(mid);
    assert.equal(mid.outages_total, 5);
    assert.equal(mid.last_outage_started_at, iso(T0));
    assert.equal(mid.last_outage_ended_at, undefined, 'an ongoing outage has no end');
    assert.equal(mid.last_outage_duration_s, undefined);
    assert.equal(mid.last_outage_min_charge_pct, 80);
    clock.advance(2_600);
    const end = t.observe(reading(false, 78), true);
    assert.equal(end.events[0]?.min_charge_pct, 78);
    assert.equal(end.events[0]?.duration_s, 3, '2.6 s rounds to 3');
  });

  it('ignores self-tests and calibrations, and the reduced state', () => {
    clock = new ManualClock(T0);
    const t = new OutageTracker();
    assert.equal(t.observe(reading(true, 100, { test_in_progress: true }), true).events.length, 0);
    assert.equal(t.observe(reading(true, 100, { calibrating: true }), true).events.length, 0);
    assert.equal(t.observe(reading(true, 100), false).events.length, 0);
    assert.equal(t.ongoing, false);
    assert.equal(t.snapshot().outages_total, 0);
  });

  it('keeps the outage open through a communication loss; the end is the first good reading after it', () => {
    clock = new ManualClock(T0);
    const t = new OutageTracker();
    t.observe(reading(true, 90), true);
    clock.advance(5_000);
    t.observe(reduced(), false);
    assert.equal(t.ongoing, true);
    clock.advance(60_000);
    const end = t.observe(reading(false, 70), true);
    assert.equal(end.events[0]?.duration_s, 65);
    assert.equal(end.events[0]?.min_charge_pct, 70);
  });
});

describe('parseOutageSnapshot', () => {
  it('accepts what the tracker writes and rejects anything odd', () => {
    const good = {
      version: 1,
      outages_total: 2,
      last: { started_at: iso(T0), ended_at: iso(T0 + 5000), duration_s: 5, min_charge_pct: 88 },
    };
    assert.deepEqual(parseOutageSnapshot(good), good);
    assert.deepEqual(parseOutageSnapshot({ version: 1, outages_total: 0 }), {
      version: 1,
      outages_total: 0,
    });
    for (const bad of [
      null,
      [],
      { version: 2, outages_total: 0 },
      { version: 1, outages_total: -1 },
      { version: 1, outages_total: 1.5 },
      { version: 1, outages_total: 1, last: { started_at: 'yesterday' } },
      { version: 1, outages_total: 1, last: { started_at: iso(T0), ended_at: iso(T0) } },
      { version: 1, outages_total: 1, last: { started_at: iso(T0), min_charge_pct: 101 } },
    ]) {
      assert.equal(parseOutageSnapshot(bad), undefined, JSON.stringify(bad));
    }
  });
});

describe('OutageExtension (persisted in data_dir)', () => {
  it('writes before publishing, and a new extension resumes mid-outage without a second start', () => {
    const dir = join(root, 'resume');
    clock = new ManualClock(T0);
    const a = new OutageExtension({ dataDir: dir, logger: captureLogger().logger });
    const first = feed(a, reading(false, 100));
    assert.equal(first.state.outages_total, 0, 'the count is there from the first reading');
    clock.advance(1000);
    const started = feed(a, reading(true, 95));
    assert.deepEqual(
      started.events.map((e) => e.event_type),
      ['outage_started'],
    );
    const file = join(dir, 'rack.outages.json');
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), {
      version: 1,
      outages_total: 1,
      last: { started_at: iso(T0 + 1000), min_charge_pct: 95 },
    });
    clock.advance(1000);
    feed(a, reading(true, 93));
    a.stop(); // the bridge stops mid-outage

    // A restart: a fresh extension reads the file back.
    const { logger, lines } = captureLogger();
    const b = new OutageExtension({ dataDir: dir, logger });
    clock.advance(30_000);
    const resumed = feed(b, reading(true, 80));
    assert.deepEqual(resumed.events, [], 'no second outage_started');
    assert.equal(resumed.state.outages_total, 1);
    assert.equal(resumed.state.last_outage_started_at, iso(T0 + 1000));
    assert.ok(
      lines.some((l) => l.msg === 'resuming an outage that was ongoing when the bridge stopped'),
    );
    clock.advance(4_000);
    const ended = feed(b, reading(false, 81));
    assert.equal(ended.events[0]?.event_type, 'outage_ended');
    assert.equal(ended.events[0]?.duration_s, 35);
    assert.equal(ended.events[0]?.min_charge_pct, 80);
    assert.equal(ended.events[0]?.started_at, iso(T0 + 1000));
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).last, {
      started_at: iso(T0 + 1000),
      ended_at: iso(T0 + 36_000),
      duration_s: 35,
      min_charge_pct: 80,
    });
  });

  it('keeps the figures in the reduced state', () => {
    const dir = join(root, 'reduced');
    clock = new ManualClock(T0);
    const ext = new OutageExtension({ dataDir: dir, logger: captureLogger().logger });
    feed(ext, reading(true, 90));
    const r = feed(ext, reduced(), false);
    assert.equal(r.state.outages_total, 1);
    assert.equal(r.state.last_outage_started_at, iso(T0));
    assert.equal(r.state.last_outage_min_charge_pct, 90);
  });

  it('sets a corrupt file aside, logs it and starts from zero', () => {
    const dir = join(root, 'corrupt');
    clock = new ManualClock(T0);
    const seed = new OutageExtension({ dataDir: dir, logger: captureLogger().logger });
    feed(seed, reading(true, 90));
    writeFileSync(join(dir, 'rack.outages.json'), '{"version":1,"outages_total":');
    const { logger, lines } = captureLogger();
    const ext = new OutageExtension({ dataDir: dir, logger });
    const r = feed(ext, reading(false, 100));
    assert.equal(r.state.outages_total, 0);
    assert.equal(r.state.last_outage_started_at, undefined);
    assert.ok(
      lines.some((l) => l.level === 'error' && l.msg === 'stored state set aside; starting afresh'),
    );
    assert.ok(readdirSync(dir).some((f) => /^rack\.outages\.json\.corrupt-\d+$/.test(f)));
  });

  it('an unwritable data_dir is logged and the figures still publish', () => {
    const file = join(root, 'not-a-dir');
    writeFileSync(file, 'x');
    clock = new ManualClock(T0);
    const { logger, lines } = captureLogger();
    const ext = new OutageExtension({ dataDir: file, logger });
    const r = feed(ext, reading(true, 90));
    assert.equal(r.state.outages_total, 1);
    assert.equal(r.events[0]?.event_type, 'outage_started');
    assert.ok(
      lines.some(
        (l) =>
          l.level === 'error' &&
          l.msg === 'cannot persist the outage figures; they will not survive a restart',
      ),
    );
  });
});
