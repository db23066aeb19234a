import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveStatus, type UpsData } from '../../../src/core/state.ts';
import { applySimCommand, type SimCommand } from '../../../src/sources/sim/commands.ts';
import { toUpsData } from '../../../src/sources/sim/mapping.ts';
import { type SimState, step } from '../../../src/sources/sim/model.ts';
import { model } from './helpers.ts';

const T0 = '2024-03-02T14:00:00.000Z';
const T1 = '2024-03-02T14:05:00.000Z';
const T2 = '2024-03-02T14:10:00.000Z';

function run(s: SimState, name: SimCommand, at = T1, delayS?: number): SimState {
  const r = applySimCommand(s, name, at, delayS);
  assert.ok(r.ok, `${name} was refused: ${r.ok ? '' : r.reason}`);
  return r.state;
}

/** Charge lost per simulated second on battery, written out from the documented figures. */
function drainPctPerS(loadPct: number, nominalW = 1000, capacityWh = 200): number {
  const drawW = (loadPct / 100) * nominalW * (1 / 0.88) + 0.015 * nominalW;
  return (drawW / capacityWh / 3600) * 100;
}

describe('sim model: the reading users see', () => {
  it('a fresh default unit reads exactly like this', () => {
    assert.deepEqual(toUpsData(model({ serial: 'SIM000000001' })), {
      manufacturer: 'ups2mqtt',
      model: 'Smart-UPS 1500 (simulated)',
      serial_number: 'SIM000000001',
      firmware: 'sim-1',
      online: true,
      on_battery: false,
      low_battery: false,
      replace_battery: false,
      overload: false,
      charging: false,
      discharging: false,
      calibrating: false,
      output_off: false,
      test_in_progress: false,
      battery_charge_pct: 100,
      runtime_s: 3280,
      load_pct: 18,
      load_apparent_pct: 13.3,
      load_w: 180,
      input_voltage_v: 230,
      input_voltage_nominal_v: 230,
      input_frequency_hz: 50,
      output_voltage_v: 230,
      output_voltage_nominal_v: 230,
      output_frequency_hz: 50,
      output_current_a: 0.87,
      battery_voltage_v: 27.2,
      battery_voltage_nominal_v: 24,
      internal_temp_c: 25.8,
      nominal_power_w: 1000,
      nominal_apparent_power_va: 1500,
      transfers: 0,
      time_on_battery_s: 0,
      cumulative_on_battery_s: 0,
      transfer_low_v: 196,
      transfer_high_v: 253,
      sensitivity: 'high',
      shutdown_delay_s: 20,
      wake_delay_s: 10,
      low_battery_warning_s: 120,
      restart_charge_pct: 15,
      alarm_mode: 'enabled',
      last_transfer_reason: 'No transfers since turnon',
      self_test_result: 'none',
    });
  });

  it('120 V mains reads 60 Hz and the US transfer points', () => {
    const d = toUpsData(model({ mains: '120' }));
    assert.deepEqual(
      [
        d.input_voltage_v,
        d.input_frequency_hz,
        d.output_voltage_v,
        d.transfer_low_v,
        d.transfer_high_v,
      ],
      [120, 60, 120, 106, 127],
    );
  });

  it('mains voltage is nominal ± 2.5 V on mains and 0 on battery', () => {
    let s = model({ seed: '7' });
    const seen = new Set<number>();
    for (let i = 0; i < 50; i++) {
      s = step(s, 1000, T0);
      const v = toUpsData(s).input_voltage_v ?? Number.NaN;
      assert.ok(v >= 227.5 && v <= 232.5, `input ${v}`);
      seen.add(v);
    }
    assert.ok(seen.size > 10, 'the reading should vary');
    s = step(run(s, 'simulate.power_fail'), 1000, T1);
    assert.equal(toUpsData(s).input_voltage_v, 0);
    assert.equal(toUpsData(s).input_frequency_hz, 0);
  });
});

