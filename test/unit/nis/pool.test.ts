import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '../../../src/core/clock.ts';
import { isUps2MqttError } from '../../../src/core/errors.ts';
import { type NisSocket, nisRequest } from '../../../src/sources/nis/client.ts';
import { NisConnectionPool } from '../../../src/sources/nis/pool.ts';
import { NisSource } from '../../../src/sources/nis/source.ts';
import { FakeNisMaster } from '../../helpers/fake-nis-master.ts';
import { pollUntil } from '../../helpers/ports.ts';
import { encodeReply, FakeSocket, fixtureLines, frame, within } from './helpers.ts';

const XS1400U = 'apcupsd-3.14.14-back-ups-xs-1400u-usb-online.txt';

const quiet = pino({ level: 'silent' });

describe('NisConnectionPool', () => {
  function setup() {
    const clock = new ManualClock(1_000_000);
    const pool = new NisConnectionPool({ clock, minGapMs: 50, maxIdleMs: 10_000 });
    return { clock, pool };
  }

  it('hands back nothing while empty', () => {
    assert.equal(setup().pool.take(), undefined);
  });

  it('hands the kept connection out once, from 50 ms to 10 s after its reply', () => {
    const { clock, pool } = setup();
    const socket = new FakeSocket();
    pool.keep(socket);
    assert.equal(pool.hasIdle(), true);
    clock.advance(49);
    assert.equal(pool.take(), undefined, 'too soon after the reply: a fresh connection instead');
    assert.equal(pool.hasIdle(), true, 'kept for the next poll');
    clock.advance(1);
    assert.equal(pool.take(), socket);
    assert.equal(pool.hasIdle(), false);
    assert.equal(pool.take(), undefined, 'one request at a time per connection');
    assert.equal(socket.destroyed, false);
  });

  it('closes a connection idle for longer than 10 s instead of reusing it', () => {
    const { clock, pool } = setup();
    const socket = new FakeSocket();
    pool.keep(socket);
    clock.advance(10_001);
    assert.equal(pool.take(), undefined);
    assert.equal(socket.destroyed, true);
    assert.equal(pool.hasIdle(), false);
  });

  for (const what of ['end', 'close', 'error', 'data'] as const) {
    it(`drops an idle connection at once on '${what}'`, async () => {
      const { pool } = setup();
      const socket = new FakeSocket();
      pool.keep(socket);
      if (what === 'data') {
        socket.push(Buffer.from([0, 1, 65]));
        await new Promise((resolve) => setImmediate(resolve));
      } else socket.emit(what, what === 'error' ? new Error('ECONNRESET') : undefined);
      assert.equal(pool.hasIdle(), false);
      assert.equal(socket.destroyed, true);
    });
  }

  it('keeps one idle connection: a second one handed back is closed', () => {
    const { pool } = setup();
    const first = new FakeSocket();
    const second = new FakeSocket();
    pool.keep(first);
    pool.keep(second);
    assert.equal(first.destroyed, false);
    assert.equal(second.destroyed, true);
  });

  it('drop() closes the idle connection; a taken one no longer listens for idle events', () => {
    const { clock, pool } = setup();
    const taken = new FakeSocket();
    pool.keep(taken);
    clock.advance(1000);
    assert.equal(pool.take(), taken);
    taken.emit('end');
    assert.equal(taken.destroyed, false, 'the request in flight owns it now');
    const idle = new FakeSocket();
    pool.keep(idle);
    pool.drop();
    assert.equal(idle.destroyed, true);
    assert.equal(pool.hasIdle(), false);
  });
});

