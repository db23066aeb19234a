import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { UpsState } from '../../../src/core/state.ts';
import { isoWithOffset } from '../../../src/core/time.ts';
import {
  EnergyExtension,
  EnergyTracker,
  LoadPowerExtension,
  parseEnergySnapshot,
  publishedKwh,
} from '../../../src/policy/energy.ts';
import { captureLogger } from '../bridge/fakes.ts';

const root = mkdtempSync(join(tmpdir(), 'ups2mqtt-energy-'));
after(() => rmSync(root, { recursive: true, force: true }));

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (ms: number): string => isoWithOffset(new Date(ms));
const good = (ms: number, w: number | undefined): UpsState => ({
  status: 'online',
  updated_at: at(ms),
  ...(w === undefined ? {} : { load_w: w }),
});
const reduced = (ms: number): UpsState => ({
  status: 'comm_lost',
  comm_lost: true,
  updated_at: at(ms),
});
const close = (a: number, b: number): void =>
  assert.ok(Math.abs(a - b) < 1e-12, `${a} is not ${b}`);

describe('EnergyTracker', () => {
  it('integrates trapezoids between consecutive good readings', () => {
    const t = new EnergyTracker({ maxGapMs: 3000 });
    t.observe(good(T0, 100), true, T0);
    t.observe(good(T0 + 1000, 300), true, T0 + 1000); // 200 W × 1 s
    t.observe(good(T0 + 3000, 300), true, T0 + 3000); // 300 W × 2 s
    close(t.kwh, (200 * 1 + 300 * 2) / 3600 / 1000);
    t.observe(good(T0 + 3000, 900), true, T0 + 3000); // the same reading again: nothing
    close(t.kwh, 800 / 3.6e6);
  });

  it('skips gaps: too long, unavailable, no load, clock going back; never decreases', () => {
    const t = new EnergyTracker({ maxGapMs: 3000 }, 5);
    let last = t.kwh;
    const step = (ms: number, w: number | undefined, ok = true): void => {
      t.observe(ok ? good(ms, w) : reduced(ms), ok, ms);
      assert.ok(t.kwh >= last, 'monotonic');
      last = t.kwh;
    };
    step(T0, 3600);
    step(T0 + 4000, 3600); // 4 s > 3 s: a gap
    close(t.kwh, 5);
    step(T0 + 5000, 3600, false); // unavailable
    step(T0 + 6000, 3600); // first after the gap: baseline only
    close(t.kwh, 5);
    step(T0 + 7000, undefined); // no load_w
    step(T0 + 8000, 3600);
    close(t.kwh, 5);
    step(T0 + 9000, 3600); // 3600 W × 1 s = 1 Wh
    close(t.kwh, 5.001);
    step(T0 + 2000, 3600); // the clock went back: baseline only
    step(T0 + 3000, 3600);
    close(t.kwh, 5.002);
    step(T0 + 4000, -50); // nonsense load: a gap
    step(T0 + 5000, 0);
    close(t.kwh, 5.002);
  });

  it('rounds down to whole Wh for publishing', () => {
    assert.equal(publishedKwh(0.0019999), 0.001);
    assert.equal(publishedKwh(0.001 + 0.002), 0.003);
    assert.equal(publishedKwh(12.3456), 12.345);
    assert.equal(publishedKwh(0), 0);
  });
});

describe('parseEnergySnapshot', () => {
  it('accepts the written shape, rejects others', () => {
    const ok = { version: 1, energy_kwh: 1.5, saved_at: at(T0) };
    assert.deepEqual(parseEnergySnapshot(ok), ok);
    for (const bad of [
      null,
      'x',
      { version: 1, energy_kwh: -1, saved_at: at(T0) },
      { version: 1, energy_kwh: 'NaN', saved_at: at(T0) },
      { version: 1, energy_kwh: 1, saved_at: 'then' },
      { version: 3, energy_kwh: 1, saved_at: at(T0) },
    ]) {
      assert.equal(parseEnergySnapshot(bad), undefined, JSON.stringify(bad));
    }
  });
});

