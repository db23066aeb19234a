import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { type ErrorCode, isUps2MqttError } from '../../../src/core/errors.ts';
import type { UpsData } from '../../../src/core/state.ts';
import { SIM_COMMANDS } from '../../../src/sources/sim/commands.ts';
import { createSimSource, type SimSource } from '../../../src/sources/sim/source.ts';
import { captureLogger, type LogLine } from '../../helpers/log-capture.ts';

const START = Date.parse('2024-03-02T14:00:00.000Z');
const iso = (ms: number): string => new Date(START + ms).toISOString();

async function openSim(
  params: Record<string, string> = {},
  model = 'default',
): Promise<{
  sim: SimSource;
  clock: ManualClock;
  wakes: () => number;
  records: LogLine[];
}> {
  const clock = new ManualClock(START);
  const { logger, lines: records } = captureLogger('debug');
  const sim = createSimSource({ model, params: { load_drift: '0', ...params } }, { clock, logger });
  let wakes = 0;
  sim.onWake(() => {
    wakes++;
  });
  await sim.open();
  return { sim, clock, wakes: () => wakes, records };
}

async function readData(sim: SimSource): Promise<UpsData> {
  const r = await sim.read(new AbortController().signal);
  assert.deepEqual([r.events, r.nativeEvents], [[], false]);
  return r.data;
}

async function rejectsWith(
  promise: Promise<unknown>,
  code: ErrorCode,
  text?: string,
): Promise<void> {
  await assert.rejects(promise, (err) => {
    assert.ok(isUps2MqttError(err, code), `expected ${code}, got ${String(err)}`);
    if (text !== undefined) assert.ok(err.message.includes(text), err.message);
    return true;
  });
}

describe('SimSource: reading', () => {
  it('describes itself and advertises every model command, no sticky fields', () => {
    const clock = new ManualClock(START);
    const sim = createSimSource(
      { model: 'rack-b', params: { load: '40' } },
      { clock, logger: captureLogger().logger },
    );
    assert.equal(sim.description, 'sim://rack-b?load=40');
    assert.deepEqual(sim.capabilities(), { commands: [...SIM_COMMANDS], stickyFields: [] });
    assert.ok(sim.capabilities().commands.includes('simulate.power_fail'));
    assert.ok(sim.capabilities().commands.includes('simulate.power_restore'));
  });

  it('advances the model by clock time × speed between reads', async () => {
    const { sim, clock } = await openSim({ speed: '10' });
    await sim.command('simulate.power_fail', {});
    clock.advance(6000);
    const d = await readData(sim);
    assert.deepEqual([d.on_battery, d.time_on_battery_s, d.last_on_battery_at], [true, 60, iso(0)]);
  });

  it('stamps transitions with the clock time', async () => {
    const { sim, clock } = await openSim();
    clock.advance(5000);
    await sim.command('test.battery.start.quick', {});
    clock.advance(10_000);
    const d = await readData(sim);
    assert.deepEqual(
      [d.self_test_result, d.last_self_test_at, d.last_off_battery_at],
      ['passed', iso(5000), iso(15_000)],
    );
  });

  it('an aborted signal rejects with ABORTED', async () => {
    const { sim } = await openSim();
    const ac = new AbortController();
    ac.abort();
    await rejectsWith(sim.read(ac.signal), 'ABORTED');
  });

  it('read before open and after close rejects with CONNECT_FAILED', async () => {
    const clock = new ManualClock(START);
    const sim = createSimSource(
      { model: 'default', params: {} },
      { clock, logger: captureLogger().logger },
    );
    await rejectsWith(sim.read(new AbortController().signal), 'CONNECT_FAILED', 'not open');
    await sim.open();
    await readData(sim);
    await sim.close();
    await rejectsWith(sim.read(new AbortController().signal), 'CONNECT_FAILED', 'not open');
  });

  it('open rejects bad parameters with SOURCE_URI_INVALID', async () => {
    const clock = new ManualClock(START);
    const sim = createSimSource(
      { model: 'default', params: { load: 'x' } },
      { clock, logger: captureLogger().logger },
    );
    await rejectsWith(sim.open(), 'SOURCE_URI_INVALID', 'load');
  });

  it('logs what it simulates at open', async () => {
    const { records } = await openSim({ serial: 'SIMTEST', speed: '10' });
    const ready = records.find((r) => r.msg === 'simulated UPS ready');
    assert.deepEqual(ready && [ready.model, ready.serial, ready.speed], [
      'Smart-UPS 1500 (simulated)',
      'SIMTEST',
      10,
    ]);
  });
});

