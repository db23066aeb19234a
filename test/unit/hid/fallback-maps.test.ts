import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import type { UpsData } from '../../../src/core/state.ts';
import { writeField } from '../../../src/sources/hid/bits.ts';
import { resolveSignals } from '../../../src/sources/hid/connect.ts';
import { ValueStore } from '../../../src/sources/hid/decode.ts';
import { hexToBytes } from '../../../src/sources/hid/descriptor/items.ts';
import { parseReportDescriptor } from '../../../src/sources/hid/descriptor/parser.ts';
import {
  FALLBACK_MAPS,
  type FallbackMap,
  fallbackDescriptor,
  fallbackMapFor,
} from '../../../src/sources/hid/fallback-maps.ts';
import { mapSignals } from '../../../src/sources/hid/mapping.ts';
import { ReplayDevice, ReplayEnumerator } from '../../../src/sources/hid/replay.ts';
import { ReportMap } from '../../../src/sources/hid/report-map.ts';
import { HidSource } from '../../../src/sources/hid/source.ts';
import { usageName } from '../../../src/sources/hid/usages.ts';
import {
  captureLogger,
  ES850G2,
  loadCapture,
  RS1000G,
  readRpt,
  SU1500RM,
  signal,
  XS1400U,
} from './helpers.ts';

function byId(id: string): FallbackMap {
  const m = FALLBACK_MAPS.find((x) => x.id === id);
  assert.ok(m);
  return m;
}

/** apcupsd's hiddev dump: report → fields (Usage 0 of each) with logical values. */
function parseRpt(text: string): Map<string, { name: string; value: number }[]> {
  const out = new Map<string, { name: string; value: number }[]>();
  let current: { name: string; value: number }[] | undefined;
  for (const line of text.split('\n')) {
    const report = /^(Feature|Input)Report (\d+)/.exec(line);
    if (report) {
      current = [];
      out.set(`${report[1]?.toLowerCase()}:${report[2]}`, current);
      continue;
    }
    const usage = /^\s+Usage 0, (.+?) = (-?\d+)/.exec(line);
    if (usage && current) current.push({ name: usage[1] ?? '', value: Number(usage[2]) });
  }
  return out;
}

// apcupsd and NUT name some usages differently; old apcupsd prints APC usages it has no name
// for as `APC860061_??????` (usage FF86:0061).
const ALIASES: Record<string, string> = { ManufactureDate: 'ManufacturerDate' };
function nutName(name: string): string {
  const apc = /^APC86([0-9a-f]{4})_/i.exec(name);
  if (apc) return usageName(0xff860000 + Number.parseInt(apc[1] ?? '', 16));
  return ALIASES[name] ?? name;
}

describe('built-in maps agree with real descriptors', () => {
  const families: [string, string[]][] = [
    ['apc-back-ups', [ES850G2, XS1400U, RS1000G]],
    ['apc-smart-ups-0002', [SU1500RM]],
  ];
  for (const [id, fixtures] of families) {
    for (const fixture of fixtures) {
      it(`${id}: every row is a field of ${fixture}`, () => {
        const real = parseReportDescriptor(hexToBytes(loadCapture(fixture).descriptorHex));
        for (const f of fallbackDescriptor(byId(id)).fields) {
          const match = real.fields.find(
            (x) => x.kind === f.kind && x.reportId === f.reportId && x.bitOffset === f.bitOffset,
          );
          assert.ok(match, `${f.path} ${f.kind} 0x${f.reportId.toString(16)}`);
          assert.deepEqual(
            [match.path, match.bitSize, match.unit, match.unitExponent, match.signed],
            [f.path, f.bitSize, f.unit, f.unitExponent, f.signed],
            f.path,
          );
        }
      });
    }
  }

  it('is chosen by product string on PID 0002 only', () => {
    const pick = (productId: number, product: string) =>
      fallbackMapFor({ vendorId: 0x051d, productId, product })?.id;
    assert.equal(pick(2, 'Back-UPS RS 1500G FW:865.L6 .D USB FW:L6'), 'apc-back-ups');
    assert.equal(pick(2, 'Smart-UPS 1500 FW:601.3.D USB FW:1.5'), 'apc-smart-ups-0002');
    assert.equal(pick(3, 'Smart-UPS 1500'), undefined);
    assert.equal(
      fallbackMapFor({ vendorId: 0x0764, productId: 0x0501, product: 'CP1500' }),
      undefined,
    );
  });
});

