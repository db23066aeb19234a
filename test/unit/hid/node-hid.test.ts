import * as assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { isUps2MqttError } from '../../../src/core/errors.ts';
import {
  classifyNodeHidFailure,
  NodeHidEnumerator,
  type NodeHidHandle,
  type NodeHidModule,
} from '../../../src/sources/hid/node-hid.ts';
import { createSystemEnumerator } from '../../../src/sources/hid/system.ts';
import { HidTransportError } from '../../../src/sources/hid/transport.ts';

describe('node-hid on this machine (no UPS; libusb may be absent)', () => {
  it('enumeration returns a list or a coded SOURCE_UNSUPPORTED, never crashes', async () => {
    const enumerator = new NodeHidEnumerator();
    try {
      const list = await enumerator.list();
      assert.ok(Array.isArray(list));
      for (const d of list) assert.equal(typeof d.path, 'string');
    } catch (err) {
      assert.ok(isUps2MqttError(err, 'SOURCE_UNSUPPORTED'), String(err));
      assert.equal(err.context.reason, 'native_unavailable');
      assert.match(err.message, /libusb/);
    }
  });

  it('the Linux system enumerator lists through sysfs without loading node-hid', async () => {
    let loaded = false;
    const enumerator = createSystemEnumerator({
      platform: 'linux',
      loadNodeHid: async () => {
        loaded = true;
        throw new Error('must not load');
      },
    });
    assert.ok(Array.isArray(await enumerator.list()));
    assert.equal(loaded, false);
  });
});

/** A node-hid stand-in that records calls and emits events like HIDAsync. */
class FakeHandle implements NodeHidHandle {
  readonly events = new EventEmitter();
  readonly sent: number[][] = [];
  readonly asked: [number, number][] = [];
  closed = false;
  async getFeatureReport(id: number, length: number): Promise<Buffer> {
    this.asked.push([id, length]);
    if (id === 0x99) throw new Error('could not get feature report');
    return Buffer.from([id, 0x64, 0xdb, 0x06]);
  }
  async sendFeatureReport(data: number[] | Buffer): Promise<number> {
    this.sent.push([...data]);
    return data.length;
  }
  onData(l: (b: Buffer) => void): () => void {
    this.events.on('data', l);
    return () => this.events.off('data', l);
  }
  onError(l: (e: unknown) => void): () => void {
    this.events.on('error', l);
    return () => this.events.off('error', l);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function fakeModule(handle: FakeHandle, openError?: Error): NodeHidModule {
  return {
    devicesAsync: async () => [
      {
        vendorId: 0x051d,
        productId: 2,
        path: '/dev/hidraw3',
        serialNumber: '3B1234X ',
        manufacturer: 'American Power Conversion',
        product: 'Back-UPS RS 1500G FW:865.L6 .D USB FW:L6',
        usagePage: 0x84,
        usage: 4,
        interface: 0,
      },
      { vendorId: 0x046d, productId: 0xc52b, path: '', interface: 2 },
    ],
    HIDAsync: {
      open: async () => {
        if (openError) throw openError;
        return handle;
      },
    },
  };
}

describe('node-hid adapter', () => {
  it('maps device records and skips ones without a path', async () => {
    const list = await new NodeHidEnumerator(async () => fakeModule(new FakeHandle())).list();
    assert.deepEqual(list, [
      {
        path: '/dev/hidraw3',
        vendorId: 0x051d,
        productId: 2,
        serialNumber: '3B1234X ',
        manufacturer: 'American Power Conversion',
        product: 'Back-UPS RS 1500G FW:865.L6 .D USB FW:L6',
        usagePage: 0x84,
        usage: 4,
        interfaceNumber: 0,
      },
    ]);
  });

  it('passes reports with the ID byte first and turns events into listeners', async () => {
    const handle = new FakeHandle();
    const enumerator = new NodeHidEnumerator(async () => fakeModule(handle));
    const [device] = await enumerator.list();
    assert.ok(device);
    const t = await enumerator.open(device);
    assert.deepEqual([...(await t.getFeatureReport(0x0c, 4))], [0x0c, 0x64, 0xdb, 0x06]);
    assert.deepEqual(handle.asked, [[0x0c, 4]]);
    assert.equal(await t.sendFeatureReport(Uint8Array.of(0x18, 0x01)), 2);
    assert.deepEqual(handle.sent, [[0x18, 0x01]]);
    const inputs: number[][] = [];
    const errors: Error[] = [];
    const stop = t.onInputReport((r) => inputs.push([...r]));
    t.onError((e) => errors.push(e));
    handle.events.emit('data', Buffer.from([0x16, 0x0a, 0, 0, 0]));
    handle.events.emit('error', new Error('could not read from HID device'));
    stop();
    handle.events.emit('data', Buffer.from([0x16, 0x0c, 0, 0, 0]));
    assert.deepEqual(inputs, [[0x16, 0x0a, 0, 0, 0]]);
    assert.ok(errors[0] instanceof HidTransportError && errors[0].failure === 'gone');
    await assert.rejects(
      t.getFeatureReport(0x99, 2),
      (e) => e instanceof HidTransportError && e.failure === 'io',
    );
    await t.close();
    assert.equal(handle.closed, true);
  });

  it('a loader that fails becomes SOURCE_UNSUPPORTED with an install hint', async () => {
    const dlopen = Object.assign(new Error('libusb-1.0.so.0: cannot open shared object file'), {
      code: 'ERR_DLOPEN_FAILED',
    });
    const enumerator = new NodeHidEnumerator(async () => {
      throw dlopen;
    });
    await assert.rejects(enumerator.list(), (err) => {
      assert.ok(isUps2MqttError(err, 'SOURCE_UNSUPPORTED'));
      assert.match(err.message, /apt install libusb-1\.0-0/);
      return true;
    });
  });

  it('an open failure is CONNECT_FAILED with the reason', async () => {
    const handle = new FakeHandle();
    const denied = Object.assign(new Error('open failed'), { code: 'EACCES' });
    const enumerator = new NodeHidEnumerator(async () => fakeModule(handle, denied));
    const [device] = await enumerator.list();
    assert.ok(device);
    await assert.rejects(enumerator.open(device), (err) => {
      assert.ok(isUps2MqttError(err, 'CONNECT_FAILED'));
      assert.deepEqual(err.context, { reason: 'permission', path: '/dev/hidraw3' });
      assert.match(err.message, /udev rule/);
      return true;
    });
  });

  const failures: [string, unknown, string][] = [
    ['dlopen', Object.assign(new Error('x'), { code: 'ERR_DLOPEN_FAILED' }), 'native_unavailable'],
    [
      'no prebuild',
      new Error('No native build was found for platform=linux'),
      'native_unavailable',
    ],
    ['EBUSY', Object.assign(new Error('x'), { code: 'EBUSY' }), 'busy'],
    ['libusb busy', new Error('LIBUSB_ERROR_BUSY'), 'busy'],
    ['EACCES', Object.assign(new Error('x'), { code: 'EACCES' }), 'permission'],
    ['ENODEV', Object.assign(new Error('x'), { code: 'ENODEV' }), 'not_found'],
    ['hidapi text', new Error('cannot open device with path /dev/hidraw0'), 'open_failed'],
  ];
  for (const [name, err, reason] of failures) {
    it(`classifies ${name} as ${reason}`, () => assert.equal(classifyNodeHidFailure(err), reason));
  }
});