describe('nisRequest with a pool, over injected streams', () => {
  const reply = encodeReply(fixtureLines(XS1400U));

  function pooled() {
    const clock = new ManualClock(1_000_000);
    const pool = new NisConnectionPool({ clock });
    let connects = 0;
    const fresh: FakeSocket[] = [];
    const connect = (): NisSocket => {
      connects += 1;
      const socket = new FakeSocket();
      socket.onWrite = () => socket.push(reply);
      fresh.push(socket);
      return socket;
    };
    const request = () =>
      within(nisRequest({ host: 'ups', port: 3551, command: 'status', pool, connect }));
    return { clock, pool, request, fresh, connects: () => connects };
  }

  it('sends the next request on the same connection and hands it back each time', async () => {
    const { clock, pool, request, fresh, connects } = pooled();
    assert.deepEqual(await request(), fixtureLines(XS1400U));
    clock.advance(1000);
    assert.deepEqual(await request(), fixtureLines(XS1400U));
    assert.equal(connects(), 1);
    assert.equal(fresh[0]?.writes.length, 2);
    assert.equal(pool.hasIdle(), true);
    assert.equal(fresh[0]?.listenerCount('data'), 1, "only the pool's idle listener is left");
  });

  it('retries once on a fresh connection when the kept one was closed before the reply', async () => {
    const { clock, pool, request, fresh, connects } = pooled();
    const stale = new FakeSocket();
    stale.onWrite = () => stale.emit('end');
    pool.keep(stale);
    clock.advance(1000);
    assert.deepEqual(await request(), fixtureLines(XS1400U));
    assert.equal(stale.writes.length, 1, 'the request went to the kept connection first');
    assert.equal(stale.destroyed, true);
    assert.equal(connects(), 1);
    assert.equal(fresh[0]?.destroyed, false, 'the fresh connection is kept in its place');
    assert.equal(pool.hasIdle(), true);
  });

  it('does not retry when the kept connection closed in the middle of the reply', async () => {
    const { clock, pool, request, connects } = pooled();
    const broken = new FakeSocket();
    broken.onWrite = () => {
      broken.push(reply.subarray(0, 40));
      setImmediate(() => broken.emit('end'));
    };
    pool.keep(broken);
    clock.advance(1000);
    let caught: unknown;
    await request().catch((err: unknown) => {
      caught = err;
    });
    assert.ok(isUps2MqttError(caught, 'PEER_CLOSED'), String(caught));
    assert.equal(caught.context.bytesReceived, 40);
    assert.equal(connects(), 0, 'part of a reply may have been acted on: no silent repeat');
    assert.equal(pool.hasIdle(), false);
  });

  it('does not keep a connection that sent bytes after the end of the reply', async () => {
    const { pool, fresh } = pooled();
    const connect = (): NisSocket => {
      const socket = new FakeSocket();
      socket.onWrite = () => socket.push(Buffer.concat([reply, Buffer.from([0, 3])]));
      fresh.push(socket);
      return socket;
    };
    await within(nisRequest({ host: 'ups', port: 3551, command: 'status', pool, connect }));
    assert.equal(pool.hasIdle(), false);
    assert.equal(fresh[0]?.destroyed, true);
  });

  it('does not keep a connection whose request failed', async () => {
    const { pool } = pooled();
    const connect = (): NisSocket => {
      const socket = new FakeSocket();
      socket.onWrite = () =>
        socket.push(Buffer.concat([frame('Invalid command\n\0'), Buffer.from([0, 0])]));
      return socket;
    };
    await assert.rejects(
      nisRequest({ host: 'ups', port: 3551, command: 'status', pool, connect }),
      (err: unknown) => isUps2MqttError(err, 'SERVER_ERROR'),
    );
    assert.equal(pool.hasIdle(), false);
  });
});

describe('NisSource keeping its connection to a fake apcupsd on 127.0.0.1', () => {
  let master: FakeNisMaster;
  before(async () => {
    master = new FakeNisMaster({ idleTimeoutMs: 15_000 });
    await master.start();
    master.setEvents([
      '2026-11-21 10:00:00 +0000  apcupsd 3.14.14 (31 May 2016) debian startup succeeded',
    ]);
  });
  after(async () => {
    await master.stop();
  });

  function source(clock: ManualClock, reuseConnection = true): NisSource {
    return new NisSource({
      host: '127.0.0.1',
      port: master.port,
      connectTimeoutMs: 2000,
      readTimeoutMs: 2000,
      logger: quiet,
      clock,
      reuseConnection,
    });
  }
  const read = (s: NisSource) => within(s.read(new AbortController().signal));

  it('polls over one connection; the events request right after a status takes its own', async () => {
    const clock = new ManualClock(1_000_000);
    const src = source(clock);
    const before = master.connectionCount();
    const first = await read(src);
    assert.equal(first.data.model, 'Back-UPS XS 1400U');
    assert.equal(master.connectionCount() - before, 2, 'status, then events on a fresh one');
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      await read(src);
    }
    assert.equal(master.connectionCount() - before, 2, 'five more polls, no new connection');
    await src.close();
  });

  it('connects per request when reuse is off', async () => {
    const clock = new ManualClock(1_000_000);
    const src = source(clock, false);
    const before = master.connectionCount();
    await read(src);
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await read(src);
    }
    assert.equal(master.connectionCount() - before, 5, 'status ×4 and events ×1');
    await src.close();
  });

  it('recovers by itself when the server closes the idle connection', async () => {
    const short = new FakeNisMaster({ idleTimeoutMs: 100 });
    await short.start();
    try {
      const clock = new ManualClock(1_000_000);
      const src = new NisSource({
        host: '127.0.0.1',
        port: short.port,
        connectTimeoutMs: 2000,
        readTimeoutMs: 2000,
        logger: quiet,
        clock,
      });
      await read(src);
      const accepted = short.connectionCount();
      // Wait until the server's idle close has reached the client and the pool dropped it.
      await pollUntil(async () => (short.openConnections() === 0 ? true : undefined), 3000);
      clock.advance(1000);
      const again = await read(src);
      assert.equal(again.data.model, 'Back-UPS XS 1400U');
      assert.equal(short.connectionCount(), accepted + 1);
      await src.close();
    } finally {
      await short.stop();
    }
  });

  it('close() closes the kept connection', async () => {
    const clock = new ManualClock(1_000_000);
    const src = source(clock);
    await read(src);
    assert.ok(master.openConnections() >= 1);
    await src.close();
    await pollUntil(async () => (master.openConnections() === 0 ? true : undefined), 3000);
  });
});
