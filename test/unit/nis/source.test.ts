import * as assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { isUps2MqttError, Ups2MqttError } from '../../../src/core/errors.ts';
import type { NisRequestOptions } from '../../../src/sources/nis/client.ts';
import { createNisSource, NisSource } from '../../../src/sources/nis/source.ts';
import { parseSourceUri } from '../../../src/sources/uri.ts';
import { captureLogger } from '../../helpers/log-capture.ts';
import { encodeReply, fixtureLines, frame, startFakeNis, within } from './helpers.ts';

/** Status lines in apcupsd's layout; `extra` overrides or adds records. */
function statusLines(extra: Record<string, string> = {}): string[] {
  const records: Record<string, string> = {
    APC: '001,008,0200',
    DATE: '2026-11-21 10:00:00 +0000  ',
    STATUS: 'ONLINE ',
    BCHARGE: '100.0 Percent',
    NUMXFERS: '0',
    SELFTEST: 'NO',
    STATFLAG: '0x05000008',
    'END APC': '2026-11-21 10:00:01 +0000  ',
    ...extra,
  };
  return Object.entries(records).map(([k, v]) => `${k.padEnd(9)}: ${v}`);
}

function logLine(second: number, message: string): string {
  return `2026-11-21 10:00:${String(second).padStart(2, '0')} +0000  ${message}`;
}

/** A scripted stand-in for nisRequest that records every call. */
class FakeRequest {
  readonly calls: NisRequestOptions[] = [];
  status: string[] | Error = statusLines();
  events: string[] | Error = [logLine(0, 'apcupsd 3.14.14 (31 May 2016) debian startup succeeded')];

  readonly request = async (opts: NisRequestOptions): Promise<string[]> => {
    this.calls.push(opts);
    const answer = opts.command === 'status' ? this.status : this.events;
    if (answer instanceof Error) throw answer;
    return [...answer];
  };

  /** Commands sent since the last call of this method. */
  take(): string[] {
    return this.calls.splice(0).map((c) => c.command);
  }
}

function setup(extra: Partial<ConstructorParameters<typeof NisSource>[0]> = {}) {
  const clock = new ManualClock(1_000_000);
  const fake = new FakeRequest();
  const { logger, lines } = captureLogger();
  const source = new NisSource({
    host: 'ups.local',
    port: 3551,
    connectTimeoutMs: 1500,
    readTimeoutMs: 2500,
    logger,
    clock,
    request: fake.request,
    ...extra,
  });
  const read = () => source.read(new AbortController().signal);
  return { clock, fake, source, read, logs: lines };
}

const notAvailable = () =>
  new Ups2MqttError('SERVER_ERROR', 'NIS server refused "events": Not available', {
    context: { reply: 'Not available' },
  });

describe('NisSource on an unchanged UPS', () => {
  it('maps a restamped reply like a full one, and sees the next real change at once', async () => {
    const { fake, read, logs } = setup();
    const first = await read();
    fake.status = statusLines({
      DATE: '2026-11-21 10:00:05 +0000  ',
      'END APC': '2026-11-21 10:00:09 +0000  ',
    });
    const second = await read();
    assert.notEqual(second.data, first.data, 'a new object each poll');
    assert.equal(second.data.sampled_at, '2026-11-21T10:00:05+00:00');
    assert.equal(second.data.reported_at, '2026-11-21T10:00:09+00:00');
    assert.equal(second.data.data_age_s, 4);
    assert.deepEqual(second.data, { ...first.data, ...second.data, data_age_s: 4 });
    assert.deepEqual(Object.keys(second.data), Object.keys(first.data));
    fake.status = statusLines({
      DATE: '2026-11-21 10:00:06 +0000  ',
      'END APC': '2026-11-21 10:00:06 +0000  ',
      STATUS: 'ONBATT ',
      STATFLAG: '0x05060010',
    });
    const third = await read();
    assert.equal(third.data.on_battery, true);
    assert.equal(third.data.status_text, 'ONBATT');
    assert.equal(third.data.data_age_s, 0);
    assert.deepEqual(logs, []);
  });
});

