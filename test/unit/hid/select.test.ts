import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchDevices, selectorText } from '../../../src/sources/hid/select.ts';
import type { HidDeviceInfo } from '../../../src/sources/hid/transport.ts';
import { parseSourceUri } from '../../../src/sources/uri.ts';

const dev = (
  path: string,
  vendorId: number,
  productId: number,
  extra: Partial<HidDeviceInfo> = {},
): HidDeviceInfo => ({
  path,
  vendorId,
  productId,
  ...extra,
});

const DEVICES: HidDeviceInfo[] = [
  dev('/dev/hidraw0', 0x046d, 0xc52b, { usagePage: 0x01 }),
  dev('/dev/hidraw1', 0x0764, 0x0501, { usagePage: 0x84, serialNumber: 'CPS1' }),
  dev('/dev/hidraw2', 0x051d, 0x0002, { usagePage: 0x84, serialNumber: '3B1234X  ' }),
  dev('/dev/hidraw3', 0x051d, 0x0002, { usagePage: 0x84, serialNumber: '4B5678Y' }),
  dev('IOService:/x', 0x0463, 0xffff), // macOS without usage page: known vendor
  dev('/dev/hidraw5', 0x1234, 0x5678, { usagePage: 0x85 }), // unknown vendor, Battery System page
];

function pick(uri: string): string[] {
  const spec = parseSourceUri(uri);
  assert.equal(spec.kind, 'hid');
  const { kind: _k, ...sel } = spec as Extract<typeof spec, { kind: 'hid' }>;
  return matchDevices(DEVICES, sel).map((d) => d.path);
}

describe('device selection', () => {
  const rows: [string, string[]][] = [
    [
      'hid://auto',
      ['/dev/hidraw2', '/dev/hidraw3', '/dev/hidraw1', 'IOService:/x', '/dev/hidraw5'],
    ],
    ['hid://0764:0501', ['/dev/hidraw1']],
    ['hid://051d:0002/4b5678y', ['/dev/hidraw3']],
    ['hid://051d:0002/3B1234X', ['/dev/hidraw2']],
    ['hid://051d:0002/NOPE', []],
    // An explicit VID:PID is honoured even when the device does not look like a UPS.
    ['hid://046d:c52b', ['/dev/hidraw0']],
  ];
  for (const [uri, paths] of rows) it(uri, () => assert.deepEqual(pick(uri), paths));

  it('prints selectors as URIs', () => {
    assert.equal(selectorText({}), 'hid://auto');
    assert.equal(
      selectorText({ vendorId: 0x51d, productId: 2, serial: 'A B' }),
      'hid://051d:0002/A%20B',
    );
  });
});
