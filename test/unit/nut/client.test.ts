/**
 * The NUT client and source against a scripted upsd on a loopback port: kept connection,
 * ERR replies that leave the session intact, bounds, timeouts, reconnect backoff,
 * STARTTLS refusal, the comm-lost reading and commands.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TLSSocket } from 'node:tls';
import pino from 'pino';
import { type Clock, ManualClock, systemClock } from '../../../src/core/clock.ts';
import { isUps2MqttError } from '../../../src/core/errors.ts';
import { NutClient } from '../../../src/sources/nut/client.ts';
import { sendNutCommand } from '../../../src/sources/nut/command.ts';
import { NutClientRegistry, retryGapFor } from '../../../src/sources/nut/registry.ts';
import { createNutSource } from '../../../src/sources/nut/source.ts';
import { parseSourceUri } from '../../../src/sources/uri.ts';

const logger = pino({ level: 'silent' });

/** A fake upsd: `reply(line, session)` returns the reply text (or undefined: say nothing). */
class FakeUpsd {
  readonly lines: string[] = [];
  connections = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private reply: (line: string, session: Record<string, string>) => string | undefined,
  ) {
    this.server = createServer((s) => {
      this.connections++;
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      const session: Record<string, string> = {};
      let carry = '';
      s.on('data', (d) => {
        const parts = (carry + d.toString()).split('\n');
        carry = parts.pop() ?? '';
        for (const line of parts) {
          this.lines.push(line);
          const out = this.reply(line, session);
          if (out !== undefined) s.write(out);
        }
      });
      s.on('error', () => {});
    });
  }

  /** Listens on `port` (default: a free one). */
  async start(port = 0): Promise<this> {
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', r));
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
    return this;
  }

  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const UPS_VARS =
  'BEGIN LIST VAR ups\nVAR ups ups.status "OL"\nVAR ups battery.charge "97"\nVAR ups device.serial "ABC123"\nVAR ups device.model "Back-UPS"\nEND LIST VAR ups\n';

function basic(line: string, session: Record<string, string>): string | undefined {
  if (line === 'LIST VAR ups') return session.stale ? 'ERR DATA-STALE\n' : UPS_VARS;
  if (line === 'LIST VAR ghost') return 'ERR UNKNOWN-UPS\n';
  if (line === 'LIST CMD ups')
    return 'BEGIN LIST CMD ups\nCMD ups beeper.mute\nCMD ups load.off\nCMD ups outlet.1.load.off\nCMD ups test.battery.start.quick\nEND LIST CMD ups\n';
  if (line === 'LIST UPS')
    return 'BEGIN LIST UPS\nUPS ups "Rack"\nUPS other "Desk UPS"\nEND LIST UPS\n';
  if (line === 'LOGOUT') return 'OK Goodbye\n';
  if (line === 'STARTTLS') return 'ERR FEATURE-NOT-CONFIGURED\n';
  if (line.startsWith('USERNAME ')) {
    session.user = line.slice(9);
    return 'OK\n';
  }
  if (line.startsWith('PASSWORD ')) {
    session.pass = line.slice(9);
    return 'OK\n';
  }
  if (line === 'SET TRACKING ON') return session.user ? 'OK\n' : 'ERR USERNAME-REQUIRED\n';
  if (line.startsWith('INSTCMD ')) {
    if (session.user !== 'admin' || session.pass !== '"s e"') return 'ERR ACCESS-DENIED\n';
    return line.endsWith('load.off') ? 'OK TRACKING T-1\n' : 'OK TRACKING T-2\n';
  }
  if (line === 'GET TRACKING T-1') return 'ERR UNKNOWN\n';
  if (line === 'GET TRACKING T-2') return 'SUCCESS\n';
  return 'ERR UNKNOWN-COMMAND\n';
}

const servers: FakeUpsd[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});
async function upsd(reply = basic): Promise<FakeUpsd> {
  const s = await new FakeUpsd(reply).start();
  servers.push(s);
  return s;
}

