import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../../../src/cli/args.ts';
import {
  dumpOptions,
  probe,
  renderProbe,
  runHidDump,
  runProbe,
} from '../../../src/cli/hid-commands.ts';
import {
  ReplayDevice,
  ReplayEnumerator,
  ReplayFileEnumerator,
} from '../../../src/sources/hid/replay.ts';
import type { HidEnumerator } from '../../../src/sources/hid/transport.ts';
import { CP1500, FIXTURE_DIR, loadCapture, SU3000 } from './helpers.ts';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

describe('command line', () => {
  it('routes probe and hid dump', () => {
    assert.equal(parseArgs(['probe', '--json']).command, 'probe');
    const dump = parseArgs(['hid', 'dump', '--source', 'hid://051d:0002', '--wait', '2']);
    assert.equal(dump.command, 'hid-dump');
    assert.deepEqual(dump.unknown, []);
    assert.deepEqual(dumpOptions(dump.rest), {
      source: 'hid://051d:0002',
      waitMs: 2000,
      maxInputs: 10,
    });
    assert.deepEqual(dumpOptions(['--source=hid://auto']), {
      source: 'hid://auto',
      waitMs: 5000,
      maxInputs: 10,
    });
  });
});

describe('ups2mqtt probe', () => {
  const enumerator = (): HidEnumerator => {
    const ups = new ReplayDevice(loadCapture(CP1500), '/dev/hidraw1');
    const five = new ReplayDevice(loadCapture(SU3000), '/dev/hidraw2');
    return {
      list: async () => [
        { path: '/dev/hidraw0', vendorId: 0x046d, productId: 0xc52b, usagePage: 1 },
        { ...ups.info, serialNumber: 'CTHGT2000123' },
        five.info,
      ],
      open: () => Promise.reject(new Error('probe never opens')),
    };
  };

  it('lists UPSes with their URI, layout, values and commands; a serial-port failure is reported, not fatal', async () => {
    const result = await probe({
      enumerator: enumerator(),
      listSerialPorts: () => Promise.reject(new Error('spawn udevadm ENOENT')),
      explainMissing: async () => ['051d:0002 is on USB but has no hidraw node'],
    });
    assert.deepEqual(
      result.hid.map((d) => [d.uri, d.vendor, d.layout, d.commands.length, d.quirks]),
      [
        [
          'hid://051d:0003',
          'APC',
          'descriptor (452 bytes, 253 fields)',
          4,
          ['apc-5g-no-interrupt', 'apc-status-after-shutdown'],
        ],
        ['hid://0764:0501/CTHGT2000123', 'CyberPower', 'descriptor (439 bytes, 53 fields)', 8, []],
      ],
    );
    assert.ok(result.hid[1]?.signals.includes('inputVoltage'));
    assert.equal(result.otherHidDevices, 1);
    assert.equal(result.serialError, 'spawn udevadm ENOENT');
    const text = renderProbe(result);
    assert.match(
      text,
      /hid:\/\/0764:0501\/CTHGT2000123 {2}CyberPower "CP1500PFCLCD" at \/dev\/hidraw1/,
    );
    assert.match(text, /cannot list serial ports: spawn udevadm ENOENT/);
    assert.match(text, /note: 051d:0002 is on USB/);
  });

  it('--json prints the same findings; serial ports become apcsmart:// URIs', async () => {
    const { out, io: cli } = io();
    const code = await runProbe(
      true,
      {
        enumerator: { list: async () => [], open: () => Promise.reject(new Error('no')) },
        listSerialPorts: async () => [
          { path: '/dev/ttyUSB0', manufacturer: 'FTDI', vendorId: '0403', productId: '6001' },
        ],
      },
      cli,
    );
    assert.equal(code, 0);
    const json = JSON.parse(out.join(''));
    assert.deepEqual(json.hid, []);
    assert.deepEqual(json.serialPorts[0], {
      path: '/dev/ttyUSB0',
      manufacturer: 'FTDI',
      vendorId: '0403',
      productId: '6001',
      uri: 'apcsmart:///dev/ttyUSB0',
    });
  });

  it('an enumeration error (no libusb) is printed, exit 0', async () => {
    const { out, io: cli } = io();
    const code = await runProbe(
      false,
      {
        enumerator: {
          list: () => Promise.reject(new Error('libusb missing')),
          open: () => Promise.reject(new Error('no')),
        },
        listSerialPorts: async () => [],
      },
      cli,
    );
    assert.equal(code, 0);
    assert.match(out.join(''), /cannot list HID devices: libusb missing/);
  });
});

describe('ups2mqtt hid dump', () => {
  const path = fileURLToPath(new URL(CP1500, FIXTURE_DIR));

  it('writes a capture of the selected UPS to stdout', async () => {
    const { out, err, io: cli } = io();
    const code = await runHidDump(
      { source: `hid-replay://${path}`, waitMs: 0, maxInputs: 0 },
      () => new ReplayFileEnumerator(path),
      cli,
    );
    assert.equal(code, 0, err.join(''));
    const capture = JSON.parse(out.join(''));
    assert.deepEqual(capture.featureReports, loadCapture(CP1500).featureReports);
    assert.match(err.join(''), /captured 24 Feature and 0 Input reports/);
  });

  it('refuses sources that are not HID (78) and reports a missing UPS (1)', async () => {
    const a = io();
    assert.equal(
      await runHidDump(
        { source: 'nis://localhost', waitMs: 0, maxInputs: 0 },
        () => new ReplayFileEnumerator(path),
        a.io,
      ),
      78,
    );
    const b = io();
    const empty = new ReplayEnumerator(new ReplayDevice(loadCapture(CP1500), 'x'));
    empty.device.unplug();
    assert.equal(
      await runHidDump({ source: 'hid://auto', waitMs: 0, maxInputs: 0 }, () => empty, b.io),
      1,
    );
    assert.match(b.err.join(''), /no HID UPS matches hid:\/\/auto/);
  });
});
