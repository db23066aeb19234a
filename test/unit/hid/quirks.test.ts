import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { HID_QUIRKS, quirkEffects, quirksFor } from '../../../src/sources/hid/quirks.ts';
import { ReplayDevice, ReplayEnumerator } from '../../../src/sources/hid/replay.ts';
import { HidSource } from '../../../src/sources/hid/source.ts';
import { captureLogger, ES850G2, loadCapture, signal, XS1400U } from './helpers.ts';

describe('quirk table', () => {
  // One row per quirk (and the devices it must leave alone), named for the quirk.
  const rows: [string, number, number, string, string[]][] = [
    [
      'plain Back-UPS',
      0x051d,
      0x0002,
      'Back-UPS ES 550 FW:828.D2.I USB FW:D2',
      ['apc-status-after-shutdown'],
    ],
    [
      'Back-UPS ES 525 overflows report 0x0c',
      0x051d,
      0x0002,
      'Back-UPS ES 525 FW:x',
      ['apc-back-ups-report-overflow', 'apc-status-after-shutdown'],
    ],
    [
      'Back-UPS CS 650 overflows report 0x46',
      0x051d,
      0x0002,
      'Back-UPS CS 650 FW:817.v4.I USB FW:v4',
      ['apc-back-ups-report-overflow', 'apc-status-after-shutdown'],
    ],
    [
      '5G Smart-UPS (0003) polls only',
      0x051d,
      0x0003,
      'Smart-UPS C 1500 FW:UPS 10.0 / ID=1005',
      ['apc-5g-no-interrupt', 'apc-status-after-shutdown'],
    ],
    [
      'newer Smart-UPS firmware (0004) polls only',
      0x051d,
      0x0004,
      'Smart-UPS 1000',
      ['apc-5g-no-interrupt', 'apc-status-after-shutdown'],
    ],
    [
      'old Back-UPS Pro reports runtime in minutes',
      0x051d,
      0x0002,
      'BackUPS Pro 500 FW:16.3.D USB FW:4',
      ['apc-old-back-ups-pro-runtime-minutes', 'apc-status-after-shutdown'],
    ],
    ['CyberPower: none', 0x0764, 0x0501, 'CP1500PFCLCD', []],
    ['Eaton: none', 0x0463, 0xffff, '5E', []],
  ];
  for (const [name, vendorId, productId, product, ids] of rows) {
    it(name, () => {
      assert.deepEqual(
        quirksFor({ vendorId, productId, product }).map((q) => q.id),
        ids,
      );
    });
  }

  it('every quirk cites a public source and changes something', () => {
    for (const q of HID_QUIRKS) {
      assert.match(q.source, /nut|apcupsd/i, q.id);
      assert.ok(Object.keys(q.effects).length > 0, q.id);
    }
    assert.equal(new Set(HID_QUIRKS.map((q) => q.id)).size, HID_QUIRKS.length);
  });

  it('effects combine', () => {
    assert.deepEqual(
      quirkEffects(quirksFor({ vendorId: 0x051d, productId: 0x0003, product: '' })),
      {
        noInterrupt: true,
        statusAfterShutdown: true,
      },
    );
  });
});

function sourceWithProduct(fixture: string, usbProduct: string) {
  const capture = { ...loadCapture(fixture), usbProduct };
  const device = new ReplayDevice(capture, 'replay:quirk', { record: true });
  const source = new HidSource({
    description: 'hid://auto',
    selector: {},
    enumerator: new ReplayEnumerator(device),
    logger: captureLogger().logger,
    clock: new ManualClock(),
    minGapMs: 0,
  });
  return { source, device };
}

describe('quirk effects on a replayed UPS', () => {
  it('report overflow: every GET asks for a full 65-byte buffer', async () => {
    const { source, device } = sourceWithProduct(XS1400U, 'Back-UPS CS 650 FW:817.v4.I USB FW:v4');
    await source.read(signal());
    assert.ok(device.readLengths.length > 5);
    assert.ok(device.readLengths.every((n) => n === 65));
  });

  it('without it, each GET asks for the declared length (0x0c: ID + 3 bytes)', async () => {
    const { source, device } = sourceWithProduct(
      XS1400U,
      'Back-UPS XS 1400U FW:926.T1 .I USB FW:T1',
    );
    await source.read(signal());
    const i = device.reads.indexOf(0x0c);
    assert.equal(device.readLengths[i], 4);
  });

  it('runtime in minutes becomes seconds', async () => {
    const { source } = sourceWithProduct(ES850G2, 'BackUPS Pro 500 FW:16.3.D USB FW:4');
    const { data } = await source.read(signal());
    assert.equal(data.runtime_s, 868 * 60);
  });
});
