import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../../src/core/clock.ts';
import { isUps2MqttError } from '../../../src/core/errors.ts';
import { createHidReplaySource, replayPath } from '../../../src/sources/hid/create.ts';
import { createSource } from '../../../src/sources/index.ts';
import { parseSourceUri } from '../../../src/sources/uri.ts';
import {
  captureLogger,
  ES850G2,
  FIXTURE_DIR,
  replaySource,
  SU1500RM,
  SU3000,
  signal,
} from './helpers.ts';

describe('interrupt input reports', () => {
  it('a status change wakes the bridge at once; other values do not', async () => {
    const { source, device } = replaySource(ES850G2);
    await source.open();
    await source.read(signal());
    let wakes = 0;
    source.onWake(() => wakes++);
    device.emitInput('0c 63 64 03'); // charge 99 %: no status change
    assert.equal(wakes, 0);
    device.emitInput('16 0a 00 00 00'); // Discharging + BatteryPresent, ACPresent gone
    assert.equal(wakes, 1);
    device.emitInput('16 0a 00 00 00');
    assert.equal(wakes, 1, 'the same status again is no news');
    device.setFeature('16 0a 00 00 00');
    const { data } = await source.read(signal());
    assert.deepEqual([data.online, data.on_battery, data.discharging], [false, true, true]);
  });

  it('is not used on APC 5G units (051d:0003, NUT disables the interrupt pipe)', async () => {
    const { source, device, lines } = replaySource(SU3000);
    await source.open();
    let wakes = 0;
    source.onWake(() => wakes++);
    device.emitInput('07 0a 00');
    assert.equal(wakes, 0);
    assert.equal(lines.find((l) => l.msg === 'HID UPS opened')?.interrupt, false);
  });
});

describe('polling', () => {
  it('reports the UPS does not serve are skipped after one warning', async () => {
    const { source, device, lines } = replaySource(SU1500RM);
    await source.read(signal());
    const warned = lines.filter((l) => l.msg.startsWith('the UPS does not serve'));
    assert.deepEqual(
      warned.map((l) => l.reports),
      [['0x1d', '0x20', '0x2b']],
    );
    const before = device.reads.length;
    await source.read(signal());
    const again = device.reads.slice(before);
    for (const id of [0x1d, 0x20, 0x2b]) assert.ok(!again.includes(id));
  });

  it('static values are read at open and every staticRefreshMs, volatile ones every read', async () => {
    const { source, device, clock } = replaySource(ES850G2, { staticRefreshMs: 60_000 });
    await source.read(signal());
    const first = device.reads.length;
    await source.read(signal());
    const second = device.reads.length - first;
    assert.ok(second < first, `${second} < ${first}`);
    assert.ok(!device.reads.slice(first).includes(0x30), 'Input.ConfigVoltage is static');
    clock.advance(60_000);
    const mark = device.reads.length;
    await source.read(signal());
    assert.ok(device.reads.slice(mark).includes(0x30));
  });
});

describe('factories', () => {
  it('hid-replay:// is relative to the working directory unless absolute', () => {
    assert.equal(
      replayPath({ kind: 'hid-replay', path: 'ups.json' }, '/home/me'),
      '/home/me/ups.json',
    );
    assert.equal(
      replayPath({ kind: 'hid-replay', path: '/abs/ups.json' }, '/home/me'),
      '/abs/ups.json',
    );
  });

  it('createSource serves hid-replay:// through the registry', async () => {
    const path = fileURLToPath(new URL(ES850G2, FIXTURE_DIR));
    const { logger } = captureLogger();
    const source = await createSource(parseSourceUri(`hid-replay://${path}`), {
      logger,
      clock: new ManualClock(),
      nis: { timeoutMs: 1000, eventsIntervalMs: 30_000 },
    });
    await source.open();
    const reading = await source.read(signal());
    assert.equal(reading.data.model, 'Back-UPS ES 850G2');
    assert.equal(reading.nativeEvents, false);
    assert.equal(reading.unknown?.['UPS.PowerSummary.PresentStatus.VoltageNotRegulated'], '0');
    await source.close();
  });

  it('a missing capture file is CONFIG_INVALID', async () => {
    const source = createHidReplaySource(
      { kind: 'hid-replay', path: 'no-such-file.json' },
      { logger: captureLogger().logger, clock: new ManualClock(), cwd: '/nonexistent' },
    );
    await assert.rejects(source.open(), (err) => isUps2MqttError(err, 'CONFIG_INVALID'));
  });
});
