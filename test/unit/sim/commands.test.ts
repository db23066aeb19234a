import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UpsData } from '../../../src/core/state.ts';
import {
  applySimCommand,
  isSimCommand,
  SIM_COMMANDS,
  type SimCommand,
} from '../../../src/sources/sim/commands.ts';
import { toUpsData } from '../../../src/sources/sim/mapping.ts';
import { type SimState, step } from '../../../src/sources/sim/model.ts';
import { model, pick } from './helpers.ts';

const AT = '2024-03-02T14:05:00.000Z';
const LATER = '2024-03-02T14:06:00.000Z';

function must(s: SimState, name: SimCommand, delayS?: number): SimState {
  const r = applySimCommand(s, name, AT, delayS);
  assert.ok(r.ok, `${name} refused: ${r.ok ? '' : r.reason}`);
  return r.state;
}

const onMains = (): SimState => model({ load_drift: '0' });
const onBattery = (): SimState => must(onMains(), 'simulate.power_fail');
const testing = (): SimState => must(onMains(), 'test.battery.start.quick');
const calibrating = (): SimState => must(onMains(), 'calibrate.start');
const outputOff = (): SimState => must(onMains(), 'load.off');

interface Row {
  name: SimCommand;
  quirk: string;
  from: () => SimState;
  delayS?: number;
  expect: Partial<UpsData>;
  message: string;
}

/** One row per command effect; `expect` lists the reading's keys the command must set. */
const ROWS: Row[] = [
  {
    name: 'simulate.power_fail',
    quirk: 'mains goes, the unit transfers to battery',
    from: onMains,
    expect: {
      online: false,
      on_battery: true,
      input_voltage_v: 0,
      transfers: 1,
      last_transfer_reason: 'Low line voltage',
      last_on_battery_at: AT,
    },
    message: 'mains power removed',
  },
  {
    name: 'simulate.power_restore',
    quirk: 'mains returns, the unit leaves the battery',
    from: onBattery,
    expect: { online: true, on_battery: false, input_voltage_v: 230, last_off_battery_at: AT },
    message: 'mains power restored',
  },
  {
    name: 'test.battery.start.quick',
    quirk: 'a quick test puts the unit on battery as a test',
    from: onMains,
    expect: {
      on_battery: true,
      test_in_progress: true,
      self_test_result: 'in_progress',
      last_self_test_at: AT,
      last_transfer_reason: 'Automatic or explicit self test',
    },
    message: 'quick battery self-test started',
  },
  {
    name: 'test.battery.start.deep',
    quirk: 'the deep test is APC runtime calibration',
    from: onMains,
    expect: { calibrating: true, on_battery: true, test_in_progress: true },
    message: 'runtime calibration started',
  },
  {
    name: 'calibrate.start',
    quirk: 'calibration runs on battery',
    from: onMains,
    expect: { calibrating: true, on_battery: true, last_transfer_reason: 'Forced by software' },
    message: 'runtime calibration started',
  },
  {
    name: 'test.battery.stop',
    quirk: 'stopping a quick test reports aborted',
    from: testing,
    expect: { self_test_result: 'aborted', on_battery: false, online: true },
    message: 'self-test aborted',
  },
  {
    name: 'test.battery.stop',
    quirk: 'stopping a deep test ends the calibration',
    from: calibrating,
    expect: { calibrating: false, on_battery: false, self_test_result: 'none' },
    message: 'calibration aborted',
  },
  {
    name: 'calibrate.stop',
    quirk: 'ends the calibration',
    from: calibrating,
    expect: { calibrating: false, online: true },
    message: 'calibration aborted',
  },
  {
    name: 'calibrate.stop',
    quirk: 'leaves a quick test alone',
    from: testing,
    expect: { test_in_progress: true, self_test_result: 'in_progress' },
    message: 'no calibration running',
  },
  {
    name: 'beeper.disable',
    quirk: 'disables',
    from: onMains,
    expect: { alarm_mode: 'disabled' },
    message: 'beeper disabled',
  },
  {
    name: 'beeper.enable',
    quirk: 'enables a disabled beeper',
    from: () => must(onMains(), 'beeper.disable'),
    expect: { alarm_mode: 'enabled' },
    message: 'beeper enabled',
  },
  {
    name: 'beeper.mute',
    quirk: 'mutes an enabled beeper',
    from: onBattery,
    expect: { alarm_mode: 'muted' },
    message: 'beeper muted until the unit is back on mains',
  },
  {
    name: 'beeper.mute',
    quirk: 'a disabled beeper stays disabled',
    from: () => must(onMains(), 'beeper.disable'),
    expect: { alarm_mode: 'disabled' },
    message: 'beeper is disabled; nothing to mute',
  },
  {
    name: 'shutdown.return',
    quirk: 'nothing happens before the delay',
    from: onMains,
    expect: { output_off: false, online: true },
    message: 'output turns off in 20 s; it returns when mains is present',
  },
  {
    name: 'shutdown.stayoff',
    quirk: 'takes its delay from delay_s',
    from: onBattery,
    delayS: 5,
    expect: { output_off: false, on_battery: true },
    message: 'output turns off in 5 s; it stays off until load.on',
  },
  {
    name: 'shutdown.return',
    quirk: 'delay 0 turns the output off at once',
    from: onBattery,
    delayS: 0,
    expect: { output_off: true, on_battery: false, last_off_battery_at: AT, output_voltage_v: 0 },
    message: 'output off now; it returns when mains is present',
  },
  {
    name: 'shutdown.stop',
    quirk: 'with nothing pending says so',
    from: onMains,
    expect: { output_off: false },
    message: 'no shutdown pending',
  },
  {
    name: 'load.off',
    quirk: 'cuts the output on mains',
    from: onMains,
    expect: { output_off: true, online: true, load_pct: 0, output_current_a: 0 },
    message: 'output off',
  },
  {
    name: 'load.off',
    quirk: 'aborts a running self-test',
    from: testing,
    expect: { output_off: true, self_test_result: 'aborted', test_in_progress: false },
    message: 'output off',
  },
  {
    name: 'load.on',
    quirk: 'restores the output',
    from: outputOff,
    expect: { output_off: false, online: true, load_pct: 18, output_voltage_v: 230 },
    message: 'output on',
  },
  {
    name: 'load.on',
    quirk: 'without mains starts from the battery, not counted as a transfer',
    from: () => must(outputOff(), 'simulate.power_fail'),
    expect: { output_off: false, on_battery: true, transfers: 0, last_on_battery_at: AT },
    message: 'output on, from the battery',
  },
  {
    name: 'test.panel.start',
    quirk: 'lights and beep only: the reading does not change',
    from: onMains,
    expect: toUpsData(onMains()),
    message: 'front-panel test: lights and beeper for 2 s',
  },
];