/** Builds the rpt's Feature reports through a map and maps them, as a poll would. */
function readRptThrough(
  map: FallbackMap,
  rpt: Map<string, { name: string; value: number }[]>,
): UpsData {
  const report = new ReportMap(fallbackDescriptor(map));
  const store = new ValueStore();
  const ids = new Set(report.descriptor.fields.map((f) => f.reportId));
  for (const id of ids) {
    const fields = rpt.get(`feature:${id}`);
    if (!fields) continue;
    const mine = report
      .fieldsOf('feature', id)
      .slice()
      .sort((a, b) => a.bitOffset - b.bitOffset);
    let bytes: Uint8Array = new Uint8Array(8);
    bytes[0] = id;
    mine.forEach((f, i) => {
      const v = fields[i];
      assert.ok(v, `report ${id} field ${i}`);
      assert.equal(nutName(v.name), f.path.split('.').pop(), `report ${id} field ${i}`);
      bytes = writeField(f, bytes, v.value);
    });
    store.apply(report, 'feature', bytes);
  }
  const paths = resolveSignals(report);
  return mapSignals((n) => {
    for (const p of paths[n]) {
      const v = store.get(p);
      if (v !== undefined) return v;
    }
    return undefined;
  });
}

describe('apcupsd report dumps through the built-in maps', () => {
  it('Back-UPS ES 550: numbering and values fit the Back-UPS map', () => {
    const data = readRptThrough(byId('apc-back-ups'), parseRpt(readRpt('Back-UPS-ES-550.rpt')));
    assert.deepEqual(
      {
        online: data.online,
        charge: data.battery_charge_pct,
        runtime: data.runtime_s,
        battery: data.battery_voltage_v,
        batteryNominal: data.battery_voltage_nominal_v,
        input: data.input_voltage_v,
        inputNominal: data.input_voltage_nominal_v,
        low: data.transfer_low_v,
        high: data.transfer_high_v,
        sensitivity: data.sensitivity,
        load: data.load_pct,
        beeper: data.alarm_mode,
        lastTransfer: data.last_transfer_reason,
        batteryDate: data.battery_date,
        warning: data.low_battery_warning_s,
      },
      {
        online: true,
        charge: 100,
        runtime: 1755,
        battery: 13.53,
        batteryNominal: 12,
        input: 230,
        inputNominal: 230,
        low: 190,
        high: 260,
        sensitivity: 'medium',
        load: 14,
        beeper: 'disabled',
        lastTransfer: 'No transfers since turnon',
        batteryDate: '2006-11-28',
        warning: 120,
      },
    );
  });

  it('Smart-UPS 1500 (FW 601.3.D): numbering and values fit the Smart-UPS map', () => {
    const data = readRptThrough(
      byId('apc-smart-ups-0002'),
      parseRpt(readRpt('Smart-UPS-1500.rpt')),
    );
    assert.deepEqual(
      {
        online: data.online,
        charging: data.charging,
        charge: data.battery_charge_pct,
        runtime: data.runtime_s,
        battery: data.battery_voltage_v,
        input: data.input_voltage_v,
        output: data.output_voltage_v,
        outputNominal: data.output_voltage_nominal_v,
        frequency: data.output_frequency_hz,
        load: data.load_pct,
        temp: data.internal_temp_c,
        low: data.transfer_low_v,
        high: data.transfer_high_v,
        wake: data.wake_delay_s,
        grace: data.shutdown_delay_s,
        restart: data.restart_charge_pct,
        sensitivity: data.sensitivity,
        lastTransfer: data.last_transfer_reason,
        test: data.self_test_result,
        batteryDate: data.battery_date,
      },
      {
        online: true,
        charging: true,
        charge: 76,
        runtime: 240,
        battery: 27.4,
        input: 123.8,
        output: 123.8,
        outputNominal: 120,
        frequency: 60,
        load: 44.2,
        temp: 30.05,
        low: 106,
        high: 127,
        wake: 60,
        grace: 180,
        restart: 15,
        sensitivity: 'high',
        lastTransfer: 'Line voltage notch or spike',
        test: 'none',
        batteryDate: '2004-03-25',
      },
    );
  });

  it('a UPS without a readable descriptor is served through its built-in map', async () => {
    const capture = loadCapture(ES850G2);
    const device = new ReplayDevice(capture, 'replay:no-descriptor', { record: true });
    const { descriptor: _d, ...info } = device.info;
    const inner = new ReplayEnumerator(device);
    const { logger, lines } = captureLogger();
    const source = new HidSource({
      description: 'hid://auto',
      selector: {},
      enumerator: { list: async () => [info], open: (i) => inner.open(i) },
      logger,
      clock: new ManualClock(),
      minGapMs: 0,
    });
    const { data } = await source.read(signal());
    assert.equal(lines.find((l) => l.msg === 'HID UPS opened')?.layout, 'apc-back-ups');
    assert.deepEqual(
      [data.online, data.battery_charge_pct, data.runtime_s, data.input_voltage_v],
      [true, 100, 868, 228],
    );
    assert.ok(
      device.readLengths.every((n) => n === 65),
      'full buffers: real reports may be longer',
    );
    assert.deepEqual(source.capabilities().commands, [
      'shutdown.return',
      'shutdown.stop',
      'beeper.enable',
      'beeper.disable',
      'beeper.mute',
    ]);
  });
});
