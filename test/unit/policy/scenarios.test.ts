/**
 * The power policy against the simulated UPS on a manual clock: each trigger crossed and
 * not crossed, mains back before the trigger and during the grace, the host command
 * failing and hanging, notify-only and dry-run. The host command is a marker script.
 */
import * as assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { markerScripts, type Scenario, scenario } from './harness.ts';

const scripts = markerScripts();
after(() => scripts.cleanup());

const FULL = ['idle', 'pending', 'shutting_down', 'waiting_for_mains', 'idle'];

/** The state messages right before and at the first `shutting_down`. */
function atTrigger(s: Scenario): { before: Record<string, unknown>; at: Record<string, unknown> } {
  const all = s.states();
  const i = all.findIndex((st) => st.shutdown_state === 'shutting_down');
  assert.ok(i > 0, 'shutting_down was published');
  return { before: all[i - 1] ?? {}, at: all[i] ?? {} };
}

/** Runs an `act` scenario from the trigger to the end: host command, grace, UPS command. */
async function throughToUpsCommand(s: Scenario, graceMs: number): Promise<void> {
  await s.runUntil(() => s.policy?.state === 'shutting_down', 120_000, 'trigger');
  await s.waitReal(
    () => s.eventsOf('command_executed').length + s.eventsOf('command_refused').length > 0,
    'host step',
  );
  await s.run(graceMs + 1000);
  await s.waitReal(() => s.results('shutdown.return').length > 0, 'UPS command result');
  await s.run(500);
}

