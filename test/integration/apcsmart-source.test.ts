/**
 * The apcsmart source on a real pseudo-terminal (socat) with the production serialport
 * transport, against the Smart-UPS simulator: reading, alert latency, the port vanishing and
 * coming back, and the pacing of commands as the far end measures it.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import { isUps2MqttError } from '../../src/core/errors.ts';
import type { SourceReading } from '../../src/core/source.ts';
import { type ApcSmartSource, createApcSmartSource } from '../../src/sources/apcsmart/source.ts';
import { pollUntil } from '../helpers/ports.ts';
import { ProcessRegistry } from '../helpers/process.ts';
import { SmartUpsSimulator } from '../helpers/smart-ups-sim/simulator.ts';
import { captureLogger } from '../unit/apcsmart/fakes.ts';

const read = (source: ApcSmartSource): Promise<SourceReading> =>
  source.read(AbortSignal.timeout(20_000));

describe('apcsmart source over a pty', () => {
  const registry = new ProcessRegistry();
  let sim: SmartUpsSimulator;
  let source: ApcSmartSource;
  let wakes: number[] = [];

  before(async () => {
    sim = await SmartUpsSimulator.start({ registry, timing: { selfTestMs: 1500 } });
    source = createApcSmartSource(
      { kind: 'apcsmart', path: sim.devicePath },
      { logger: captureLogger().logger, clock: systemClock },
    );
    registry.track({ stop: () => source.close() });
    source.onWake(() => wakes.push(performance.now()));
  });
  after(() => registry.stopAll());

  test('reads the simulated SU420 through serialport', async () => {
    await source.open();
    const { data } = await read(source);
    assert.equal(data.model, 'SMART-UPS 420');
    assert.equal(data.serial_number, 'NS9847001053');
    assert.equal(data.input_voltage_v, 231.8);
    assert.equal(data.online, true);
    assert.equal(sim.receivedText(), "Y<^A>abnmxcgolueprqksEQfjLOPBFMNGX~'8");
  });

  test('a second program on the same port gets a clear "in use" error', async () => {
    const other = createApcSmartSource(
      { kind: 'apcsmart', path: sim.devicePath },
      { logger: captureLogger().logger, clock: systemClock },
    );
    const err = await other.open().catch((e: unknown) => e);
    assert.ok(isUps2MqttError(err, 'CONNECT_FAILED'), String(err));
    assert.match((err as Error).message, /in use by another program/);
    await other.close();
  });

  test('an alert on the wire reaches onWake within milliseconds', async () => {
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      wakes = [];
      const t0 = performance.now();
      if (i % 2 === 0) sim.model.failMains();
      else sim.model.restoreMains();
      await pollUntil(async () => (wakes.length > 0 ? true : undefined), 2000, {
        intervalMs: 1,
        what: 'onWake',
      });
      samples.push((wakes[0] ?? Number.NaN) - t0);
      const { data } = await read(source);
      assert.equal(data.on_battery, i % 2 === 0, `reading after alert ${i}`);
    }
    samples.sort((a, b) => a - b);
    console.log(
      `alert → onWake: min ${samples[0]?.toFixed(2)} ms, max ${samples.at(-1)?.toFixed(2)} ms`,
    );
    assert.ok((samples.at(-1) ?? Number.POSITIVE_INFINITY) < 100);
    sim.model.restoreMains();
    await pollUntil(async () => ((await read(source)).data.online ? true : undefined), 5000, {
      what: 'online again',
    });
  });

  test('the port vanishes mid-session: reads reject clearly, then recover when it is back', async () => {
    wakes = [];
    await sim.killPty();
    try {
      // Generous bound: on a loaded 2-core CI machine the close can take a while to surface.
      await pollUntil(async () => (wakes.length > 0 ? true : undefined), 10_000, {
        what: 'wake on loss',
      });
      const err = await read(source).catch((e: unknown) => e);
      assert.ok(
        isUps2MqttError(err, 'CONNECT_FAILED') || isUps2MqttError(err, 'PEER_CLOSED'),
        String(err),
      );
      assert.match((err as Error).message, /no such device|disappeared|not open/);
    } finally {
      // Later tests need the port back whatever happened above.
      await sim.restorePty();
    }
    const back = await pollUntil(
      async () => (await read(source).catch(() => undefined))?.data,
      10_000,
      { intervalMs: 100, what: 'reading after the port came back' },
    );
    assert.equal(back.serial_number, 'NS9847001053');
  });

  test('commands arrive paced as the protocol requires (measured at the far end)', async () => {
    const bytesFrom = (from: number, wanted: string) =>
      sim.model.received.slice(from).filter((r) => wanted.includes(String.fromCharCode(r.byte)));
    const before = sim.model.received.length;
    await source.command('shutdown.return', {});
    // A poll queued before the command may interleave in the log; keep the command's bytes.
    const hibernate = bytesFrom(before, '@0');
    assert.equal(Buffer.from(hibernate.map((r) => r.byte)).toString('latin1'), '@000');
    const digitGaps = hibernate.slice(1).map((r, i) => r.at - (hibernate[i]?.at ?? r.at));
    // Sent 200 ms apart; delivery through the pty can shift a byte by a few ms.
    assert.ok(
      digitGaps.every((g) => g >= 150),
      `@nnn gaps ${digitGaps.join(', ')}`,
    );
    await source.command('shutdown.stop', {});
    const k = sim.model.received.length;
    await source.command('shutdown.stayoff', {});
    await source.command('shutdown.stop', {});
    const keys = bytesFrom(k, 'K');
    assert.equal(keys.length, 2);
    const kGap = (keys[1]?.at ?? 0) - (keys[0]?.at ?? 0);
    assert.ok(kGap >= 1500, `K K gap ${kGap} ms`);
    assert.deepEqual(sim.model.violations, []);
    assert.deepEqual(
      sim.model.shutdowns,
      [],
      'every shutdown was cancelled within the grace delay',
    );
  });

  test('a self-test runs and its result follows', async () => {
    await source.command('test.battery.start.quick', {});
    assert.equal((await read(source)).data.self_test_result, 'in_progress');
    const done = await pollUntil(
      async () => {
        const { data } = await read(source);
        return data.self_test_result !== 'in_progress' && data.online ? data : undefined;
      },
      10_000,
      { intervalMs: 100, what: 'self-test end' },
    );
    assert.equal(done.self_test_result, 'passed');
    assert.equal(done.last_transfer_reason, 'Automatic or explicit self test');
  });
});
