import * as assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer } from 'node:net';
import { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { type ErrorCode, isUps2MqttError, type Ups2MqttError } from '../../../src/core/errors.ts';
import { type NisSocket, nisRequest } from '../../../src/sources/nis/client.ts';
import { abortWatchCount } from '../../../src/util/signals.ts';
import {
  encodeReply,
  type FakeBehaviour,
  type FakeNisServer,
  FakeSocket,
  fixtureLines,
  frame,
  startFakeNis,
  within,
} from './helpers.ts';

const XS1400U = 'apcupsd-3.14.14-back-ups-xs-1400u-usb-online.txt';

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<Ups2MqttError> {
  let caught: unknown;
  try {
    await within(promise, 2000, `request expected to fail with ${code}`);
  } catch (err) {
    caught = err;
  }
  assert.ok(isUps2MqttError(caught), `expected an Ups2MqttError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

/** Lets pending I/O callbacks and promise reactions run. */
function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('nisRequest against a fake NIS server on 127.0.0.1', () => {
  let behaviour: FakeBehaviour = () => {};
  let server: FakeNisServer;

  before(async () => {
    server = await startFakeNis((conn, cmd) => behaviour(conn, cmd));
  });
  after(async () => {
    await server.close();
  });

  /** Runs one request with a fresh behaviour; returns the promise and that request's connection. */
  function run(
    answer: FakeBehaviour,
    extra: Partial<Parameters<typeof nisRequest>[0]> = {},
  ): { result: Promise<string[]>; conn: ReturnType<FakeNisServer['connection']> } {
    behaviour = answer;
    const conn = server.connection(server.connections.length);
    const result = nisRequest({
      host: '127.0.0.1',
      port: server.port,
      command: 'status',
      ...extra,
    });
    return { result, conn };
  }

  it('sends exactly 00 06 "status" in one write and returns the lines, trailing blanks kept', async () => {
    const lines = fixtureLines(XS1400U);
    const { result, conn } = run((c) => c.socket.write(encodeReply(lines)));
    assert.deepEqual(await within(result), lines);
    const c = await conn;
    assert.equal(c.received().toString('hex'), '0006737461747573');
    await within(c.closed, 2000, 'client closing the connection');
  });

  it('sends 00 06 "events" for the events command', async () => {
    const log = [
      '2026-11-21 04:45:47 +0000  apcupsd 3.14.14 (31 May 2016) debian startup succeeded',
    ];
    const { result, conn } = run((c) => c.socket.write(encodeReply(log)), { command: 'events' });
    assert.deepEqual(await within(result), log);
    assert.equal((await conn).received().toString('hex'), '00066576656e7473');
  });

  it('reassembles a reply the server writes in small pieces', async () => {
    const lines = fixtureLines(XS1400U);
    const bytes = encodeReply(lines);
    const { result } = run((c) => {
      let i = 0;
      const next = (): void => {
        if (i >= bytes.length || c.socket.destroyed) return;
        c.socket.write(bytes.subarray(i, i + 7));
        i += 7;
        setImmediate(next);
      };
      next();
    });
    assert.deepEqual(await within(result), lines);
  });

  it('returns an empty list for an empty reply (empty event log)', async () => {
    const { result } = run((c) => c.socket.write(Buffer.from([0, 0])), { command: 'events' });
    assert.deepEqual(await within(result), []);
  });

  const errorReplies: { payload: string; reply: string; closeAfter: boolean }[] = [
    { payload: 'Invalid command\n\0', reply: 'Invalid command', closeAfter: false },
    { payload: 'Not available\n\0', reply: 'Not available', closeAfter: false },
    { payload: 'Apcupsd internal error\n\0', reply: 'Apcupsd internal error', closeAfter: true },
  ];
  for (const { payload, reply, closeAfter } of errorReplies) {
    it(`maps the error reply ${JSON.stringify(payload)} to SERVER_ERROR`, async () => {
      const { result, conn } = run((c) => {
        c.socket.write(Buffer.concat([frame(payload), Buffer.from([0, 0])]));
        if (closeAfter) c.socket.end();
      });
      const err = await expectCode(result, 'SERVER_ERROR');
      assert.equal(err.context.reply, reply);
      assert.match(err.message, new RegExp(reply));
      await within((await conn).closed, 2000, 'client closing the connection');
    });
  }

  it('fails with PEER_CLOSED when the server closes mid-reply', async () => {
    const lines = fixtureLines(XS1400U).slice(0, 3);
    const { result } = run((c) => {
      c.socket.write(Buffer.concat(lines.map((l) => frame(`${l}\n`))));
      c.socket.end();
    });
    const err = await expectCode(result, 'PEER_CLOSED');
    assert.equal(err.context.linesReceived, 3);
  });

  it('fails with FRAME_TOO_LARGE on a length beyond the limit and closes', async () => {
    const { result, conn } = run((c) => c.socket.write(Buffer.from([0x05, 0x00, 0x41])));
    const err = await expectCode(result, 'FRAME_TOO_LARGE');
    assert.equal(err.context.length, 1280);
    assert.equal(err.context.host, '127.0.0.1');
    await within((await conn).closed, 2000, 'client closing the connection');
  });

  it('honours maxFrameBytes', async () => {
    const { result } = run((c) => c.socket.write(encodeReply(['x'.repeat(300)])), {
      maxFrameBytes: 257,
    });
    await expectCode(result, 'FRAME_TOO_LARGE');
  });

  it('fails with PROTOCOL_ERROR beyond maxLines', async () => {
    const { result, conn } = run((c) => c.socket.write(encodeReply(['A', 'B', 'C'])), {
      maxLines: 2,
    });
    const err = await expectCode(result, 'PROTOCOL_ERROR');
    assert.equal(err.context.maxLines, 2);
    await within((await conn).closed, 2000, 'client closing the connection');
  });

  it('fails with READ_TIMEOUT when the peer accepts and never answers, and closes', async () => {
    const clock = new ManualClock();
    const { result, conn } = run(() => {}, { clock, readTimeoutMs: 500 });
    let settled = false;
    result.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    const c = await within(conn);
    await within(c.command, 2000, 'command arriving');
    clock.advance(499);
    await tick();
    assert.equal(settled, false, 'not before the read timeout');
    clock.advance(1);
    const err = await expectCode(result, 'READ_TIMEOUT');
    assert.equal(err.context.timeoutMs, 500);
    assert.equal(clock.pending(), 0, 'no timer left behind');
    await within(c.closed, 2000, 'client closing the connection');
  });

  it('fails with ABORTED when the signal fires mid-request, closes, and drops its listener', async () => {
    const controller = new AbortController();
    const clock = new ManualClock();
    const { result, conn } = run(() => {}, { signal: controller.signal, clock });
    const c = await within(conn);
    await within(c.command, 2000, 'command arriving');
    controller.abort(new Error('shutting down'));
    const err = await expectCode(result, 'ABORTED');
    assert.equal((err.cause as Error).message, 'shutting down');
    assert.equal(clock.pending(), 0, 'no timer left behind');
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    await within(c.closed, 2000, 'client closing the connection');
  });

  it('releases its timer and abort watch after success; a kept signal gains no listeners', async () => {
    const controller = new AbortController();
    const clock = new ManualClock();
    for (let i = 0; i < 3; i++) {
      const { result } = run((c) => c.socket.write(encodeReply(['A'])), {
        signal: controller.signal,
        clock,
      });
      assert.deepEqual(await within(result), ['A']);
      assert.equal(clock.pending(), 0);
      assert.equal(abortWatchCount(controller.signal), 0, 'the request no longer watches');
      // One listener for the signal's life (watchAbort), not one per request.
      assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    }
  });
});

describe('nisRequest without a server', () => {
  it('fails with CONNECT_FAILED (cause attached) when the port refuses', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const address = probe.address();
    assert.ok(address !== null && typeof address !== 'string');
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const err = await expectCode(
      nisRequest({ host: '127.0.0.1', port: address.port, command: 'status' }),
      'CONNECT_FAILED',
    );
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    assert.equal(err.context.port, address.port);
  });

  it('fails with ABORTED at once, without connecting, when the signal is already aborted', async () => {
    let connects = 0;
    const err = await expectCode(
      nisRequest({
        host: '127.0.0.1',
        port: 1,
        command: 'status',
        signal: AbortSignal.abort(),
        connect: () => {
          connects++;
          return new Duplex();
        },
      }),
      'ABORTED',
    );
    assert.equal(connects, 0);
    assert.equal(err.context.command, 'status');
  });
});

describe('nisRequest over an injected stream', () => {
  it('feeds a reply one byte per chunk through the client', async () => {
    const lines = fixtureLines(XS1400U);
    const bytes = encodeReply(lines);
    const socket = new FakeSocket(false);
    socket.onWrite = () => {
      for (const b of bytes) socket.push(Buffer.from([b]));
    };
    const result = await within(
      nisRequest({
        host: 'ups',
        port: 3551,
        command: 'status',
        connect: () => socket as NisSocket,
      }),
    );
    assert.deepEqual(result, lines);
    assert.equal(socket.writes.length, 1, 'one write');
    assert.equal(socket.writes[0]?.toString('hex'), '0006737461747573');
    assert.equal(socket.destroyed, true);
  });

  it('fails with CONNECT_TIMEOUT when the connect never completes, and destroys the socket', async () => {
    const clock = new ManualClock();
    const socket = new FakeSocket(true);
    const result = nisRequest({
      host: 'ups',
      port: 3551,
      command: 'status',
      clock,
      connectTimeoutMs: 250,
      connect: () => socket,
    });
    clock.advance(250);
    const err = await expectCode(result, 'CONNECT_TIMEOUT');
    assert.equal(err.context.timeoutMs, 250);
    assert.equal(socket.destroyed, true);
    assert.equal(socket.writes.length, 0, 'nothing sent before the connect');
    assert.equal(clock.pending(), 0);
  });

  it('waits for connect before writing, then times the reply from there', async () => {
    const clock = new ManualClock();
    const socket = new FakeSocket(true);
    const result = nisRequest({
      host: 'ups',
      port: 3551,
      command: 'events',
      clock,
      connectTimeoutMs: 100,
      readTimeoutMs: 300,
      connect: () => socket,
    });
    let settled = false;
    result
      .catch(() => {})
      .finally(() => {
        settled = true;
      });
    clock.advance(99);
    socket.connecting = false;
    socket.emit('connect');
    assert.equal(socket.writes[0]?.toString('hex'), '00066576656e7473');
    clock.advance(299);
    await tick();
    assert.equal(settled, false, 'the connect timer is gone and the read timer not yet due');
    clock.advance(1);
    await expectCode(result, 'READ_TIMEOUT');
  });

  it('fails with CONNECT_FAILED when the connector throws', async () => {
    const err = await expectCode(
      nisRequest({
        host: 'ups',
        port: 3551,
        command: 'status',
        connect: () => {
          throw new Error('no route');
        },
      }),
      'CONNECT_FAILED',
    );
    assert.equal((err.cause as Error).message, 'no route');
  });

  it('maps a reset after connect to PEER_CLOSED with the cause', async () => {
    const socket = new FakeSocket(false);
    socket.onWrite = () => {
      socket.push(frame('APC      : 001,036,0881\n'));
      setImmediate(() => socket.destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' })));
    };
    const err = await expectCode(
      nisRequest({ host: 'ups', port: 3551, command: 'status', connect: () => socket }),
      'PEER_CLOSED',
    );
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'ECONNRESET');
    assert.equal(err.context.linesReceived, 1);
  });
});