describe('sim model: determinism', () => {
  function script(seed: string): UpsData[] {
    let s = model({ seed });
    const out: UpsData[] = [];
    for (let i = 0; i < 40; i++) {
      if (i === 10) s = run(s, 'simulate.power_fail');
      if (i === 25) s = run(s, 'simulate.power_restore');
      s = step(s, 30_000, T0);
      out.push(toUpsData(s));
    }
    return out;
  }

  it('the same seed gives the same sequence', () => {
    assert.deepEqual(script('42'), script('42'));
  });

  it('another seed gives another sequence', () => {
    assert.notDeepEqual(script('42'), script('43'));
  });

  it('one long step and many short ones agree on the energy bookkeeping', () => {
    const base = run(model({ load: '50', load_drift: '0' }), 'simulate.power_fail');
    let many = base;
    for (let i = 0; i < 600; i++) many = step(many, 1000, T1);
    const one = step(base, 600_000, T1);
    assert.ok(Math.abs(one.chargePct - many.chargePct) < 1e-9);
    assert.equal(one.onBatteryMs, 600_000);
  });
});

describe('sim model: energy bookkeeping', () => {
  it('on battery at 50 % load the charge falls at the documented rate', () => {
    let s = run(model({ load: '50', load_drift: '0' }), 'simulate.power_fail');
    s = step(s, 60_000, T1);
    // (500 W / 0.88 + 15 W) / 200 Wh → 0.081 %/s, 4.86 % a minute.
    const expected = 100 - drainPctPerS(50) * 60;
    assert.ok(Math.abs(s.chargePct - expected) < 1e-6, `${s.chargePct} vs ${expected}`);
    assert.equal(toUpsData(s).battery_charge_pct, 95.1);
  });

  it('with drift on, the rate stays within 5 % of the set point rate', () => {
    let s = run(model({ load: '50', seed: '3' }), 'simulate.power_fail');
    s = step(s, 300_000, T1);
    const expected = drainPctPerS(50) * 300;
    const lost = 100 - s.chargePct;
    assert.ok(Math.abs(lost - expected) / expected < 0.05, `lost ${lost}, expected ≈ ${expected}`);
  });

  it('runtime follows remaining energy and rises when the load drops', () => {
    const s = run(model({ load: '50', load_drift: '0' }), 'simulate.power_fail');
    const at50 = toUpsData(s).runtime_s ?? 0;
    // 200 Wh / 583.2 W = 1234.6 s
    assert.equal(at50, 1235);
    const at25 = toUpsData({ ...s, loadSetPct: 25 }).runtime_s ?? 0;
    assert.ok(at25 > at50 * 1.8, `${at25} should be about twice ${at50}`);
  });

  it('the battery recharges on mains: 0.5 %/min in bulk, 0.25 %/min above 90 %', () => {
    let s = model({ charge: '50', load_drift: '0' });
    assert.equal(toUpsData(s).charging, true);
    s = step(s, 10 * 60_000, T1);
    assert.equal(toUpsData(s).battery_charge_pct, 55);
    s = step(model({ charge: '95', load_drift: '0' }), 10 * 60_000, T1);
    assert.equal(toUpsData(s).battery_charge_pct, 97.5);
    s = step(s, 60 * 60_000, T1);
    assert.equal(toUpsData(s).battery_charge_pct, 100);
    assert.equal(toUpsData(s).charging, false);
  });

  it('battery voltage follows charge between 2.0 and 2.27 V per cell', () => {
    assert.equal(toUpsData(model({ charge: '100' })).battery_voltage_v, 27.2);
    assert.equal(toUpsData(model({ charge: '0' })).battery_voltage_v, 24);
    const on = run(model({ charge: '50', load: '50', load_drift: '0' }), 'simulate.power_fail');
    // 12 × (2.0 + 0.135 − 0.05 − 0.05) = 24.42 V: sag under load on battery.
    assert.equal(toUpsData(on).battery_voltage_v, 24.4);
  });

  it('counts time on battery: the current stint and the total', () => {
    let s = run(model(), 'simulate.power_fail', T1);
    s = step(s, 90_500, T1);
    assert.deepEqual(
      [toUpsData(s).time_on_battery_s, toUpsData(s).cumulative_on_battery_s],
      [90, 90],
    );
    s = step(run(s, 'simulate.power_restore', T2), 5000, T2);
    s = step(run(s, 'simulate.power_fail', T2), 10_000, T2);
    const d = toUpsData(s);
    assert.deepEqual([d.time_on_battery_s, d.cumulative_on_battery_s, d.transfers], [10, 100, 2]);
  });
});

