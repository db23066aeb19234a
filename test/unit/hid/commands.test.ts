import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { isUps2MqttError } from '../../../src/core/errors.ts';
import type { CommandArgs } from '../../../src/core/source.ts';
import { bytesToHex, hexToBytes } from '../../../src/sources/hid/descriptor/items.ts';
import { parseReportDescriptor } from '../../../src/sources/hid/descriptor/parser.ts';
import { ReplayDevice, ReplayTransport } from '../../../src/sources/hid/replay.ts';
import { ReportMap } from '../../../src/sources/hid/report-map.ts';
import { HidSession } from '../../../src/sources/hid/session.ts';
import {
  CP1500,
  ES850G2,
  loadCapture,
  RS1000G,
  replaySource,
  SU1500RM,
  SU3000,
  SUX750,
  signal,
} from './helpers.ts';

const ALL = [
  'test.battery.start.quick',
  'test.battery.start.deep',
  'test.battery.stop',
  'shutdown.return',
  'shutdown.stop',
  'beeper.enable',
  'beeper.disable',
  'beeper.mute',
];

describe('advertised commands follow the descriptor', () => {
  const rows: [string, string[]][] = [
    [ES850G2, ALL],
    [RS1000G, ALL],
    [SU1500RM, ALL],
    [CP1500, ALL],
    // 5G units: no Test usage, no startup timer (shutdown.return needs one), beeper writable.
    [SU3000, ['shutdown.stop', 'beeper.enable', 'beeper.disable', 'beeper.mute']],
    [SUX750, ['shutdown.stop', 'beeper.enable', 'beeper.disable', 'beeper.mute']],
  ];
  for (const [name, commands] of rows) {
    it(name, async () => {
      const { source } = replaySource(name);
      assert.deepEqual(source.capabilities().commands, [], 'nothing before the descriptor is read');
      await source.open();
      assert.deepEqual(source.capabilities().commands, commands);
    });
  }
});

/**
 * Model × command → the exact Feature-report bytes written, in order (docs/protocols/hid.md#commands).
 * `seed` fills reports a descriptor-only capture lacks, so the read-modify-write has a base.
 */
const BYTES: [string, string, CommandArgs, string[], string[]?][] = [
  [ES850G2, 'test.battery.start.quick', {}, ['21 01']],
  [ES850G2, 'test.battery.start.deep', {}, ['21 02']],
  [ES850G2, 'test.battery.stop', {}, ['21 03']],
  [ES850G2, 'beeper.disable', {}, ['18 01']],
  [ES850G2, 'beeper.enable', {}, ['18 02']],
  [ES850G2, 'beeper.mute', {}, ['18 03']],
  // Back-UPS hibernate: APCDelayBeforeShutdown, 16-bit seconds (ES 550: `41 3c 00`).
  [ES850G2, 'shutdown.return', { delay_s: 60 }, ['41 3c 00']],
  [ES850G2, 'shutdown.return', {}, ['41 14 00']],
  [ES850G2, 'shutdown.stop', {}, ['41 ff ff']],
  [RS1000G, 'test.battery.start.quick', {}, ['21 01'], ['21 06']],
  [RS1000G, 'shutdown.return', { delay_s: 300 }, ['41 2c 01'], ['41 ff ff', '06 00 00 08']],
  [RS1000G, 'beeper.mute', {}, ['18 03'], ['18 02']],
  [SU1500RM, 'test.battery.start.quick', {}, ['16 01']],
  [SU1500RM, 'test.battery.start.deep', {}, ['16 02']],
  [SU1500RM, 'test.battery.stop', {}, ['16 03']],
  [SU1500RM, 'beeper.disable', {}, ['14 01']],
  [SU1500RM, 'beeper.mute', {}, ['14 03']],
  // Smart-UPS: DelayBeforeStartup = N + 4 first, then DelayBeforeShutdown = N (SU1500 docs/protocols/hid.md#commands).
  [SU1500RM, 'shutdown.return', { delay_s: 60 }, ['28 40 00', '27 3c 00']],
  [SU1500RM, 'shutdown.stop', {}, ['27 ff ff']],
  [CP1500, 'test.battery.start.quick', {}, ['14 01']],
  [CP1500, 'beeper.disable', {}, ['0c 01']],
  [CP1500, 'beeper.enable', {}, ['0c 02']],
  // Minute timers: 60 s → 1, the 64 s startup rounds up to 2 (never shorter than asked).
  [CP1500, 'shutdown.return', { delay_s: 60 }, ['16 02 00', '15 01 00']],
  [CP1500, 'shutdown.return', { delay_s: 20 }, ['16 02 00', '15 01 00']],
  [CP1500, 'shutdown.stop', {}, ['15 ff ff']],
  // Same report ID, different widths: the descriptor decides (32-bit on SMT, 16-bit on SMX).
  [SU3000, 'shutdown.stop', {}, ['12 ff ff ff ff'], ['12 3c 00 00 00']],
  [SUX750, 'shutdown.stop', {}, ['12 ff ff'], ['12 3c 00']],
  [SUX750, 'beeper.disable', {}, ['14 01'], ['14 02']],
];