describe('sim commands: effects', () => {
  for (const row of ROWS) {
    it(`${row.name}: ${row.quirk}`, () => {
      const r = applySimCommand(row.from(), row.name, AT, row.delayS);
      assert.ok(r.ok, r.ok ? '' : r.reason);
      assert.equal(r.message, row.message);
      const keys = Object.keys(row.expect) as Array<keyof UpsData>;
      assert.deepEqual(pick(toUpsData(r.state), keys), row.expect);
    });
  }

  it('every command has at least one row', () => {
    const covered = new Set(ROWS.map((r) => r.name));
    assert.deepEqual(
      SIM_COMMANDS.filter((c) => !covered.has(c)),
      [],
    );
  });
});

describe('sim commands: refusals leave the state as it was', () => {
  const refusals: Array<{ name: SimCommand; quirk: string; from: () => SimState; reason: string }> =
    [
      {
        name: 'test.battery.start.quick',
        quirk: 'no self-test on battery',
        from: onBattery,
        reason: 'mains is not present',
      },
      {
        name: 'test.battery.start.quick',
        quirk: 'no second test while one runs',
        from: testing,
        reason: 'a battery test is already running',
      },
      {
        name: 'test.battery.start.quick',
        quirk: 'no test with the output off',
        from: outputOff,
        reason: 'the output is off',
      },
      {
        name: 'calibrate.start',
        quirk: 'calibration needs a full battery',
        from: () => model({ charge: '80' }),
        reason: 'calibration needs 100 % charge',
      },
      {
        name: 'load.on',
        quirk: 'nothing to start from',
        from: () => must(must(model({ charge: '0' }), 'load.off'), 'simulate.power_fail'),
        reason: 'no mains and the battery is empty',
      },
    ];
  for (const row of refusals) {
    it(`${row.name}: ${row.quirk}`, () => {
      const before = row.from();
      const r = applySimCommand(before, row.name, AT);
      assert.deepEqual(r, { ok: false, state: before, reason: row.reason });
    });
  }
});

describe('sim commands: delays and lifecycles', () => {
  it('shutdown.return: off after the delay, back on when mains is present', () => {
    let s = must(onMains(), 'shutdown.return', 30);
    s = step(s, 29_999, AT);
    assert.equal(toUpsData(s).output_off, false);
    s = step(s, 1, LATER);
    assert.equal(toUpsData(s).output_off, true);
    // Mains is present, so it comes back after the 10 s wake delay.
    s = step(s, 9_999, LATER);
    assert.equal(toUpsData(s).output_off, true);
    s = step(s, 1, LATER);
    assert.equal(toUpsData(s).output_off, false);
  });

  it('shutdown.return on battery waits for mains', () => {
    let s = must(onBattery(), 'shutdown.return', 10);
    s = step(s, 3_600_000, AT);
    let d = toUpsData(s);
    assert.deepEqual([d.output_off, d.on_battery, d.online], [true, false, false]);
    s = step(must(s, 'simulate.power_restore'), 10_000, LATER);
    d = toUpsData(s);
    assert.deepEqual([d.output_off, d.online], [false, true]);
  });

  it('shutdown.stayoff stays off when mains is present', () => {
    let s = step(must(onMains(), 'shutdown.stayoff', 5), 3_600_000, AT);
    assert.equal(toUpsData(s).output_off, true);
    s = must(s, 'load.on');
    assert.equal(toUpsData(s).output_off, false);
  });

  it('shutdown.stop cancels a pending shutdown', () => {
    let s = step(must(onMains(), 'shutdown.stayoff', 30), 10_000, AT);
    const r = applySimCommand(s, 'shutdown.stop', AT);
    assert.ok(r.ok);
    assert.equal(r.message, 'pending shutdown cancelled');
    s = step(r.state, 3_600_000, LATER);
    assert.equal(toUpsData(s).output_off, false);
  });

  it('the default shutdown delay is 20 s', () => {
    const s = must(onMains(), 'shutdown.stayoff');
    assert.equal(toUpsData(step(s, 19_999, AT)).output_off, false);
    assert.equal(toUpsData(step(s, 20_000, AT)).output_off, true);
  });

  it('a mute lasts until the unit is back on mains', () => {
    let s = must(onBattery(), 'beeper.mute');
    s = step(s, 60_000, AT);
    assert.equal(toUpsData(s).alarm_mode, 'muted');
    s = must(s, 'simulate.power_restore');
    assert.equal(toUpsData(s).alarm_mode, 'enabled');
  });

  it('names from outside are checked against the list', () => {
    assert.equal(isSimCommand('load.off'), true);
    assert.equal(isSimCommand('test.failure.start'), false);
    assert.equal(isSimCommand('toString'), false);
  });
});