describe('SimSource: commands and wake-ups', () => {
  it('a command resolves with its message and wakes the bridge at once', async () => {
    const { sim, wakes } = await openSim();
    const out = await sim.command('simulate.power_fail', {});
    assert.deepEqual(out, { message: 'mains power removed' });
    assert.equal(wakes(), 1);
    assert.equal((await readData(sim)).on_battery, true);
  });

  it('an unknown command rejects with SOURCE_UNSUPPORTED and changes nothing', async () => {
    const { sim, wakes } = await openSim();
    await rejectsWith(
      sim.command('test.failure.start', {}),
      'SOURCE_UNSUPPORTED',
      'test.failure.start',
    );
    await rejectsWith(sim.command('simulate.comm_lost', {}), 'SOURCE_UNSUPPORTED');
    assert.equal(wakes(), 0);
  });

  it('a command the UPS refuses rejects with SERVER_ERROR and does not wake', async () => {
    const { sim, wakes } = await openSim({ charge: '80' });
    await rejectsWith(
      sim.command('calibrate.start', {}),
      'SERVER_ERROR',
      'the UPS refused calibrate.start: calibration needs 100 % charge',
    );
    assert.equal(wakes(), 0);
  });

  it('shutdown.return: output off after delay_s of clock time, with a wake-up when it happens', async () => {
    const { sim, clock, wakes } = await openSim();
    const out = await sim.command('shutdown.return', { delay_s: 30 });
    assert.equal(out.message, 'output turns off in 30 s; it returns when mains is present');
    clock.advance(29_999);
    assert.equal(wakes(), 1);
    assert.equal((await readData(sim)).output_off, false);
    clock.advance(1);
    assert.equal(wakes(), 2, 'the source wakes the bridge when the output goes off');
    assert.equal((await readData(sim)).output_off, true);
  });

  it('shutdown.stop cancels: the output stays on', async () => {
    const { sim, clock } = await openSim();
    await sim.command('shutdown.stayoff', { delay_s: 30 });
    clock.advance(10_000);
    assert.equal((await sim.command('shutdown.stop', {})).message, 'pending shutdown cancelled');
    clock.advance(600_000);
    assert.equal((await readData(sim)).output_off, false);
  });

  it('scripted fail_at / restore_at wake the bridge on time (clock seconds, whatever the speed)', async () => {
    const { sim, clock, wakes } = await openSim({ fail_at: '5', restore_at: '8', speed: '10' });
    clock.advance(4999);
    assert.equal(wakes(), 0);
    clock.advance(1);
    assert.equal(wakes(), 1);
    let d = await readData(sim);
    assert.deepEqual([d.on_battery, d.last_on_battery_at], [true, iso(5000)]);
    clock.advance(3000);
    assert.equal(wakes(), 2);
    d = await readData(sim);
    assert.deepEqual(
      [d.online, d.last_off_battery_at, d.cumulative_on_battery_s],
      [true, iso(8000), 30],
    );
  });

  it('a throwing wake listener is logged and the others still run', async () => {
    const { sim, wakes, records } = await openSim();
    sim.onWake(() => {
      throw new Error('boom');
    });
    await sim.command('beeper.disable', {});
    assert.equal(wakes(), 1);
    assert.ok(records.some((r) => r.msg === 'wake listener failed' && r.level === 'warn'));
  });

  it('onWake returns an unsubscribe function', async () => {
    const { sim } = await openSim();
    let n = 0;
    const off = sim.onWake(() => {
      n++;
    });
    await sim.command('beeper.disable', {});
    off();
    await sim.command('beeper.enable', {});
    assert.equal(n, 1);
  });

  it('close cancels the wake-up timer', async () => {
    const { sim, clock } = await openSim({ fail_at: '60' });
    assert.equal(clock.pending(), 1);
    await sim.close();
    assert.equal(clock.pending(), 0);
  });
});

describe('SimSource: simulated communication loss', () => {
  it('with the unreachable parameter, the comm commands are advertised', async () => {
    const { sim } = await openSim({ unreachable: '0' });
    const cmds = sim.capabilities().commands;
    assert.deepEqual(cmds.slice(-2), ['simulate.comm_lost', 'simulate.comm_restore']);
  });

  it('read and commands reject with CONNECT_FAILED while lost; the model keeps running', async () => {
    const { sim, clock, wakes } = await openSim({ unreachable: 'false' });
    await sim.command('simulate.power_fail', {});
    assert.deepEqual(await sim.command('simulate.comm_lost', {}), {
      message: 'communication lost (simulated)',
    });
    assert.equal(wakes(), 2);
    clock.advance(60_000);
    await rejectsWith(sim.read(new AbortController().signal), 'CONNECT_FAILED', 'unreachable');
    await rejectsWith(sim.command('load.off', {}), 'CONNECT_FAILED');
    await sim.command('simulate.comm_restore', {});
    const d = await readData(sim);
    assert.deepEqual([d.on_battery, d.time_on_battery_s, d.output_off], [true, 60, false]);
  });

  it('unreachable=1 starts lost', async () => {
    const { sim } = await openSim({ unreachable: '1' });
    await rejectsWith(sim.read(new AbortController().signal), 'CONNECT_FAILED');
    await sim.command('simulate.comm_restore', {});
    assert.equal((await readData(sim)).online, true);
  });
});
