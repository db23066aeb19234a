import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { isUps2MqttError } from '../../../src/core/errors.ts';
import { nodeHidError } from '../../../src/sources/hid/node-hid.ts';
import { ReplayDevice, ReplayEnumerator } from '../../../src/sources/hid/replay.ts';
import { HidSource } from '../../../src/sources/hid/source.ts';
import {
  type HidDeviceInfo,
  type HidEnumerator,
  type HidTransport,
  HidTransportError,
} from '../../../src/sources/hid/transport.ts';
import { settle } from '../../helpers/settle.ts';
import { captureLogger, ES850G2, loadCapture, replaySource, signal } from './helpers.ts';

/** Lets pending promise callbacks run (the session's queue, the transport's answers). */
describe('unplug and replug', () => {
  it('goes offline with a coded error, says so once, and comes back by itself', async () => {
    const { source, device, lines } = replaySource(ES850G2);
    await source.open();
    await source.read(signal());
    let wakes = 0;
    source.onWake(() => wakes++);
    device.unplug();
    await settle();
    assert.equal(wakes, 1, 'the loss wakes the bridge so it publishes offline now');
    const lost = lines.filter((l) => l.msg.startsWith('HID UPS lost'));
    assert.equal(lost.length, 1);
    assert.equal(lost[0]?.level, 'warn');
    assert.equal(lost[0]?.code, 'PEER_CLOSED');
    await assert.rejects(source.read(signal()), (err) => isUps2MqttError(err, 'CONNECT_FAILED'));
    await assert.rejects(source.read(signal()), (err) => isUps2MqttError(err, 'CONNECT_FAILED'));
    const missing = lines.filter((l) => l.msg === 'HID UPS not available');
    assert.deepEqual(
      missing.map((l) => l.level),
      ['warn', 'debug'],
      'warn once, then debug',
    );
    assert.ok(source.capabilities().commands.length > 0, 'commands stay advertised while offline');
    device.replug();
    const { data } = await source.read(signal());
    assert.equal(data.online, true);
    assert.equal(lines.filter((l) => l.msg === 'HID UPS is back').length, 1);
  });

  it('a device that stops answering mid-read rejects with PEER_CLOSED and is re-opened', async () => {
    const capture = loadCapture(ES850G2);
    const device = new ReplayDevice(capture, 'replay:es');
    let failing = false;
    const inner = new ReplayEnumerator(device);
    let opens = 0;
    const enumerator: HidEnumerator = {
      list: () => inner.list(),
      async open(info: HidDeviceInfo): Promise<HidTransport> {
        opens++;
        const t = await inner.open(info);
        return {
          ...t,
          getFeatureReport: (id, len) =>
            failing
              ? Promise.reject(new HidTransportError('io', 'EPIPE'))
              : t.getFeatureReport(id, len),
          sendFeatureReport: (b) => t.sendFeatureReport(b),
          onInputReport: (l) => t.onInputReport(l),
          onError: (l) => t.onError(l),
          close: () => t.close(),
        };
      },
    };
    const { logger } = captureLogger();
    const source = new HidSource({
      description: 'hid://051d:0002',
      selector: { vendorId: 0x051d, productId: 0x0002 },
      enumerator,
      logger,
      clock: new ManualClock(),
      minGapMs: 0,
    });
    await source.read(signal());
    failing = true;
    await assert.rejects(source.read(signal()), (err) => isUps2MqttError(err, 'PEER_CLOSED'));
    failing = false;
    const { data } = await source.read(signal());
    assert.equal(data.battery_charge_pct, 100);
    assert.equal(opens, 2);
  });
});

