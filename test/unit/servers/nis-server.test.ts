/**
 * The NIS server over real loopback sockets with a scripted UpsFeed: request framing edge
 * cases, replies byte for byte, events, COMMLOST, and misbehaving clients.
 */
import * as assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import type { UpsEvent } from '../../../src/core/events.ts';
import type { Availability, UpsFeed } from '../../../src/core/ports.ts';
import type { UpsState } from '../../../src/core/state.ts';
import {
  encodeNisReply,
  NIS_INVALID_COMMAND_REPLY,
  NisRequestDecoder,
} from '../../../src/servers/nis/protocol.ts';
import { NisServer, type NisServerOptions } from '../../../src/servers/nis/server.ts';
import { captureLogger } from '../bridge/fakes.ts';

function frame(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const head = Buffer.alloc(2);
  head.writeUInt16BE(body.length);
  return Buffer.concat([head, body]);
}

describe('NisRequestDecoder', () => {
  it('reassembles a request split across chunks, down to single bytes', () => {
    const d = new NisRequestDecoder();
    const bytes = frame('status');
    const out = [];
    for (const byte of bytes) out.push(...d.push(Buffer.from([byte])));
    assert.deepEqual(out, [{ kind: 'command', payload: Buffer.from('status') }]);
    assert.equal(d.pendingBytes, 0);
  });

  it('returns two requests that arrive in one chunk, in order, and keeps a partial third', () => {
    const d = new NisRequestDecoder();
    const chunk = Buffer.concat([frame('status'), frame('events'), frame('status').subarray(0, 3)]);
    assert.deepEqual(
      d.push(chunk).map((r) => (r.kind === 'command' ? r.payload.toString() : r.kind)),
      ['status', 'events'],
    );
    assert.equal(d.pendingBytes, 3);
    assert.deepEqual(
      d
        .push(frame('status').subarray(3))
        .map((r) => (r.kind === 'command' ? r.payload.toString() : r.kind)),
      ['status'],
    );
  });

  const closes: [string, Buffer][] = [
    ['a zero-length message', Buffer.from([0, 0])],
    ['a length of 257', Buffer.from([1, 1])],
    ['a length of 65535 before its bytes arrive', Buffer.from([0xff, 0xff, 1, 2])],
    ['HTTP sent to the NIS port', Buffer.from('GET / HTTP/1.1\r\n\r\n')],
  ];
  for (const [name, bytes] of closes) {
    it(`${name} ends the conversation (apcupsd closes)`, () => {
      const d = new NisRequestDecoder();
      assert.deepEqual(d.push(bytes), [{ kind: 'close' }]);
      assert.deepEqual(d.push(frame('status')), []);
    });
  }

  it('accepts 256 bytes, apcupsd’s limit', () => {
    const d = new NisRequestDecoder();
    const out = d.push(frame(Buffer.alloc(256, 0x41)));
    assert.equal(out.length, 1);
    assert.equal(out[0]?.kind, 'command');
  });
});

/** A UpsFeed the test scripts. */
class FakeFeed implements UpsFeed {
  id: string | undefined = 'rack';
  name: string | undefined = 'Rack';
  currentAvailability: Availability | undefined = 'online';
  state: UpsState | undefined;
  private readonly change = new Set<() => void>();
  private readonly event = new Set<(e: UpsEvent) => void>();

  constructor(state: UpsState) {
    this.state = state;
  }

  onChange(listener: () => void): () => void {
    this.change.add(listener);
    return () => this.change.delete(listener);
  }

  onEvent(listener: (e: UpsEvent) => void): () => void {
    this.event.add(listener);
    return () => this.event.delete(listener);
  }

  get listeners(): number {
    return this.change.size + this.event.size;
  }

  set(state: UpsState, availability: Availability = 'online'): void {
    this.state = state;
    this.currentAvailability = availability;
    for (const l of this.change) l();
  }

  emit(event: UpsEvent): void {
    for (const l of this.event) l(event);
  }
}

const ONLINE: UpsState = {
  status: 'online',
  online: true,
  on_battery: false,
  battery_charge_pct: 100,
  runtime_s: 2700,
  model: 'Smart-UPS 1500',
  serial_number: 'AS1',
  updated_at: '2026-11-21T06:05:00.000Z',
};

async function startServer(
  feed: FakeFeed,
  opts: Partial<NisServerOptions> = {},
): Promise<{
  server: NisServer;
  port: number;
  clock: ManualClock;
  lines: ReturnType<typeof captureLogger>['lines'];
}> {
  const { logger, lines } = captureLogger();
  const clock = new ManualClock(Date.parse('2026-11-21T06:05:02.500Z'));
  const server = new NisServer(
    { host: '127.0.0.1', port: 0, ...opts },
    { feed, clock, logger, hostname: 'nas01', version: '3.14.14 (ups2mqtt 0.1.0) linux' },
  );
  const port = await server.start();
  return { server, port, clock, lines };
}