describe('command bytes', () => {
  for (const [name, command, args, bytes, seed] of BYTES) {
    it(`${name} ${command} ${JSON.stringify(args)} → ${bytes.join(' | ')}`, async () => {
      const { source, device } = replaySource(name);
      for (const s of seed ?? []) device.setFeature(s);
      await source.open();
      const outcome = await source.command(command, args);
      assert.deepEqual(
        device.writes.map((w) => bytesToHex(w)),
        bytes,
      );
      assert.ok(outcome.message && outcome.message.length > 0);
    });
  }

  it('reads the result back and says what the UPS reports', async () => {
    const { source, device } = replaySource(ES850G2);
    await source.open();
    const before = device.reads.length;
    const outcome = await source.command('beeper.disable', {});
    assert.match(outcome.message ?? '', /AudibleAlarmControl = 1.*beeper reads disabled/);
    // GET 0x18 (modify), SET, GET 0x18 (read back).
    assert.deepEqual(device.reads.slice(before), [0x18, 0x18]);
  });

  it('after a shutdown command the APC status flag is read once more (RS1000G quirk)', async () => {
    const { source, device } = replaySource(ES850G2);
    await source.open();
    const before = device.reads.length;
    await source.command('shutdown.return', { delay_s: 60 });
    assert.deepEqual(device.reads.slice(before), [0x41, 0x41, 0x06]);
  });

  it('a deep test marks the UPS calibrating while Test reads 5, until a result', async () => {
    const { source, device } = replaySource(SU1500RM);
    await source.open();
    await source.command('test.battery.start.deep', {});
    device.setFeature('16 05');
    let { data } = await source.read(signal());
    assert.deepEqual(
      [data.calibrating, data.test_in_progress, data.self_test_result],
      [true, true, 'in_progress'],
    );
    device.setFeature('16 01');
    ({ data } = await source.read(signal()));
    assert.deepEqual(
      [data.calibrating, data.test_in_progress, data.self_test_result],
      [false, false, 'passed'],
    );
  });

  it('refuses what the descriptor cannot do with SOURCE_UNSUPPORTED, writing nothing', async () => {
    const { source, device } = replaySource(SU3000);
    await source.open();
    for (const name of ['test.battery.start.quick', 'shutdown.return', 'load.off', 'nonsense']) {
      await assert.rejects(source.command(name, {}), (err) =>
        isUps2MqttError(err, 'SOURCE_UNSUPPORTED'),
      );
    }
    assert.equal(device.writes.length, 0);
  });

  it('a delay that does not fit the field is refused', async () => {
    const { source } = replaySource(SU1500RM);
    await source.open();
    await assert.rejects(source.command('shutdown.return', { delay_s: 40000 }), (err) =>
      isUps2MqttError(err, 'SOURCE_UNSUPPORTED'),
    );
  });

  it('a report the UPS does not serve fails the command, not the connection', async () => {
    const { source, device } = replaySource(SUX750);
    await source.open();
    await assert.rejects(source.command('beeper.mute', {}), (err) =>
      isUps2MqttError(err, 'PROTOCOL_ERROR'),
    );
    device.setFeature('14 02');
    await source.command('beeper.mute', {});
    assert.deepEqual(
      device.writes.map((w) => bytesToHex(w)),
      ['14 03'],
    );
  });
});

describe('read-modify-write', () => {
  it('patches one field of a multi-field report and keeps the others (CyberPower 0x10)', async () => {
    const capture = loadCapture(CP1500);
    const device = new ReplayDevice(capture, 'replay:cps', { record: true });
    const map = new ReportMap(parseReportDescriptor(hexToBytes(capture.descriptorHex)));
    const session = new HidSession(new ReplayTransport(device), map, {
      clock: new ManualClock(),
      timeoutMs: 1000,
      minGapMs: 0,
      bufferLength: 0,
      exactLengths: true,
      device: 'cps',
    });
    const low = map.field('UPS.Input.LowVoltageTransfer', 'feature');
    assert.ok(low);
    const sent = await session.writeField(low, 90);
    assert.equal(bytesToHex(sent), '10 5a 00 8b 00');
    assert.deepEqual(
      device.writes.map((w) => bytesToHex(w)),
      ['10 5a 00 8b 00'],
    );
  });

  it('pads a short answer and cuts a long one to the declared length', async () => {
    const capture = loadCapture(ES850G2);
    const device = new ReplayDevice(capture, 'replay:es');
    const map = new ReportMap(parseReportDescriptor(hexToBytes(capture.descriptorHex)));
    const session = new HidSession(new ReplayTransport(device), map, {
      clock: new ManualClock(),
      timeoutMs: 1000,
      minGapMs: 0,
      bufferLength: 0,
      exactLengths: true,
      device: 'es',
    });
    const field = map.field('UPS.APCGeneralCollection.APCDelayBeforeShutdown', 'feature');
    assert.ok(field);
    device.setFeature('41 ff');
    assert.equal(bytesToHex(await session.writeField(field, 60)), '41 3c 00');
    device.setFeature('41 ff ff 99 99');
    assert.equal(bytesToHex(await session.writeField(field, -1)), '41 ff ff');
  });
});