describe('EnergyExtension', () => {
  /** One reading every second at `w` watts, through the extension; returns what it published. */
  function run(ext: EnergyExtension, fromMs: number, seconds: number, w: number): number[] {
    const out: number[] = [];
    for (let i = 0; i <= seconds; i++) {
      const s = good(fromMs + i * 1000, w);
      ext.extend(s, true, { upsId: 'rack' });
      out.push(s.energy_kwh as number);
    }
    return out;
  }
  const increasing = (values: number[]): void => {
    for (let i = 1; i < values.length; i++) {
      assert.ok((values[i] as number) >= (values[i - 1] as number), `drop at ${i}: ${values}`);
    }
  };

  it('publishes the persisted value, at most every persist interval, rounded down to 1 Wh', () => {
    const dir = join(root, 'cadence');
    const ext = new EnergyExtension(
      { maxGapMs: 3000, persistIntervalMs: 10_000 },
      { dataDir: dir, logger: captureLogger().logger },
    );
    // 36,000 W: 10 Wh per second.
    const published = run(ext, T0, 25, 36_000);
    // Nothing counted in the first 10 s is shown before the first write at 10 s.
    assert.deepEqual(published.slice(0, 10), Array(10).fill(0));
    assert.equal(published[10], 0.1);
    assert.deepEqual(published.slice(11, 20), Array(9).fill(0.1));
    assert.equal(published[20], 0.2);
    increasing(published);
    const file = JSON.parse(readFileSync(join(dir, 'rack.energy.json'), 'utf8'));
    assert.equal(file.saved_at, new Date(T0 + 20_000).toISOString());
    close(file.energy_kwh, 0.2);
  });

  it('is monotonic across restarts (stop flushes; a new extension starts from the file)', () => {
    const dir = join(root, 'restart');
    const deps = { dataDir: dir, logger: captureLogger().logger };
    const a = new EnergyExtension({ maxGapMs: 3000 }, deps);
    const before = run(a, T0, 30, 3600); // 1 Wh per second, 30 Wh, no write yet (60 s)
    assert.equal(before.at(-1), 0);
    a.stop();
    close(JSON.parse(readFileSync(join(dir, 'rack.energy.json'), 'utf8')).energy_kwh, 0.03);
    const b = new EnergyExtension({ maxGapMs: 3000 }, deps);
    // The restart is a gap: the first reading is only a baseline.
    const afterRestart = run(b, T0 + 120_000, 70, 3600);
    assert.equal(afterRestart[0], 0.03);
    assert.equal(afterRestart.at(-1), 0.09);
    increasing([...before, ...afterRestart]);
  });

  it('shows energy only once a load was seen or a value is stored; keeps it while unavailable', () => {
    const dir = join(root, 'appear');
    const deps = { dataDir: dir, logger: captureLogger().logger };
    const ext = new EnergyExtension({ maxGapMs: 3000 }, deps);
    const noLoad = good(T0, undefined);
    ext.extend(noLoad, true, { upsId: 'rack' });
    assert.equal(noLoad.energy_kwh, undefined);
    run(ext, T0 + 1000, 61, 3600);
    // Written at T0 + 60 s (60 s after the first reading) with 59 Wh; the last 1 Wh waits.
    const r = reduced(T0 + 70_000);
    ext.extend(r, false, { upsId: 'rack' });
    assert.equal(r.energy_kwh, 0.059);
    // After a restart, the reduced state carries the stored value before any reading.
    const next = new EnergyExtension({ maxGapMs: 3000 }, deps);
    const r2 = reduced(T0 + 90_000);
    next.extend(r2, false, { upsId: 'rack' });
    assert.equal(r2.energy_kwh, 0.059);
  });

  it('sets a corrupt file aside and starts from zero', () => {
    const dir = join(root, 'corrupt');
    const deps = { dataDir: dir, logger: captureLogger().logger };
    const a = new EnergyExtension({ maxGapMs: 3000 }, deps);
    run(a, T0, 5, 3600);
    a.stop();
    writeFileSync(join(dir, 'rack.energy.json'), '{"version":1,"energy_kwh":"lots"}');
    const { logger, lines } = captureLogger();
    const b = new EnergyExtension({ maxGapMs: 3000 }, { dataDir: dir, logger });
    assert.equal(run(b, T0 + 10_000, 2, 3600)[0], 0);
    assert.ok(lines.some((l) => l.msg === 'stored state set aside; starting afresh'));
    assert.ok(readdirSync(dir).some((f) => /^rack\.energy\.json\.corrupt-\d+$/.test(f)));
  });
});

describe('LoadPowerExtension', () => {
  it("derives load_w from the UPS's rating, else the configured one; the UPS's watts win", () => {
    const ext = new LoadPowerExtension({ nominalPowerW: 900 });
    assert.deepEqual(ext.stickyKeys, ['load_w', 'nominal_power_w']);
    const own: UpsState = { status: 'online', updated_at: at(T0), load_pct: 20, load_w: 123 };
    ext.extend(own, true);
    assert.equal(own.load_w, 123);
    const rated: UpsState = {
      status: 'online',
      updated_at: at(T0),
      load_pct: 20,
      nominal_power_w: 1500,
    };
    ext.extend(rated, true);
    assert.equal(rated.load_w, 300);
    const bare: UpsState = { status: 'online', updated_at: at(T0), load_pct: 12.5 };
    ext.extend(bare, true);
    assert.equal(bare.load_w, 112.5);
    assert.equal(bare.nominal_power_w, 900);
    const down: UpsState = { status: 'comm_lost', updated_at: at(T0) };
    ext.extend(down, false);
    assert.deepEqual(down, { status: 'comm_lost', updated_at: at(T0) });
  });

  it('without a configured rating it adds no sticky keys and warns about nothing', () => {
    const { logger, lines } = captureLogger();
    const ext = new LoadPowerExtension({}, logger);
    assert.deepEqual(ext.stickyKeys, []);
    const s: UpsState = { status: 'online', updated_at: at(T0), load_pct: 10 };
    ext.extend(s, true);
    assert.equal(s.load_w, undefined);
    assert.equal(lines.length, 0);
  });

  it('warns once when a rating is configured but the UPS reports no load', () => {
    const { logger, lines } = captureLogger();
    const ext = new LoadPowerExtension({ nominalPowerW: 600 }, logger);
    for (let i = 0; i < 3; i++) ext.extend({ status: 'online', updated_at: at(T0) }, true);
    assert.equal(lines.filter((l) => l.level === 'warn').length, 1);
  });
});