describe('NisSource comparing replies', () => {
  /** What a full mapping of `lines` gives (a fresh source maps its first reply in full). */
  async function fullMapping(lines: string[]) {
    const { fake, read } = setup();
    fake.status = lines;
    return (await read()).data;
  }

  it('stops remembering replies that change every poll, probes every 16th, and stays exact', async () => {
    const { fake, source, read } = setup();
    const remembered: boolean[] = [];
    const stamp = (s: number) =>
      `2026-11-21 10:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')} +0000  `;
    // 40 polls with a new BCHARGE each, then 12 unchanged ones (only the stamps move).
    for (let i = 0; i < 52; i++) {
      const lines = statusLines({
        DATE: stamp(i),
        'END APC': stamp(i + 1),
        BCHARGE: `${i < 40 ? 50 + i : 90}.0 Percent`,
      });
      fake.status = lines;
      const got = (await read()).data;
      assert.deepEqual(got, await fullMapping(lines), `poll ${i}`);
      remembered.push(source.remembersReply());
    }
    // Remembered after the 1st and 2nd changed reply in a row, then after every 16th.
    const changing = Array.from({ length: 40 }, (_, i) => i < 2 || (i + 1) % 16 === 0);
    assert.deepEqual(remembered.slice(0, 40), changing);
    // The UPS settled at poll 40; the probe at the 48th full mapping in a row (poll 47)
    // remembers it, and from then on the replies are compared with it.
    assert.deepEqual(remembered.slice(40), [
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
      true,
      true,
      true,
      true,
    ]);
  });
});