describe('sim model: flags agree with the status rules', () => {
  function checkFlags(d: UpsData, where: string): void {
    assert.ok(!(d.online && d.on_battery), `${where}: online and on_battery together`);
    assert.equal(d.discharging, d.on_battery, `${where}: discharging`);
    if (d.low_battery) assert.ok(d.on_battery, `${where}: low_battery off battery`);
    if (d.output_off) assert.ok(!d.on_battery, `${where}: output_off on battery`);
    if (d.test_in_progress) assert.ok(d.on_battery, `${where}: test off battery`);
    if (d.charging) assert.ok(d.online, `${where}: charging off mains`);
    if (d.low_battery) {
      assert.ok(
        (d.battery_charge_pct ?? 100) < 10 || (d.runtime_s ?? 1e9) < 120,
        `${where}: low_battery without reason`,
      );
    } else if (d.on_battery) {
      assert.ok(
        (d.battery_charge_pct ?? 0) >= 10 && (d.runtime_s ?? 0) >= 120,
        `${where}: missed low`,
      );
    }
  }

  it('hold through a whole outage, exhaustion and recovery', () => {
    let s = model({ load: '60', seed: '9' });
    const statuses = new Set<string>();
    const plan: Array<[number, SimCommand | null]> = [
      [0, 'test.battery.start.quick'],
      [20, 'simulate.power_fail'],
      [30, 'beeper.mute'],
      [1500, 'simulate.power_restore'],
      [1510, 'load.off'],
      [1515, 'load.on'],
    ];
    for (let t = 0; t < 1600; t++) {
      for (const [at, cmd] of plan) if (at === t && cmd !== null) s = run(s, cmd);
      s = step(s, 5000, T1);
      const d = toUpsData(s);
      checkFlags(d, `t=${t}`);
      statuses.add(deriveStatus(d));
    }
    assert.deepEqual([...statuses].sort(), ['low_battery', 'on_battery', 'online', 'output_off']);
  });

  const lowRows: Array<{ quirk: string; params: Record<string, string>; low: boolean }> = [
    { quirk: 'charge 10.0 % is not low yet', params: { charge: '10' }, low: false },
    { quirk: 'charge 9.9 % is low', params: { charge: '9.94' }, low: true },
    {
      quirk: 'high load: runtime under 120 s at 20 % is low',
      params: { charge: '20', load: '150' },
      low: true,
    },
    {
      quirk: 'high load: runtime over 120 s at 30 % is not',
      params: { charge: '30', load: '150' },
      low: false,
    },
  ];
  for (const row of lowRows) {
    it(`low_battery: ${row.quirk}`, () => {
      const s = run(model({ ...row.params, load_drift: '0' }), 'simulate.power_fail');
      const d = toUpsData(s);
      assert.equal(d.low_battery, row.low);
      assert.equal(deriveStatus(d), row.low ? 'low_battery' : 'on_battery');
    });
  }

  it('low_battery is not raised on mains, even at a low charge', () => {
    const d = toUpsData(model({ charge: '5' }));
    assert.deepEqual([d.low_battery, d.online, deriveStatus(d)], [false, true, 'online']);
  });

  it('at 0 % the output turns off, and returns on mains once charged to 15 % plus 10 s', () => {
    let s = run(model({ charge: '2', load: '50', load_drift: '0' }), 'simulate.power_fail', T1);
    s = step(s, 60_000, T2);
    let d = toUpsData(s);
    assert.deepEqual(
      [d.battery_charge_pct, d.output_off, d.on_battery, d.online, d.output_voltage_v, d.load_pct],
      [0, true, false, false, 0, 0],
    );
    assert.equal(deriveStatus(d), 'output_off');
    assert.equal(d.last_off_battery_at, T2);
    s = run(s, 'simulate.power_restore', T2);
    // 15 % at 0.5 %/min is 30 min; the wake delay adds 10 s.
    s = step(s, 30 * 60_000 + 9_999, T2);
    d = toUpsData(s);
    assert.deepEqual([d.output_off, d.online, deriveStatus(d)], [true, true, 'output_off']);
    s = step(s, 1, T2);
    d = toUpsData(s);
    assert.deepEqual([d.output_off, d.online, deriveStatus(d)], [false, true, 'online']);
  });

  it('load over 100 % raises overload', () => {
    const d = toUpsData(model({ load: '110', load_drift: '0' }));
    assert.deepEqual([d.overload, d.load_w, deriveStatus(d)], [true, 1100, 'overload']);
  });
});

