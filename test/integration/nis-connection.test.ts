/**
 * The NIS source's connection handling against a REAL apcupsd (NIS slave of a scripted
 * master): one connection carries every poll, apcupsd's own 15 s idle close is survived, and
 * `reuse_connection: false` connects per request. Connections are counted from the kernel's
 * socket table (/proc/net/tcp), not from our own code.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { systemClock } from '../../src/core/clock.ts';
import { nisRequest } from '../../src/sources/nis/client.ts';
import { NisConnectionPool } from '../../src/sources/nis/pool.ts';
import { NisSource } from '../../src/sources/nis/source.ts';
import { type ApcupsdHandle, startApcupsd } from '../helpers/apcupsd.ts';
import { FakeNisMaster } from '../helpers/fake-nis-master.ts';
import { pollUntil } from '../helpers/ports.ts';
import { ProcessRegistry } from '../helpers/process.ts';
import { establishedClientPorts } from '../helpers/procnet.ts';

describe('NIS connections to a real apcupsd', { timeout: 150_000 }, () => {
  const registry = new ProcessRegistry();
  let master: FakeNisMaster;
  let apcupsd: ApcupsdHandle;

  before(async () => {
    master = new FakeNisMaster();
    await master.start();
    registry.track(master);
    apcupsd = await startApcupsd({ masterPort: master.port, registry });
  });
  after(async () => {
    await registry.stopAll();
  });

  function source(reuseConnection: boolean): NisSource {
    return new NisSource({
      host: '127.0.0.1',
      port: apcupsd.nisPort,
      connectTimeoutMs: 3000,
      readTimeoutMs: 3000,
      logger: pino({ level: 'silent' }),
      clock: systemClock,
      reuseConnection,
    });
  }

  it('keeps one connection for every poll and closes it with the source', async () => {
    const src = source(true);
    const seen = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const reading = await src.read(new AbortController().signal);
      assert.equal(reading.data.serial_number, '3B1234X56789');
      const ports = establishedClientPorts(apcupsd.nisPort);
      assert.equal(ports.length, 1, `after poll ${i + 1}: ${ports.join(', ')}`);
      for (const p of ports) seen.add(p);
    }
    assert.equal(seen.size, 1, 'the same local port for all six polls');
    await src.close();
    await pollUntil(
      async () => (establishedClientPorts(apcupsd.nisPort).length === 0 ? true : undefined),
      3000,
    );
  });

  it('connects per request when reuse is off', async () => {
    const src = source(false);
    for (let i = 0; i < 3; i++) {
      const reading = await src.read(new AbortController().signal);
      assert.equal(reading.data.serial_number, '3B1234X56789');
      assert.deepEqual(establishedClientPorts(apcupsd.nisPort), [], 'closed after each reply');
    }
    await src.close();
  });

  it("survives apcupsd's idle close of a kept connection (15 s)", async () => {
    // A pool that would keep the connection longer than apcupsd does, to meet its close.
    const pool = new NisConnectionPool({ clock: systemClock, maxIdleMs: 60_000 });
    const ask = () =>
      nisRequest({ host: '127.0.0.1', port: apcupsd.nisPort, command: 'status', pool });
    assert.ok((await ask()).some((l) => l.startsWith('SERIALNO')));
    assert.equal(pool.hasIdle(), true);
    // apcupsd closes a connection idle for 15 s; the pool notices and lets it go. That is the
    // daemon's timing, not ours: the bound is generous (a loaded machine delays apcupsd), and
    // the close must not come early either, which would mean a different close than the idle one.
    const idleFrom = Date.now();
    await pollUntil(async () => (pool.hasIdle() ? undefined : true), 60_000, {
      intervalMs: 250,
    });
    const idleMs = Date.now() - idleFrom;
    assert.ok(idleMs >= 10_000, `apcupsd closed the idle connection after ${idleMs} ms`);
    assert.deepEqual(establishedClientPorts(apcupsd.nisPort), []);
    assert.ok(
      (await ask()).some((l) => l.startsWith('SERIALNO')),
      'a fresh connection works',
    );
    assert.equal(pool.hasIdle(), true);
    pool.drop();
  });
});