function client(
  port: number,
  extra: Partial<ConstructorParameters<typeof NutClient>[0]> = {},
): NutClient {
  return new NutClient({
    host: '127.0.0.1',
    port,
    tls: 'off',
    logger,
    clock: systemClock,
    readTimeoutMs: 500,
    ...extra,
  });
}

describe('NutClient', () => {
  it('keeps one connection; an ERR reply leaves the session usable', async () => {
    const s = await upsd();
    const c = client(s.port);
    assert.equal((await c.list('VAR ups')).length, 4);
    await assert.rejects(c.list('VAR ghost'), (e) => isUps2MqttError(e, 'UPS_UNKNOWN'));
    assert.equal((await c.list('UPS')).length, 2);
    assert.equal(s.connections, 1);
    assert.equal(c.connects, 1);
    c.close();
  });

  it('replaces a connection upsd dropped, at the next request', async () => {
    const s = await upsd();
    const c = client(s.port);
    await c.list('VAR ups');
    s.dropAll();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await c.list('VAR ups')).length, 4);
    assert.equal(s.connections, 2);
    c.close();
  });

  it('a line over the bound or a list over the bound fails and drops the connection', async () => {
    const s = await upsd((line) =>
      line === 'LIST VAR ups'
        ? `BEGIN LIST VAR ups\nVAR ups x "${'y'.repeat(300)}"\n`
        : 'BEGIN LIST UPS\nUPS a ""\nUPS b ""\nUPS c ""\nEND LIST UPS\n',
    );
    const c = client(s.port, { maxLineBytes: 100, maxListItems: 2 });
    await assert.rejects(c.list('VAR ups'), (e) => isUps2MqttError(e, 'FRAME_TOO_LARGE'));
    await assert.rejects(c.list('UPS'), (e) => isUps2MqttError(e, 'FRAME_TOO_LARGE'));
    assert.equal(s.connections, 2);
    c.close();
  });

  it('a reply that never completes times out', async () => {
    const s = await upsd((line) => (line === 'LIST VAR ups' ? 'BEGIN LIST VAR ups\n' : undefined));
    const c = client(s.port, { readTimeoutMs: 100 });
    await assert.rejects(c.list('VAR ups'), (e) => isUps2MqttError(e, 'READ_TIMEOUT'));
    c.close();
  });

  it('no backoff: one connect attempt per gap, however many failed before', async () => {
    const s = await upsd();
    const port = s.port;
    await s.stop();
    servers.splice(servers.indexOf(s), 1);
    const clock = new ManualClock(1_000_000);
    let attempts = 0;
    const c = client(port, {
      clock,
      retryGapMs: 750,
      connect: (h, p) => {
        attempts++;
        return createConnection({ host: h, port: p });
      },
    });
    // Twelve polls a second apart, each followed by another UPS's request 100 ms later:
    // every poll tries (a doubling backoff would have refused from the third on), the
    // request in the gap fails at once with the time left.
    for (let poll = 1; poll <= 12; poll++) {
      await assert.rejects(c.list('VAR ups'), (e) => isUps2MqttError(e, 'CONNECT_FAILED'));
      assert.equal(attempts, poll);
      clock.advance(100);
      await assert.rejects(
        c.list('VAR ups'),
        (e) => isUps2MqttError(e, 'CONNECT_FAILED') && e.context.retryInMs === 650,
      );
      assert.equal(attempts, poll);
      clock.advance(900);
    }
    // upsd answers again: the next request asked a gap after the last attempt connects.
    const back = await new FakeUpsd(basic).start(port);
    servers.push(back);
    let connected = 0;
    const off = c.onConnect(() => connected++);
    assert.equal((await c.list('VAR ups')).length, 4);
    assert.equal(connected, 1);
    assert.equal(c.connects, 1);
    off();
    c.close();
  });

  it('the gap is measured from when a request was asked, not when its turn came', async () => {
    const s = await upsd();
    const port = s.port;
    await s.stop();
    servers.splice(servers.indexOf(s), 1);
    const clock = new ManualClock(0);
    const c = client(port, { clock, retryGapMs: 750 });
    // Asked at 0, tries and fails; asked at 750 while the first is still in the queue.
    const first = c.list('VAR ups');
    clock.advance(750);
    const second = c.list('VAR ups');
    await assert.rejects(first, (e) => isUps2MqttError(e, 'CONNECT_FAILED'));
    clock.advance(200); // the queue took a while: still the second's turn to try
    await assert.rejects(
      second,
      (e) => isUps2MqttError(e, 'CONNECT_FAILED') && e.context.retryInMs === undefined,
    );
    assert.equal(c.attempts, 2);
    c.close();
  });

  it('a wall clock set back an hour does not hold the next attempt off', async () => {
    const s = await upsd();
    const port = s.port;
    await s.stop();
    servers.splice(servers.indexOf(s), 1);
    const monotonic = new ManualClock(0);
    let wall = 1_800_000_000_000;
    const clock: Clock = {
      now: () => wall,
      monotonicNow: () => monotonic.now(),
      setTimeout: (fn, ms) => monotonic.setTimeout(fn, ms),
      clearTimeout: (handle) => monotonic.clearTimeout(handle),
    };
    const c = client(port, { clock, retryGapMs: 750 });
    await assert.rejects(c.list('VAR ups'), (e) => isUps2MqttError(e, 'CONNECT_FAILED'));
    wall -= 3_600_000;
    monotonic.advance(750);
    await assert.rejects(
      c.list('VAR ups'),
      (e) => isUps2MqttError(e, 'CONNECT_FAILED') && e.context.retryInMs === undefined,
    );
    assert.equal(c.attempts, 2);
    c.close();
  });

  it('STARTTLS: prefer falls back to clear text, require refuses', async () => {
    const s = await upsd();
    const prefer = client(s.port, { tls: 'prefer' });
    assert.equal((await prefer.list('VAR ups')).length, 4);
    prefer.close();
    const require_ = client(s.port, { tls: 'require' });
    await assert.rejects(
      require_.list('VAR ups'),
      (e) => isUps2MqttError(e, 'TLS_FAILED') && /STARTTLS/.test(e.message),
    );
    require_.close();
    assert.ok(s.lines.filter((l) => l === 'STARTTLS').length >= 2);
  });
});