/** A client that collects bytes and knows when the server closed. */
class Client {
  readonly socket: Socket;
  private data = Buffer.alloc(0);
  closed = false;
  private readonly ready: Promise<void>;

  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port });
    this.ready = new Promise((resolve) => this.socket.once('connect', () => resolve()));
    this.socket.on('data', (c: Buffer) => {
      this.data = Buffer.concat([this.data, c]);
    });
    this.socket.on('close', () => {
      this.closed = true;
    });
    this.socket.on('error', () => {});
  }

  async send(bytes: Buffer): Promise<void> {
    await this.ready;
    this.socket.write(bytes);
  }

  /** Waits until `n` complete replies (each ended by 00 00) arrived; returns their bytes. */
  async replies(n: number, timeoutMs = 3000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (countReplies(this.data) < n) {
      if (Date.now() > deadline) throw new Error(`got ${countReplies(this.data)} of ${n} replies`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.data;
  }

  async closedByServer(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('still open');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  get received(): Buffer {
    return this.data;
  }
}

function countReplies(buf: Buffer): number {
  let n = 0;
  let off = 0;
  while (buf.length - off >= 2) {
    const len = buf.readUInt16BE(off);
    if (buf.length - off - 2 < len) break;
    if (len === 0) n++;
    off += 2 + len;
  }
  return n;
}

/** Messages of a reply as text (the `00 00` left out). */
function messages(buf: Buffer): string[] {
  const out: string[] = [];
  let off = 0;
  while (buf.length - off >= 2) {
    const len = buf.readUInt16BE(off);
    if (len > 0) out.push(buf.toString('utf8', off + 2, off + 2 + len));
    off += 2 + len;
  }
  return out;
}

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('NisServer', () => {
  it('answers status with the reply built from the feed, byte for byte', async () => {
    const feed = new FakeFeed(ONLINE);
    const { server, port } = await startServer(feed);
    const c = new Client(port);
    await c.send(frame('status'));
    const wire = await c.replies(1);
    assert.equal(wire.toString('hex'), encodeNisReply(server.statusLines()).toString('hex'));
    const text = messages(wire);
    assert.equal(text[1], 'DATE     : 2026-11-21 06:05:00 +0000  \n');
    assert.ok(text.includes('STATUS   : ONLINE \n'));
    assert.ok(text.includes('BCHARGE  : 100.0 Percent\n'));
    assert.ok(text.includes('TIMELEFT : 45.0 Minutes\n'));
    assert.ok(text.includes('STATFLAG : 0x05000008\n'));
    assert.equal(text.at(-1), 'END APC  : 2026-11-21 06:05:02 +0000  \n');
    c.socket.destroy();
    await server.stop();
  });

  it('answers two requests sent in one write, and a request split across writes', async () => {
    const feed = new FakeFeed(ONLINE);
    const { server, port } = await startServer(feed);
    const c = new Client(port);
    await c.send(Buffer.concat([frame('status'), frame('bogus')]));
    await c.replies(2);
    const req = frame('status');
    await c.send(req.subarray(0, 1));
    await new Promise((r) => setTimeout(r, 20));
    await c.send(req.subarray(1, 5));
    await new Promise((r) => setTimeout(r, 20));
    await c.send(req.subarray(5));
    const all = await c.replies(3);
    assert.ok(all.includes(NIS_INVALID_COMMAND_REPLY));
    assert.equal(server.stats.requests, 3);
    c.socket.destroy();
    await server.stop();
  });

  it("answers anything else as apcupsd does: 'Invalid command\\n\\0', connection kept", async () => {
    const feed = new FakeFeed(ONLINE);
    const { server, port } = await startServer(feed);
    const c = new Client(port);
    for (const bad of ['status\n', 'STATUS', 'status\0', 'stat', 'rawupsinfo']) {
      await c.send(frame(bad));
    }
    const wire = await c.replies(5);
    assert.equal(
      wire.toString('hex'),
      Buffer.concat(
        Array(5).fill(Buffer.from('0011496e76616c696420636f6d6d616e640a000000', 'hex')),
      ).toString('hex'),
    );
    assert.equal(c.closed, false);
    c.socket.destroy();
    await server.stop();
  });

  it('serves the bridge’s events in apcupsd’s log format, most recent last, bounded', async () => {
    const feed = new FakeFeed(ONLINE);
    const { server, port } = await startServer(feed, { maxEvents: 3 });
    const c = new Client(port);
    await c.send(frame('events'));
    assert.deepEqual(messages(await c.replies(1)), [], 'no events yet: just 00 00');
    const types = ['power_lost', 'power_restored', 'comm_lost', 'comm_restored'] as const;
    for (const [i, type] of types.entries()) {
      feed.emit({ event_type: type, at: `2026-11-21T07:0${i}:00+01:00`, origin: 'state_change' });
    }
    await c.send(frame('events'));
    const wire = await c.replies(2);
    assert.deepEqual(messages(wire), [
      '2026-11-21 07:01:00 +0100  Power is back. UPS running on mains.\n',
      '2026-11-21 07:02:00 +0100  Communications with UPS lost.\n',
      '2026-11-21 07:03:00 +0100  Communications with UPS restored.\n',
    ]);
    c.socket.destroy();
    await server.stop();
  });

  it('serves an unavailable UPS as COMMLOST without measurements, DATE frozen at the last reading', async () => {
    const feed = new FakeFeed(ONLINE);
    const { server, port, clock } = await startServer(feed);
    clock.advance(60_000);
    feed.set(
      {
        status: 'comm_lost',
        comm_lost: true,
        model: 'Smart-UPS 1500',
        serial_number: 'AS1',
        updated_at: '2026-11-21T06:06:02.000Z',
      },
      'offline',
    );
    const c = new Client(port);
    await c.send(frame('status'));
    const text = messages(await c.replies(1));
    assert.ok(text.includes('STATUS   : COMMLOST \n'));
    assert.ok(text.includes('STATFLAG : 0x05000100\n'));
    assert.equal(text[1], 'DATE     : 2026-11-21 06:05:00 +0000  \n');
    assert.equal(text.at(-1), 'END APC  : 2026-11-21 06:06:02 +0000  \n');
    assert.equal(
      text.some((l) => /^(BCHARGE|TIMELEFT|LINEV|LOADPCT) /.test(l)),
      false,
    );
    c.socket.destroy();
    await server.stop();
  });

  it('closes on binary garbage and huge lengths, and keeps serving others', async () => {
    const feed = new FakeFeed(ONLINE);
    const { server, port } = await startServer(feed);
    const garbage = new Client(port);
    await garbage.send(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]));
    await garbage.closedByServer();
    const huge = new Client(port);
    await huge.send(Buffer.from([0x7f, 0xff]));
    await huge.closedByServer();
    const empty = new Client(port);
    await empty.send(Buffer.from([0, 0]));
    await empty.closedByServer();
    const good = new Client(port);
    await good.send(frame('status'));
    await good.replies(1);
    assert.equal(garbage.received.length + huge.received.length + empty.received.length, 0);
    good.socket.destroy();
    await server.stop();
  });

  it('cuts off a client that floods requests and never reads; others are served meanwhile', async () => {
    const feed = new FakeFeed(ONLINE);
    const { server, port, lines } = await startServer(feed, { maxPendingWriteBytes: 16 * 1024 });
    const hog = new Client(port);
    hog.socket.pause();
    const flood = Buffer.concat(Array(20_000).fill(frame('status')));
    await hog.send(flood);
    await hog.send(flood);
    await until(() =>
      lines.some((l) => l.msg === 'client does not read its replies: disconnected'),
    );
    const good = new Client(port);
    await good.send(frame('status'));
    await good.replies(1);
    assert.ok(server.stats.requests < 40_000, `stopped after ${server.stats.requests} requests`);
    hog.socket.destroy();
    good.socket.destroy();
    await server.stop();
  });

  it('closes a silent client after the idle timeout and refuses clients over the limit', async () => {
    const feed = new FakeFeed(ONLINE);
    const { server, port } = await startServer(feed, { idleTimeoutMs: 150, maxClients: 2 });
    const a = new Client(port);
    const b = new Client(port);
    await until(() => server.stats.active === 2);
    const c = new Client(port);
    await c.closedByServer();
    assert.equal(server.stats.rejected, 1);
    await a.closedByServer();
    await b.closedByServer();
    const d = new Client(port);
    await d.send(frame('status'));
    await d.replies(1);
    d.socket.destroy();
    await server.stop();
  });

  it('stop() closes clients and the port and lets go of the feed', async () => {
    const feed = new FakeFeed(ONLINE);
    const { server, port } = await startServer(feed);
    assert.equal(feed.listeners, 2);
    const c = new Client(port);
    await c.send(frame('status'));
    await c.replies(1);
    await server.stop();
    await c.closedByServer();
    assert.equal(feed.listeners, 0);
    const again = new Client(port);
    await again.closedByServer();
  });

  it('start() rejects when the port is taken, and holds nothing', async () => {
    const feed = new FakeFeed(ONLINE);
    const { server, port } = await startServer(feed);
    const { logger } = captureLogger();
    const second = new NisServer(
      { host: '127.0.0.1', port },
      { feed, clock: new ManualClock(0), logger, hostname: 'h', version: 'v' },
    );
    await assert.rejects(second.start(), /EADDRINUSE/);
    assert.equal(feed.listeners, 2, 'only the first server listens to the feed');
    await server.stop();
  });
});