describe('NisSource basics', () => {
  it('describes itself, advertises no commands and the sticky fields', async () => {
    const { source } = setup();
    assert.equal(source.description, 'nis://ups.local:3551');
    assert.deepEqual(source.capabilities(), {
      commands: [],
      stickyFields: [
        'last_on_battery_at',
        'last_off_battery_at',
        'last_self_test_at',
        'self_test_result',
        'last_transfer_reason',
        'time_on_battery_s',
        'cumulative_on_battery_s',
        'transfers',
      ],
    });
    await source.open();
    const off = source.onWake(() => assert.fail('NIS never wakes'));
    off();
  });

  it('brackets an IPv6 host in its description', () => {
    assert.equal(setup({ host: '::1' }).source.description, 'nis://[::1]:3551');
  });

  it('rejects every command with SOURCE_UNSUPPORTED (NIS is read-only, docs/protocols/nis.md#running-apcupsd-without-a-ups)', async () => {
    const { source } = setup();
    await assert.rejects(source.command('test.battery.start.quick', {}), (err: unknown) =>
      isUps2MqttError(err, 'SOURCE_UNSUPPORTED'),
    );
  });

  it('passes host, port, timeouts, frame limit and a signal to each request', async () => {
    const { fake, read } = setup({ maxFrameBytes: 512 });
    await read();
    assert.equal(fake.calls.length, 2);
    for (const call of fake.calls) {
      assert.equal(call.host, 'ups.local');
      assert.equal(call.port, 3551);
      assert.equal(call.connectTimeoutMs, 1500);
      assert.equal(call.readTimeoutMs, 2500);
      assert.equal(call.maxFrameBytes, 512);
      assert.ok(call.signal instanceof AbortSignal);
    }
  });

  it('returns mapped data, unknown keys and no history on the first read', async () => {
    const { fake, read } = setup();
    fake.status = statusLines({ LINEV: '231.0 Volts', SHARE: 'NetworkUPS' });
    const reading = await read();
    assert.deepEqual(fake.take(), ['status', 'events']);
    assert.equal(reading.data.input_voltage_v, 231);
    assert.equal(reading.data.online, true);
    assert.equal(reading.data.manufacturer, 'APC');
    assert.deepEqual(reading.unknown, { SHARE: 'NetworkUPS' });
    assert.deepEqual(reading.events, []);
    assert.equal(reading.nativeEvents, true);
  });

  it('fails with PROTOCOL_ERROR on a status reply without records', async () => {
    const { fake, read } = setup();
    fake.status = [];
    await assert.rejects(read(), (err: unknown) => isUps2MqttError(err, 'PROTOCOL_ERROR'));
  });

  // apcupsd's first second after start: placeholders, not a reading (issue 14).
  for (const [name, lines] of [
    [
      'an empty STATUS',
      statusLines({ STATUS: '', MBATTCHG: '-1 Percent', MINTIMEL: '-1 Minutes' }),
    ],
    ['no STATUS at all', statusLines().filter((l) => !l.startsWith('STATUS'))],
    // Observed on 3.14.14 (Smart driver) ~20 ms after the empty STATUS, on every restart.
    [
      'a STATUS over unread values (-1 transfer and nominal voltages)',
      statusLines({
        MODEL: '',
        STATUS: 'ONLINE REPLACEBATT ',
        LINEV: '0.0 Volts',
        BCHARGE: '0.0 Percent',
        LOTRANS: '-1.0 Volts',
        HITRANS: '-1.0 Volts',
        NOMOUTV: '-1 Volts',
        STATFLAG: '0x05000088',
      }),
    ],
    ['only NOMOUTV still -1', statusLines({ NOMOUTV: '-1 Volts' })],
    // Seen on 3.14.14 (Smart driver) right after the above: settings read, values not yet.
    [
      'a STATUS over unread values (blank MODEL, 0 % charge, settings read)',
      statusLines({
        MODEL: '',
        STATUS: 'ONLINE REPLACEBATT ',
        LINEV: '0.0 Volts',
        BCHARGE: '0.0 Percent',
        LOTRANS: '208.0 Volts',
        HITRANS: '253.0 Volts',
        NOMOUTV: '230 Volts',
        STATFLAG: '0x05000088',
      }),
    ],
  ] as const) {
    it(`fails with NOT_READY on ${name} (apcupsd starting up), then reads normally`, async () => {
      const { fake, read } = setup();
      fake.status = [...lines];
      await assert.rejects(read(), (err: unknown) => isUps2MqttError(err, 'NOT_READY'));
      fake.status = statusLines();
      assert.equal((await read()).data.online, true);
    });
  }

  it('reads every real apcupsd status fixture (none looks like a start-up placeholder)', async () => {
    const names = readdirSync(new URL('../../fixtures/nis/', import.meta.url)).filter((n) =>
      n.endsWith('.txt'),
    );
    assert.ok(names.length >= 5);
    for (const name of names) {
      const { fake, read } = setup();
      fake.status = fixtureLines(name);
      // A NOT_READY here would reject and fail the test.
      const { data } = await read();
      assert.ok(data.model !== undefined || data.online !== undefined, name);
    }
    // Disabled shutdown thresholds print as -1 too, and are a reading.
    const { fake, read } = setup();
    fake.status = statusLines({ MBATTCHG: '-1 Percent', MINTIMEL: '-1 Minutes' });
    assert.equal((await read()).data.online, true);
    // A UPS that reports a blank model is read when it reports a charge.
    fake.status = statusLines({ MODEL: '', BCHARGE: '87.0 Percent' });
    assert.equal((await read()).data.battery_charge_pct, 87);
  });
});