describe('time limits and failures', () => {
  it('a transfer that hangs rejects with READ_TIMEOUT after timeoutMs, then recovers', async () => {
    const device = new ReplayDevice(loadCapture(ES850G2), 'replay:es');
    const inner = new ReplayEnumerator(device);
    let hang = true;
    const enumerator: HidEnumerator = {
      list: () => inner.list(),
      async open(info) {
        const t = await inner.open(info);
        const getFeatureReport = (id: number, len: number) =>
          hang ? new Promise<Uint8Array>(() => undefined) : t.getFeatureReport(id, len);
        return Object.assign(Object.create(t) as HidTransport, { getFeatureReport });
      },
    };
    const clock = new ManualClock();
    const { logger, lines } = captureLogger();
    const source = new HidSource({
      description: 'hid://auto',
      selector: {},
      enumerator,
      logger,
      clock,
      minGapMs: 0,
      timeoutMs: 1500,
    });
    const pending = source.read(signal());
    await settle();
    clock.advance(1499);
    await settle();
    clock.advance(1);
    await assert.rejects(pending, (err) => isUps2MqttError(err, 'READ_TIMEOUT'));
    assert.ok(lines.some((l) => l.msg.startsWith('HID UPS lost') && l.code === 'READ_TIMEOUT'));
    hang = false;
    assert.equal((await source.read(signal())).data.online, true);
  });

  it('a device that opens but stalls again is one warning, and "back" only once it answers', async () => {
    const device = new ReplayDevice(loadCapture(ES850G2), 'replay:es');
    const inner = new ReplayEnumerator(device);
    let hang = false;
    const enumerator: HidEnumerator = {
      list: () => inner.list(),
      async open(info) {
        const t = await inner.open(info);
        const getFeatureReport = (id: number, len: number) =>
          hang ? new Promise<Uint8Array>(() => undefined) : t.getFeatureReport(id, len);
        return Object.assign(Object.create(t) as HidTransport, { getFeatureReport });
      },
    };
    const clock = new ManualClock();
    const { logger, lines } = captureLogger();
    const source = new HidSource({
      description: 'hid://auto',
      selector: {},
      enumerator,
      logger,
      clock,
      minGapMs: 0,
      timeoutMs: 1000,
    });
    await source.read(signal());
    hang = true;
    for (let i = 0; i < 3; i++) {
      const pending = source.read(signal());
      await settle();
      clock.advance(1000);
      await assert.rejects(pending, (err) => isUps2MqttError(err, 'READ_TIMEOUT'));
    }
    const said = (msg: string) => lines.filter((l) => l.msg === msg).map((l) => l.level);
    // Re-opened twice (the device still enumerates), timed out three times: one warning.
    assert.deepEqual(said('HID UPS lost; it is looked for again on the next read'), [
      'warn',
      'debug',
      'debug',
    ]);
    assert.deepEqual(said('HID UPS opened again; waiting for its first answer'), [
      'debug',
      'debug',
    ]);
    assert.deepEqual(said('HID UPS is back'), []);
    hang = false;
    assert.equal((await source.read(signal())).data.online, true);
    assert.deepEqual(said('HID UPS is back'), ['info']);
    assert.deepEqual(said('HID UPS opened'), ['info'], 'the first open only');
  });

  it('a device held by another program: CONNECT_FAILED naming apcupsd/NUT', async () => {
    const device = new ReplayDevice(loadCapture(ES850G2), 'replay:es');
    const enumerator: HidEnumerator = {
      list: async () => [device.info],
      open: async (info) => {
        throw nodeHidError(
          Object.assign(new Error('Resource busy'), { code: 'EBUSY' }),
          `opening ${info.path}`,
          info.path,
        );
      },
    };
    const { logger, lines } = captureLogger();
    const source = new HidSource({
      description: 'hid://auto',
      selector: {},
      enumerator,
      logger,
      clock: new ManualClock(),
    });
    await assert.rejects(source.open(), (err) => {
      assert.ok(isUps2MqttError(err, 'CONNECT_FAILED'));
      assert.equal(err.context.reason, 'busy');
      assert.match(err.message, /apcupsd or NUT/);
      return true;
    });
    assert.equal(lines.find((l) => l.msg === 'HID UPS not available')?.reason, 'busy');
  });

  it('nothing found: the message lists what was seen and why a UPS may be missing', async () => {
    const enumerator: HidEnumerator = {
      list: async () => [
        {
          path: '/dev/hidraw0',
          vendorId: 0x046d,
          productId: 0xc52b,
          usagePage: 1,
          product: 'USB Receiver',
        },
      ],
      open: async () => {
        throw new Error('not reached');
      },
    };
    const source = new HidSource({
      description: 'hid://auto',
      selector: {},
      enumerator,
      logger: captureLogger().logger,
      clock: new ManualClock(),
      explainMissing: async () => ['051d:0002 is on USB but has no hidraw node (claimed by NUT)'],
    });
    await assert.rejects(source.read(signal()), (err) => {
      assert.ok(isUps2MqttError(err, 'CONNECT_FAILED'));
      assert.match(err.message, /046d:c52b "USB Receiver" at \/dev\/hidraw0; 051d:0002 is on USB/);
      return true;
    });
  });

  it('close() during a connect discards the device opened meanwhile', async () => {
    const device = new ReplayDevice(loadCapture(ES850G2), 'replay:es');
    const inner = new ReplayEnumerator(device);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let closed = 0;
    const enumerator: HidEnumerator = {
      list: async () => {
        await gate;
        return inner.list();
      },
      async open(info) {
        const t = await inner.open(info);
        return Object.assign(Object.create(t) as HidTransport, {
          close: () => {
            closed++;
            return t.close();
          },
        });
      },
    };
    const source = new HidSource({
      description: 'hid://auto',
      selector: {},
      enumerator,
      logger: captureLogger().logger,
      clock: new ManualClock(),
    });
    const reading = source.read(signal());
    await source.close();
    release();
    await assert.rejects(reading, (err) => isUps2MqttError(err, 'ABORTED'));
    assert.equal(closed, 1);
  });

  it('an aborted read rejects with ABORTED and keeps the connection', async () => {
    const { source, lines } = replaySource(ES850G2);
    await source.open();
    const ctl = new AbortController();
    ctl.abort();
    await assert.rejects(source.read(ctl.signal), (err) => isUps2MqttError(err, 'ABORTED'));
    assert.equal(lines.filter((l) => l.msg.startsWith('HID UPS lost')).length, 0);
    await source.read(signal());
  });
});
