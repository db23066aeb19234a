import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { isUps2MqttError } from '../../../src/core/errors.ts';
import { captureProduct, parseCapture } from '../../../src/sources/hid/capture.ts';
import {
  capturePlan,
  isDescriptorOnly,
  renderCapturePlan,
} from '../../../src/sources/hid/capture-plan.ts';
import { hexToBytes } from '../../../src/sources/hid/descriptor/items.ts';
import { dumpDevice } from '../../../src/sources/hid/dump.ts';
import {
  ReplayDevice,
  ReplayEnumerator,
  ReplayTransport,
} from '../../../src/sources/hid/replay.ts';
import { HidSource } from '../../../src/sources/hid/source.ts';
import { settle } from '../../helpers/settle.ts';
import { CAPTURES, captureLogger, closeToG, ES850G2, loadCapture, signal } from './helpers.ts';

describe('capture files', () => {
  for (const name of CAPTURES) {
    it(`${name} is a valid capture`, () => {
      const c = loadCapture(name);
      assert.match(c.vendorId, /^[0-9a-f]{4}$/);
      assert.equal(hexToBytes(c.descriptorHex).length, c.descriptorLength);
    });
  }

  const base = JSON.parse(JSON.stringify(loadCapture(ES850G2))) as Record<string, unknown>;
  const broken: [string, Record<string, unknown>][] = [
    ['no descriptor', { ...base, descriptorHex: undefined }],
    ['a length that does not match', { ...base, descriptorLength: 12 }],
    ['a bad vendor id', { ...base, vendorId: '51d' }],
    ['a report under the wrong ID', { ...base, featureReports: { '0x0c': '0d 64' } }],
    ['input reports that are not hex', { ...base, inputReports: [42] }],
  ];
  for (const [why, json] of broken) {
    it(`rejects ${why} with CONFIG_INVALID`, () => {
      assert.throws(
        () => parseCapture(json, 'x.json'),
        (err) => isUps2MqttError(err, 'CONFIG_INVALID'),
      );
    });
  }

  it('accepts inputReports entries as objects with reportBytes (other tools) or bytes (ours)', () => {
    const c = parseCapture(
      {
        ...base,
        inputReports: [
          { reportBytes: '0c 64 63 03', time: '2026-11-21T08:00:00Z' },
          { bytes: '16 0a 00 00 00' },
          '0c 63 62 03',
        ],
      },
      'x.json',
    );
    assert.deepEqual(c.inputReports, ['0c 64 63 03', '16 0a 00 00 00', '0c 63 62 03']);
    assert.throws(
      () => parseCapture({ ...base, inputReports: [{ reportBytes: 7 }] }, 'x.json'),
      (err) => isUps2MqttError(err, 'CONFIG_INVALID') && /reportBytes/.test(err.message),
    );
  });

  it('accepts a descriptor-only capture and plans what would be read from it', () => {
    const { featureReports: _f, inputReports: _i, decodedPaths: _d, ...descOnly } = base;
    const c = parseCapture(descOnly, 'x.json');
    assert.equal(isDescriptorOnly(c), true);
    assert.equal(isDescriptorOnly(loadCapture(ES850G2)), false);
    const plan = capturePlan(c);
    assert.deepEqual(plan.identity, {
      model: 'Back-UPS ES 850G2',
      firmware: '938.a2 .I USB FW:a2',
      manufacturer: 'APC',
    });
    const bySignal = Object.fromEntries(plan.reads.map((r) => [r.signal, `${r.report} ${r.path}`]));
    // Polls read Feature reports: a path declared as Feature and Input shows its Feature one.
    assert.equal(bySignal.inputVoltage, 'feature 0x31 UPS.Input.Voltage');
    assert.equal(bySignal.load, 'feature 0x50 UPS.PowerConverter.PercentLoad');
    assert.match(plan.note, /descriptor but no report values/);
    assert.match(renderCapturePlan(plan), /^note: .*\n[\s\S]*would read:\n {2}acPresent/);
  });

  it('rebuilds the USB product string from model and firmware', () => {
    assert.equal(captureProduct(loadCapture(ES850G2)), 'Back-UPS ES 850G2 FW:938.a2 .I USB FW:a2');
    assert.equal(captureProduct({ ...loadCapture(ES850G2), usbProduct: 'X FW:1' }), 'X FW:1');
  });
});

describe('hid dump', () => {
  it('captures every Feature report, a few Input reports, and decodes them like NUT', async () => {
    const original = loadCapture(ES850G2);
    const device = new ReplayDevice(original, 'replay:es');
    const clock = new ManualClock(Date.parse('2026-11-21T08:00:00Z'));
    const dumping = dumpDevice(
      device.info,
      hexToBytes(original.descriptorHex),
      new ReplayTransport(device),
      {
        clock,
        inputWaitMs: 5000,
        maxInputs: 2,
        timeoutMs: 1000,
        minGapMs: 0,
        tool: 'ups2mqtt test hid dump',
      },
    );
    await settle();
    device.emitInput('0c 64 63 03');
    device.emitInput('16 0a 00 00 00');
    const capture = await dumping;
    assert.deepEqual(capture.featureReports, original.featureReports);
    assert.deepEqual(capture.inputReports, ['0c 64 63 03', '16 0a 00 00 00']);
    assert.equal(capture.capturedAt, '2026-11-21T08:00:00.000Z');
    assert.match(capture.notes?.join('\n') ?? '', /GET feature 0x02 failed/);
    // NUT logs Input items from GET_REPORT too; the dump decodes Input items from input reports.
    for (const p of (original.decodedPaths ?? []).filter((x) => x.type === 'Feature')) {
      const mine = capture.decodedPaths?.find(
        (x) =>
          x.path === p.path &&
          x.type === p.type &&
          x.offset === p.offset &&
          x.reportBytes === p.reportBytes,
      );
      assert.ok(mine, p.path);
      assert.equal(mine.rawValue, p.rawValue);
      assert.ok(closeToG(mine.value, p.value));
    }
    // The dump replays like the original.
    const again = parseCapture(JSON.parse(JSON.stringify(capture)), 'dump.json');
    const replay = new ReplayDevice(again, 'replay:dump');
    const source = new HidSource({
      description: 'hid-replay://dump.json',
      selector: {},
      enumerator: new ReplayEnumerator(replay),
      logger: captureLogger().logger,
      clock,
      minGapMs: 0,
    });
    const { data } = await source.read(signal());
    assert.deepEqual(
      [data.model, data.battery_charge_pct, data.input_voltage_v],
      ['Back-UPS ES 850G2', 100, 228],
    );
  });

  it('stops listening for input reports after inputWaitMs', async () => {
    const original = loadCapture(ES850G2);
    const device = new ReplayDevice(original, 'replay:es');
    const clock = new ManualClock();
    const dumping = dumpDevice(
      device.info,
      hexToBytes(original.descriptorHex),
      new ReplayTransport(device),
      {
        clock,
        inputWaitMs: 3000,
        maxInputs: 10,
        timeoutMs: 1000,
        minGapMs: 0,
        tool: 't',
      },
    );
    await settle();
    clock.advance(3000);
    assert.deepEqual((await dumping).inputReports, []);
  });
});