describe('NisSource events fetch rules', () => {
  it('does not fetch events again before the interval, then does at 30 s', async () => {
    const { clock, fake, read } = setup();
    await read();
    fake.take();
    clock.advance(29_999);
    await read();
    assert.deepEqual(fake.take(), ['status']);
    clock.advance(1);
    fake.events = [
      logLine(0, 'apcupsd 3.14.14 (31 May 2016) debian startup succeeded'),
      logLine(20, 'Communications with UPS lost.'),
    ];
    const reading = await read();
    assert.deepEqual(fake.take(), ['status', 'events']);
    assert.deepEqual(
      reading.events.map((e) => [e.event_type, e.at, e.origin]),
      [['comm_lost', '2026-11-21T10:00:20+00:00', 'source_log']],
    );
    assert.equal(reading.nativeEvents, true);
  });

  it('honours a configured interval', async () => {
    const { clock, fake, read } = setup({ eventsIntervalMs: 5000 });
    await read();
    fake.take();
    clock.advance(5000);
    await read();
    assert.deepEqual(fake.take(), ['status', 'events']);
  });

  const hints: [string, Record<string, string>][] = [
    ['STATFLAG', { STATFLAG: '0x05000010', STATUS: 'ONBATT ' }],
    ['SELFTEST', { SELFTEST: 'IP' }],
    ['LASTSTEST', { LASTSTEST: '2026-11-21 10:00:05 +0000  ' }],
    ['NUMXFERS', { NUMXFERS: '1' }],
    ['XONBATT', { XONBATT: '2026-11-21 10:00:05 +0000  ' }],
  ];
  for (const [key, change] of hints) {
    it(`fetches events at once when ${key} changes`, async () => {
      const { clock, fake, read } = setup();
      await read();
      clock.advance(1000);
      await read();
      fake.take();
      fake.status = statusLines(change);
      clock.advance(1000);
      await read();
      assert.deepEqual(fake.take(), ['status', 'events']);
      clock.advance(1000);
      await read();
      assert.deepEqual(fake.take(), ['status'], 'the changed value is the new normal');
    });
  }

  it('does not fetch events for changes of other fields', async () => {
    const { clock, fake, read } = setup();
    await read();
    fake.take();
    fake.status = statusLines({ BCHARGE: '97.0 Percent', LINEV: '240.0 Volts' });
    clock.advance(1000);
    await read();
    assert.deepEqual(fake.take(), ['status']);
  });

  it('after a failed read, catches up: the events logged meanwhile come once', async () => {
    const { clock, fake, read } = setup();
    await read();
    fake.take();
    const down = new Ups2MqttError('CONNECT_FAILED', 'refused');
    fake.status = down;
    clock.advance(1000);
    await assert.rejects(read(), (err: unknown) => err === down);
    assert.deepEqual(fake.take(), ['status']);

    fake.status = statusLines();
    fake.events = [
      logLine(0, 'apcupsd 3.14.14 (31 May 2016) debian startup succeeded'),
      logLine(30, 'apcupsd exiting, signal 15'),
      logLine(31, 'apcupsd shutdown succeeded'),
      logLine(40, 'apcupsd 3.14.14 (31 May 2016) debian startup succeeded'),
    ];
    clock.advance(1000);
    const reading = await read();
    assert.deepEqual(fake.take(), ['status', 'events']);
    assert.deepEqual(
      reading.events.map((e) => e.event_type),
      ['daemon_stopped', 'daemon_stopped', 'daemon_started'],
    );
    clock.advance(30_000);
    assert.deepEqual((await read()).events, [], 'no duplicates on the next fetch');
  });

  it('treats "Not available" as no event log: info once, nativeEvents false, retry every 10 min', async () => {
    const { clock, fake, read, logs } = setup();
    fake.events = notAvailable();
    const first = await read();
    assert.equal(first.nativeEvents, false);
    assert.deepEqual(first.events, []);
    assert.deepEqual(fake.take(), ['status', 'events']);
    const infos = () => logs.filter((l) => l.level === 'info');
    assert.equal(infos().length, 1);
    assert.match(infos()[0]?.msg ?? '', /no event log/);

    // Neither the interval, nor a hint, nor a failed read brings it back before 10 minutes.
    clock.advance(60_000);
    fake.status = statusLines({ NUMXFERS: '3' });
    await read();
    fake.status = new Ups2MqttError('READ_TIMEOUT', 'slow');
    await assert.rejects(read());
    fake.status = statusLines();
    clock.advance(60_000);
    assert.equal((await read()).nativeEvents, false);
    assert.deepEqual(fake.take(), ['status', 'status', 'status']);

    clock.advance(10 * 60_000 - 120_000);
    await read();
    assert.deepEqual(fake.take(), ['status', 'events'], 'retried after 10 minutes');
    assert.equal(infos().length, 1, 'logged once');

    clock.advance(10 * 60_000);
    fake.events = [logLine(0, 'apcupsd 3.14.14 (31 May 2016) debian startup succeeded')];
    const back = await read();
    assert.equal(back.nativeEvents, true);
    assert.deepEqual(back.events, [], 'the first log seen is a baseline, not news');
    assert.equal(infos().length, 2);
    assert.match(infos()[1]?.msg ?? '', /available again/);
  });

  it('an events failure never fails the reading; it is logged at debug and retried next read', async () => {
    const { clock, fake, read, logs } = setup();
    fake.events = new Ups2MqttError('READ_TIMEOUT', 'slow events');
    const first = await read();
    assert.equal(first.data.online, true);
    assert.equal(first.nativeEvents, false, 'not known yet');
    assert.ok(logs.some((l) => l.level === 'debug' && /events request failed/.test(l.msg)));
    fake.take();

    fake.events = [logLine(0, 'apcupsd 3.14.14 (31 May 2016) debian startup succeeded')];
    clock.advance(1000);
    const second = await read();
    assert.deepEqual(fake.take(), ['status', 'events']);
    assert.equal(second.nativeEvents, true);
    assert.deepEqual(second.events, [], 'still the baseline');

    fake.events = new Ups2MqttError('PEER_CLOSED', 'gone');
    clock.advance(30_000);
    assert.equal((await read()).nativeEvents, true, 'last known value kept');
  });

  it('logs status values that were left out at debug, once per change', async () => {
    const { clock, fake, read, logs } = setup();
    fake.status = statusLines({ LINEV: 'abc Volts' });
    await read();
    clock.advance(1000);
    await read();
    const debug = logs.filter((l) => l.level === 'debug' && /left out/.test(l.msg));
    assert.equal(debug.length, 1);
    assert.deepEqual(debug[0]?.warnings, ['NIS LINEV value "abc Volts" does not parse; left out']);
  });
});