describe('STARTTLS', () => {
  it('upgrades the same socket to TLS, checked against the CA and host name', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ups2mqtt-nut-tls-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // A self-signed certificate for "localhost", which is also its own CA.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'cert.pem'));
    const key = readFileSync(join(dir, 'key.pem'));
    const seen: string[] = [];
    const server = createServer((plain) => {
      plain.once('data', (d) => {
        seen.push(d.toString().trim());
        plain.write('OK STARTTLS\n', () => {
          const secure = new TLSSocket(plain, { isServer: true, cert, key });
          secure.on('error', () => {});
          secure.on('data', (x) => {
            const line = x.toString().trim();
            seen.push(`tls:${line}`);
            secure.write(line === 'LIST VAR ups' ? UPS_VARS : 'OK Goodbye\n');
          });
        });
      });
      plain.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;
    const good = new NutClient({
      host: 'localhost',
      port,
      tls: 'require',
      ca: cert,
      logger,
      clock: systemClock,
      readTimeoutMs: 2000,
    });
    assert.equal((await good.list('VAR ups')).length, 4);
    good.close();
    assert.deepEqual(seen.slice(0, 2), ['STARTTLS', 'tls:LIST VAR ups']);
    // Without the CA the certificate is not trusted: no reading in clear instead.
    const untrusted = new NutClient({
      host: 'localhost',
      port,
      tls: 'prefer',
      logger,
      clock: systemClock,
      readTimeoutMs: 2000,
    });
    await assert.rejects(untrusted.list('VAR ups'), (e) => isUps2MqttError(e, 'TLS_FAILED'));
    untrusted.close();
  });
});

describe('NutSource', () => {
  it('reads, offers LIST CMD ∩ known commands, and shares one connection per upsd', async () => {
    const s = await upsd();
    const registry = new NutClientRegistry({ timeoutMs: 500 }, logger, systemClock);
    const known = new Set([
      'beeper.mute',
      'load.off',
      'test.battery.start.quick',
      'shutdown.return',
    ]);
    const a = createNutSource(parseSourceUri(`nut://127.0.0.1:${s.port}/ups`) as never, {
      registry,
      knownCommands: known,
      logger,
      clock: systemClock,
    });
    const b = createNutSource(parseSourceUri(`nut://127.0.0.1:${s.port}/ups`) as never, {
      registry,
      knownCommands: known,
      logger,
      clock: systemClock,
    });
    const reading = await a.read(AbortSignal.timeout(2000));
    await b.read(AbortSignal.timeout(2000));
    assert.equal(reading.data.battery_charge_pct, 97);
    assert.equal(reading.nativeEvents, false);
    assert.deepEqual(a.capabilities().commands, [
      'beeper.mute',
      'load.off',
      'test.battery.start.quick',
    ]);
    assert.equal(s.connections, 1);
    await a.close();
    await b.close();
  });

  it('the shared client tries once per ¾ of the shortest poll interval of its UPSes', () => {
    assert.equal(retryGapFor([]), 750);
    assert.equal(retryGapFor([500]), 375);
    assert.equal(retryGapFor([10_000, 1000, 5000]), 750);
    const registry = new NutClientRegistry({ timeoutMs: 500 }, logger, systemClock);
    const spec = parseSourceUri('nut://127.0.0.1:3493/ups') as never;
    const slow = registry.acquire(spec, 10_000);
    assert.equal(slow.client.retryGapMs, 7500);
    const fast = registry.acquire(spec, 2000);
    assert.equal(fast.client, slow.client);
    assert.equal(fast.client.retryGapMs, 1500);
    const oneOff = registry.acquire(spec); // LIST UPS at start-up: no interval of its own
    assert.equal(oneOff.client.retryGapMs, 1500);
    oneOff.release();
    fast.release();
    assert.equal(slow.client.retryGapMs, 7500);
    slow.release();
  });

  it('a UPS refused in the gap is woken when another UPS of its upsd reconnects', async () => {
    const s = await upsd();
    const port = s.port;
    await s.stop();
    servers.splice(servers.indexOf(s), 1);
    const clock = new ManualClock(1_000_000);
    const registry = new NutClientRegistry({ timeoutMs: 500 }, logger, clock);
    const make = (ups: string) =>
      createNutSource(parseSourceUri(`nut://127.0.0.1:${port}/${ups}`) as never, {
        registry,
        knownCommands: new Set(),
        logger,
        clock,
        pollIntervalMs: 1000,
      });
    const a = make('ups');
    const b = make('ups');
    const woken = { a: 0, b: 0 };
    const offA = a.onWake(() => woken.a++);
    const offB = b.onWake(() => woken.b++);
    // upsd down: A's poll tries and fails, B's 300 ms later is refused without trying.
    await assert.rejects(a.read(AbortSignal.timeout(2000)), (e) =>
      isUps2MqttError(e, 'CONNECT_FAILED'),
    );
    clock.advance(300);
    await assert.rejects(
      b.read(AbortSignal.timeout(2000)),
      (e) => isUps2MqttError(e, 'CONNECT_FAILED') && e.context.retryInMs === 450,
    );
    // upsd is back; A's next poll reconnects and B, whose next poll is 700 ms away, is
    // woken to read now. A, reading, is not woken again.
    servers.push(await new FakeUpsd(basic).start(port));
    clock.advance(700);
    assert.equal((await a.read(AbortSignal.timeout(2000))).data.online, true);
    assert.deepEqual(woken, { a: 0, b: 1 });
    assert.equal((await b.read(AbortSignal.timeout(2000))).data.online, true);
    offA();
    offB();
    await a.close();
    await b.close();
  });

  it('DATA-STALE: an error before any reading, then a comm-lost reading with the identity', async () => {
    let stale = true;
    let gone = false;
    const s = await upsd((line, session) => {
      if (gone && line === 'LIST VAR ups') return 'ERR UNKNOWN-UPS\n';
      if (stale) session.stale = '1';
      else delete session.stale;
      return basic(line, session);
    });
    const registry = new NutClientRegistry({ timeoutMs: 500 }, logger, systemClock);
    const src = createNutSource(parseSourceUri(`nut://127.0.0.1:${s.port}/ups`) as never, {
      registry,
      knownCommands: new Set(),
      logger,
      clock: systemClock,
    });
    await assert.rejects(
      src.read(AbortSignal.timeout(2000)),
      (e) => isUps2MqttError(e, 'DATA_STALE') && e.context.nutError === 'DATA-STALE',
    );
    stale = false;
    assert.equal((await src.read(AbortSignal.timeout(2000))).data.online, true);
    stale = true;
    const lost = await src.read(AbortSignal.timeout(2000));
    assert.deepEqual(lost.data, {
      model: 'Back-UPS',
      serial_number: 'ABC123',
      comm_lost: true,
      status_text: 'DATA-STALE',
    });
    // A UPS name upsd no longer serves (its config changed) counts the same, once read...
    gone = true;
    assert.equal((await src.read(AbortSignal.timeout(2000))).data.status_text, 'UNKNOWN-UPS');
    // ...and is an error for a UPS never read.
    const ghost = createNutSource(parseSourceUri(`nut://127.0.0.1:${s.port}/ghost`) as never, {
      registry,
      knownCommands: new Set(),
      logger,
      clock: systemClock,
    });
    await assert.rejects(ghost.read(AbortSignal.timeout(2000)), (e) =>
      isUps2MqttError(e, 'UPS_UNKNOWN'),
    );
    await ghost.close();
    await src.close();
  });

  it('commands: tracked success, the driver refusing, a user without the right', async () => {
    const s = await upsd();
    const registry = new NutClientRegistry({ timeoutMs: 500 }, logger, systemClock);
    const known = new Set(['load.off', 'test.battery.start.quick']);
    const make = (uri: string) =>
      createNutSource(parseSourceUri(uri) as never, {
        registry,
        knownCommands: known,
        logger,
        clock: systemClock,
      });
    const admin = make(`nut://admin:s%20e@127.0.0.1:${s.port}/ups`);
    await admin.read(AbortSignal.timeout(2000));
    assert.deepEqual(await admin.command('test.battery.start.quick', {}), {
      message: 'executed by the NUT driver',
    });
    await assert.rejects(
      admin.command('load.off', {}),
      (e) => isUps2MqttError(e, 'COMMAND_FAILED') && /did not carry out/.test(e.message),
    );
    await assert.rejects(admin.command('beeper.mute', {}), (e) =>
      isUps2MqttError(e, 'SOURCE_UNSUPPORTED'),
    );
    const viewer = make(`nut://viewer:wrongpass@127.0.0.1:${s.port}/ups`);
    await viewer.read(AbortSignal.timeout(2000));
    await assert.rejects(viewer.command('load.off', {}), (e) => {
      assert.ok(isUps2MqttError(e, 'ACCESS_DENIED'));
      assert.match(e.message, /instcmds/);
      assert.doesNotMatch(JSON.stringify({ m: e.message, c: e.context }), /wrongpass/);
      return true;
    });
    // Each command on its own connection, logged in, quoted password, logged out.
    assert.ok(s.lines.includes('PASSWORD "s e"'));
    assert.ok(s.lines.includes('INSTCMD ups test.battery.start.quick'));
    assert.ok(s.lines.filter((l) => l === 'LOGOUT').length >= 3);
    await admin.close();
    await viewer.close();
  });

  it('sendNutCommand without tracking (protocol 1.2) reports the command as sent', async () => {
    const s = await upsd((line, session) =>
      line === 'SET TRACKING ON'
        ? 'ERR UNKNOWN-COMMAND\n'
        : line.startsWith('INSTCMD')
          ? 'OK\n'
          : basic(line, session),
    );
    const r = await sendNutCommand({
      host: '127.0.0.1',
      port: s.port,
      tls: 'off',
      logger,
      ups: 'ups',
      command: 'beeper.mute',
      username: 'admin',
      password: 'x',
    });
    assert.deepEqual(r, { tracked: false, status: 'SENT' });
  });
});