describe('sim model: self-test lifecycle', () => {
  it('runs 10 s on battery, then passes and returns to mains', () => {
    let s = run(model(), 'test.battery.start.quick', T1);
    let d = toUpsData(s);
    assert.deepEqual(
      [d.on_battery, d.online, d.test_in_progress, d.self_test_result, d.last_self_test_at],
      [true, false, true, 'in_progress', T1],
    );
    assert.equal(d.last_transfer_reason, 'Automatic or explicit self test');
    s = step(s, 9_999, T1);
    assert.equal(toUpsData(s).self_test_result, 'in_progress');
    s = step(s, 1, T2);
    d = toUpsData(s);
    assert.deepEqual(
      [d.on_battery, d.online, d.test_in_progress, d.self_test_result, d.last_off_battery_at],
      [false, true, false, 'passed', T2],
    );
    assert.equal(d.last_transfer_reason, 'Automatic or explicit self test');
  });

  it('fails for capacity when the charge is low', () => {
    const s = step(run(model({ charge: '35' }), 'test.battery.start.quick'), 10_000, T2);
    assert.equal(toUpsData(s).self_test_result, 'failed_capacity');
    assert.equal(toUpsData(s).online, true);
  });

  it('test.battery.stop aborts it', () => {
    let s = step(run(model(), 'test.battery.start.quick'), 3000, T1);
    s = run(s, 'test.battery.stop', T2);
    const d = toUpsData(s);
    assert.deepEqual(
      [d.self_test_result, d.on_battery, d.test_in_progress],
      ['aborted', false, false],
    );
  });

  it('a power failure during the test aborts it and keeps the unit on battery for the blackout', () => {
    let s = run(model(), 'test.battery.start.quick', T1);
    s = run(step(s, 3000, T1), 'simulate.power_fail', T2);
    s = step(s, 20_000, T2);
    const d = toUpsData(s);
    assert.deepEqual(
      [d.self_test_result, d.on_battery, d.test_in_progress, d.transfers, d.last_transfer_reason],
      ['aborted', true, false, 1, 'Low line voltage'],
    );
    assert.equal(d.time_on_battery_s, 23);
  });

  it('calibration runs on battery down to 25 % and then returns to mains', () => {
    let s = run(model({ load: '50', load_drift: '0' }), 'calibrate.start');
    let d = toUpsData(s);
    assert.deepEqual([d.calibrating, d.on_battery, d.test_in_progress], [true, true, true]);
    assert.equal(deriveStatus(d), 'on_battery');
    const seconds = Math.ceil(75 / drainPctPerS(50));
    s = step(s, (seconds - 2) * 1000, T1);
    assert.equal(toUpsData(s).calibrating, true);
    s = step(s, 3000, T2);
    d = toUpsData(s);
    assert.deepEqual([d.calibrating, d.online, d.self_test_result], [false, true, 'none']);
    assert.ok(Math.abs((d.battery_charge_pct ?? 0) - 25) < 0.2);
  });
});

describe('sim model: scripted outage', () => {
  it('fail_at and restore_at switch mains exactly on time', () => {
    let s = model({ fail_at: '30', restore_at: '90' });
    s = step(s, 29_999, T0);
    assert.equal(toUpsData(s).online, true);
    s = step(s, 1, T1);
    assert.deepEqual([toUpsData(s).on_battery, toUpsData(s).last_on_battery_at], [true, T1]);
    s = step(s, 60_000, T2);
    const d = toUpsData(s);
    assert.deepEqual([d.online, d.last_off_battery_at, d.cumulative_on_battery_s], [true, T2, 60]);
  });

  it('the script is in clock seconds, so speed scales it into simulated time', () => {
    const s = model({ fail_at: '3', speed: '10' });
    assert.equal(s.config.failAtMs, 30_000);
  });
});