describe('power policy scenarios (sim://, manual clock)', () => {
  it('battery_charge_pct crossed: pending, host command once, then shutdown.return after the grace', async () => {
    const before = scripts.runs().length;
    const s = await scenario({
      shutdown: {
        mode: 'act',
        batteryChargePct: 60,
        command: [scripts.ok, 'charge'],
        graceMs: 5000,
      },
    });
    await s.run(2000);
    assert.deepEqual(s.sequence(), ['idle']);
    await s.sim('simulate.power_fail');
    await s.run(1000);
    assert.equal(s.last().shutdown_state, 'pending');
    await throughToUpsCommand(s, 5000);
    const { before: prev, at } = atTrigger(s);
    assert.ok((prev.battery_charge_pct as number) > 60, `before: ${prev.battery_charge_pct}`);
    assert.ok((at.battery_charge_pct as number) <= 60, `at: ${at.battery_charge_pct}`);
    const init = s.eventsOf('shutdown_initiated');
    assert.equal(init.length, 1);
    assert.equal(init[0]?.code, 'battery_charge_pct');
    assert.equal(scripts.runs().length - before, 1, 'the host command ran once');
    assert.equal(scripts.runs().at(-1), 'ran charge');
    const host = s.eventsOf('command_executed').find((e) => e.command === 'host.shutdown');
    assert.equal(host?.code, 'done');
    const result = s.results('shutdown.return');
    assert.deepEqual([result[0]?.status, result[0]?.code], ['ok', 'done']);
    assert.equal(s.last().shutdown_state, 'waiting_for_mains');
    assert.ok(s.logged('shutdown command output'));
    // The UPS cut its output (after its own delay) and brings it back with mains.
    await s.run(2000);
    assert.equal(s.last().output_off, true);
    await s.sim('simulate.power_restore');
    await s.run(2000);
    assert.deepEqual(s.sequence(), FULL);
    assert.equal(s.eventsOf('shutdown_cancelled').length, 0);
    await s.stop();
  });

  it('battery_charge_pct not crossed: mains back first → cancelled, event, nothing run', async () => {
    const before = scripts.runs().length;
    const s = await scenario({
      shutdown: { mode: 'act', batteryChargePct: 20, command: [scripts.ok] },
    });
    await s.run(1000);
    await s.sim('simulate.power_fail');
    await s.run(5000);
    assert.ok((s.last().battery_charge_pct as number) > 20);
    await s.sim('simulate.power_restore');
    await s.run(1000);
    assert.deepEqual(s.sequence(), ['idle', 'pending', 'cancelled']);
    const c = s.eventsOf('shutdown_cancelled');
    assert.equal(c.length, 1);
    assert.match(String(c[0]?.message), /mains returned after \d+ s on battery/);
    await s.run(60_000);
    assert.deepEqual(s.sequence(), ['idle', 'pending', 'cancelled', 'idle']);
    assert.equal(scripts.runs().length, before);
    assert.equal(s.eventsOf('shutdown_initiated').length, 0);
    assert.equal(s.results('shutdown.return').length, 0);
    await s.stop();
  });

  it('runtime_s crossed, and the state that shows it holds the runtime that crossed', async () => {
    const s = await scenario({
      shutdown: { mode: 'act', runtimeS: 1800, command: [scripts.ok], graceMs: 1000 },
    });
    await s.run(1000);
    await s.sim('simulate.power_fail');
    await throughToUpsCommand(s, 1000);
    const { before, at } = atTrigger(s);
    assert.ok((before.runtime_s as number) > 1800);
    assert.ok((at.runtime_s as number) <= 1800);
    assert.equal(s.eventsOf('shutdown_initiated')[0]?.code, 'runtime_s');
    await s.stop();
  });

  it('on_battery_for: fires exactly when the time is up, from the timer', async () => {
    const s = await scenario({
      shutdown: { mode: 'notify', onBatteryForMs: 10_000 },
    });
    await s.run(1000);
    await s.sim('simulate.power_fail');
    await s.run(1); // the policy sees the outage on the wake-up reading
    const seenAt = s.clock.now();
    await s.runUntil(() => s.policy?.state === 'shutting_down', 20_000, 'on_battery_for');
    const ev = s.eventsOf('shutdown_initiated')[0];
    assert.equal(ev?.code, 'on_battery_for');
    assert.ok(s.clock.now() - seenAt >= 10_000 && s.clock.now() - seenAt <= 10_250);
    await s.stop();
  });

  it('on_battery_for not crossed: restored after 5 s of 10 → cancelled', async () => {
    const s = await scenario({
      shutdown: { mode: 'act', onBatteryForMs: 10_000, command: [scripts.ok] },
    });
    await s.run(1000);
    await s.sim('simulate.power_fail');
    await s.run(5000);
    await s.sim('simulate.power_restore');
    await s.run(20_000);
    assert.deepEqual(s.sequence(), ['idle', 'pending', 'cancelled']);
    assert.equal(s.eventsOf('shutdown_initiated').length, 0);
    await s.stop();
  });

  it('low battery always triggers, without any threshold set', async () => {
    const s = await scenario({
      shutdown: { mode: 'notify' },
      sim: { charge: '14' },
    });
    await s.run(1000);
    await s.sim('simulate.power_fail');
    await s.runUntil(() => s.policy?.state === 'shutting_down', 60_000, 'low battery');
    assert.equal(s.eventsOf('shutdown_initiated')[0]?.code, 'low_battery');
    assert.equal(atTrigger(s).at.low_battery, true);
    assert.equal(atTrigger(s).before.low_battery, false);
    await s.stop();
  });

  it('mains back during the grace: the UPS command is still sent, and the events say so', async () => {
    const s = await scenario({
      shutdown: { mode: 'act', onBatteryForMs: 2000, command: [scripts.ok], graceMs: 10_000 },
    });
    await s.run(1000);
    await s.sim('simulate.power_fail');
    await s.runUntil(() => s.policy?.state === 'shutting_down', 10_000, 'trigger');
    await s.waitReal(() => s.eventsOf('command_executed').length > 0, 'host step');
    await s.run(2000);
    await s.sim('simulate.power_restore');
    await s.run(9000);
    await s.waitReal(() => s.results('shutdown.return').length > 0, 'UPS command');
    await s.run(2000);
    const note = s.eventsOf('other').find((e) => e.code === 'mains_returned');
    assert.match(String(note?.message), /still sent/);
    assert.equal(s.results('shutdown.return')[0]?.code, 'done');
    assert.deepEqual(s.sequence(), FULL);
    assert.equal(s.eventsOf('shutdown_cancelled').length, 0);
    await s.stop();
  });

  it('host command failing: logged and evented, the policy goes on to the UPS command', async () => {
    const s = await scenario({
      shutdown: { mode: 'act', onBatteryForMs: 1000, command: [scripts.fail], graceMs: 2000 },
    });
    await s.run(1000);
    await s.sim('simulate.power_fail');
    await throughToUpsCommand(s, 2000);
    const refused = s.eventsOf('command_refused').find((e) => e.command === 'host.shutdown');
    assert.equal(refused?.code, 'failed');
    assert.match(String(refused?.message), /exited with 3/);
    assert.ok(s.lines.some((l) => String(l.stderr).includes('cannot power off')));
    assert.equal(s.results('shutdown.return')[0]?.code, 'done');
    await s.stop();
  });

  it('host command hanging: killed at command_timeout, then the UPS command', async () => {
    const s = await scenario({
      shutdown: {
        mode: 'act',
        onBatteryForMs: 1000,
        command: [scripts.hang],
        commandTimeoutMs: 300,
        graceMs: 1000,
      },
    });
    await s.run(1000);
    await s.sim('simulate.power_fail');
    const started = Date.now();
    await throughToUpsCommand(s, 1000);
    const refused = s.eventsOf('command_refused').find((e) => e.command === 'host.shutdown');
    assert.equal(refused?.code, 'timeout');
    assert.match(String(refused?.message), /killed/);
    assert.ok(Date.now() - started < 8000);
    assert.equal(s.results('shutdown.return')[0]?.code, 'done');
    await s.stop();
  });

  it('mains back after a failed host command, before the UPS command: nothing is cut', async () => {
    const s = await scenario({
      shutdown: { mode: 'act', onBatteryForMs: 1000, command: [scripts.fail], graceMs: 10_000 },
    });
    await s.run(1000);
    await s.sim('simulate.power_fail');
    await s.runUntil(() => s.policy?.state === 'shutting_down', 10_000, 'trigger');
    await s.waitReal(() => s.eventsOf('command_refused').length > 0, 'host step');
    await s.sim('simulate.power_restore');
    await s.run(12_000);
    assert.equal(s.results('shutdown.return').length, 0);
    assert.match(String(s.eventsOf('shutdown_cancelled')[0]?.message), /is not sent/);
    assert.deepEqual(s.sequence().slice(0, 4), ['idle', 'pending', 'shutting_down', 'cancelled']);
    await s.stop();
  });

  it('notify: state and events only, nothing runs', async () => {
    const before = scripts.runs().length;
    const s = await scenario({
      shutdown: { mode: 'notify', onBatteryForMs: 2000, command: [scripts.ok] },
    });
    await s.run(1000);
    await s.sim('simulate.power_fail');
    await s.run(10_000);
    assert.match(String(s.eventsOf('shutdown_initiated')[0]?.message), /notify only/);
    await s.sim('simulate.power_restore');
    await s.run(2000);
    assert.deepEqual(s.sequence(), ['idle', 'pending', 'shutting_down', 'idle']);
    assert.equal(scripts.runs().length, before);
    assert.equal(s.results('shutdown.return').length, 0);
    assert.equal(s.eventsOf('command_executed').length, 0);
    await s.stop();
  });

  it('dry_run: walks the timeline, logs every step it would take, runs nothing', async () => {
    const before = scripts.runs().length;
    const s = await scenario({
      shutdown: { mode: 'dry_run', onBatteryForMs: 2000, command: [scripts.ok], graceMs: 3000 },
    });
    await s.run(1000);
    await s.sim('simulate.power_fail');
    await s.runUntil(() => s.policy?.state === 'waiting_for_mains', 20_000, 'dry run sequence');
    assert.ok(s.logged(`would run ["${scripts.ok}"]`));
    assert.ok(s.logged('would send shutdown.return'));
    assert.match(String(s.eventsOf('shutdown_initiated')[0]?.message), /dry run/);
    await s.run(5000);
    assert.equal(scripts.runs().length, before, 'the command did not run');
    assert.equal(s.results('shutdown.return').length, 0, 'nothing reached the command router');
    assert.ok(!s.states().some((st) => st.output_off === true), 'the UPS output stayed on');
    assert.equal(s.eventsOf('command_executed').length, 0);
    await s.sim('simulate.power_restore');
    await s.run(2000);
    assert.deepEqual(s.sequence(), FULL);
    await s.stop();
  });

  it('a battery self-test is not an outage: no countdown, no cancelled event', async () => {
    const s = await scenario({
      shutdown: { mode: 'act', onBatteryForMs: 1000, command: [scripts.ok] },
    });
    await s.run(1000);
    await s.source.command('test.battery.start.quick', {});
    await s.run(3000);
    assert.ok(s.states().some((st) => st.test_in_progress === true && st.on_battery === true));
    await s.run(20_000);
    assert.deepEqual(s.sequence(), ['idle']);
    assert.equal(s.eventsOf('shutdown_cancelled').length, 0);
    await s.stop();
  });

  it('the bridge stopping during the grace sends the UPS command at once', async () => {
    const s = await scenario({
      shutdown: { mode: 'act', onBatteryForMs: 1000, command: [scripts.ok], graceMs: 60_000 },
    });
    await s.run(1000);
    await s.sim('simulate.power_fail');
    await s.runUntil(() => s.policy?.state === 'shutting_down', 10_000, 'trigger');
    await s.waitReal(() => s.eventsOf('command_executed').length > 0, 'host step');
    await s.run(1000);
    assert.equal(s.results('shutdown.return').length, 0);
    await s.stop();
    assert.equal(s.results('shutdown.return')[0]?.code, 'done');
    assert.ok(s.logged('sending the UPS command now'));
  });
});