describe('NisSource cancellation', () => {
  /** A request that only ends when its signal aborts. */
  function hangingRequest(seen: { count: number }) {
    return (opts: NisRequestOptions): Promise<string[]> =>
      new Promise((_resolve, reject) => {
        seen.count++;
        const fail = () =>
          reject(new Ups2MqttError('ABORTED', 'aborted', { cause: opts.signal?.reason }));
        if (opts.signal?.aborted) fail();
        opts.signal?.addEventListener('abort', fail, { once: true });
      });
  }

  it('close() aborts a read in flight', async () => {
    const seen = { count: 0 };
    const { source } = setup({ request: hangingRequest(seen) });
    const pending = source.read(new AbortController().signal);
    await source.close();
    await assert.rejects(within(pending), (err: unknown) => isUps2MqttError(err, 'ABORTED'));
    assert.equal(seen.count, 1);
  });

  it("the caller's signal aborts a read in flight", async () => {
    const seen = { count: 0 };
    const { source } = setup({ request: hangingRequest(seen) });
    const controller = new AbortController();
    const pending = source.read(controller.signal);
    controller.abort();
    await assert.rejects(within(pending), (err: unknown) => isUps2MqttError(err, 'ABORTED'));
  });

  it('an abort during the events fetch fails the read instead of being swallowed', async () => {
    const controller = new AbortController();
    const fake = new FakeRequest();
    const request = async (opts: NisRequestOptions): Promise<string[]> => {
      const lines = await fake.request(opts);
      if (opts.command === 'events') controller.abort();
      if (opts.signal?.aborted) throw new Ups2MqttError('ABORTED', 'aborted');
      return lines;
    };
    const { source } = setup({ request });
    await assert.rejects(source.read(controller.signal), (err: unknown) =>
      isUps2MqttError(err, 'ABORTED'),
    );
    assert.deepEqual(fake.take(), ['status', 'events']);
  });

  it('a signal passed to many reads (the bridge keeps one) still aborts a later read, and close() too', async () => {
    const controller = new AbortController();
    const fake = new FakeRequest();
    let hang = false;
    const seen = { count: 0 };
    const hanging = hangingRequest(seen);
    const { source } = setup({ request: (opts) => (hang ? hanging(opts) : fake.request(opts)) });
    await source.read(controller.signal);
    await source.read(controller.signal);
    // The same signal object reaches both requests: the link is kept, not rebuilt per read.
    assert.equal(fake.calls[0]?.signal, fake.calls.at(-1)?.signal);
    hang = true;
    const pending = source.read(controller.signal);
    controller.abort();
    await assert.rejects(within(pending), (err: unknown) => isUps2MqttError(err, 'ABORTED'));

    const next = new AbortController();
    hang = false;
    await source.read(next.signal); // a new caller signal replaces the aborted link
    hang = true;
    const inFlight = source.read(next.signal);
    await source.close();
    await assert.rejects(within(inFlight), (err: unknown) => isUps2MqttError(err, 'ABORTED'));
    assert.equal(seen.count, 2);
  });

  it('overlapping reads with different signals are aborted by their own signal only', async () => {
    const seen = { count: 0 };
    const { source } = setup({ request: hangingRequest(seen) });
    const a = new AbortController();
    const b = new AbortController();
    const first = source.read(a.signal);
    const second = source.read(b.signal);
    b.abort();
    await assert.rejects(within(second), (err: unknown) => isUps2MqttError(err, 'ABORTED'));
    let firstSettled = false;
    void first.catch(() => {}).finally(() => (firstSettled = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(firstSettled, false, 'aborting the second read left the first one running');
    a.abort();
    await assert.rejects(within(first), (err: unknown) => isUps2MqttError(err, 'ABORTED'));
    assert.equal(seen.count, 2);
  });

  it('open() after close() re-arms the source', async () => {
    const { source } = setup();
    await source.close();
    await assert.rejects(source.read(new AbortController().signal), (err: unknown) =>
      isUps2MqttError(err, 'ABORTED'),
    );
    await source.open();
    const reading = await source.read(new AbortController().signal);
    assert.equal(reading.data.online, true);
  });
});

describe('createNisSource', () => {
  it('builds a source from a nis:// URI with 3 s default timeouts', async () => {
    const spec = parseSourceUri('nis://192.0.2.7');
    assert.equal(spec.kind, 'nis');
    if (spec.kind !== 'nis') return;
    const fake = new FakeRequest();
    const source = createNisSource(spec, {
      logger: captureLogger().logger,
      clock: new ManualClock(),
      request: fake.request,
    });
    assert.equal(source.description, 'nis://192.0.2.7:3551');
    await source.read(new AbortController().signal);
    assert.equal(fake.calls[0]?.connectTimeoutMs, 3000);
    assert.equal(fake.calls[0]?.readTimeoutMs, 3000);
    assert.equal(fake.calls[0]?.maxFrameBytes, undefined);
  });
});

describe('NisSource over real sockets', () => {
  it('reads a captured status and the event log from a fake server on 127.0.0.1', async () => {
    let eventsLog = [logLine(0, 'apcupsd 3.14.14 (31 May 2016) debian startup succeeded')];
    const server = await startFakeNis((conn, cmd) => {
      const command = cmd.subarray(2).toString('ascii');
      if (command === 'status') {
        conn.socket.write(
          encodeReply(fixtureLines('apcupsd-3.14.14-back-ups-rs-900g-usb-onbatt.txt')),
        );
      } else if (command === 'events') {
        conn.socket.write(encodeReply(eventsLog));
      } else {
        conn.socket.write(Buffer.concat([frame('Invalid command\n\0'), Buffer.from([0, 0])]));
      }
    });
    try {
      const clock = new ManualClock();
      const source = new NisSource({
        host: '127.0.0.1',
        port: server.port,
        connectTimeoutMs: 2000,
        readTimeoutMs: 2000,
        logger: captureLogger().logger,
        clock,
      });
      await source.open();
      const first = await within(source.read(new AbortController().signal));
      assert.equal(first.data.model, 'Back-UPS RS 900G');
      assert.equal(first.data.on_battery, true);
      assert.equal(first.nativeEvents, true);
      assert.deepEqual(first.events, []);

      eventsLog = [...eventsLog, logLine(5, 'Power failure.')];
      clock.advance(30_000);
      const second = await within(source.read(new AbortController().signal));
      assert.deepEqual(
        second.events.map((e) => e.event_type),
        ['power_lost'],
      );
      // This server answers one request per connection (like apcaccess's peer), and the kept
      // status connection of the first read is 30 s old at the second: four connections.
      assert.equal(server.connections.length, 4);
      await within(server.connections[0]?.closed ?? Promise.reject(new Error('no conn')));
      await source.close();
      await Promise.all(server.connections.map((c) => within(c.closed)));
    } finally {
      await server.close();
    }
  });
});
