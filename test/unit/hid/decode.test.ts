import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readBits, toSigned, writeBits } from '../../../src/sources/hid/bits.ts';
import { decodeReport, ValueStore } from '../../../src/sources/hid/decode.ts';
import { hexToBytes } from '../../../src/sources/hid/descriptor/items.ts';
import {
  type HidField,
  parseReportDescriptor,
} from '../../../src/sources/hid/descriptor/parser.ts';
import { ReportMap } from '../../../src/sources/hid/report-map.ts';
import { toLogical, toPhysical, unitBias } from '../../../src/sources/hid/units.ts';
import { CAPTURES, CP1500, closeToG, loadCapture, XS1400U } from './helpers.ts';

function mapOf(name: string): ReportMap {
  return new ReportMap(parseReportDescriptor(hexToBytes(loadCapture(name).descriptorHex)));
}

describe('decoded values equal the captures’ own decodedPaths', () => {
  for (const name of CAPTURES) {
    const c = loadCapture(name);
    const entries = [
      ...(c.decodedPaths ?? []),
      ...((c as { laterReads?: typeof c.decodedPaths }).laterReads ?? []),
    ];
    if (entries.length === 0) continue;
    it(`${name}: ${entries.length} values (raw exact, physical within NUT's %g rounding)`, () => {
      const map = mapOf(name);
      for (const p of entries) {
        const kind = p.type === 'Input' ? 'input' : 'feature';
        const v = decodeReport(map, kind, hexToBytes(p.reportBytes)).find(
          (x) => x.field.path === p.path && x.field.bitOffset === p.offset,
        );
        assert.ok(v, p.path);
        assert.equal(v.raw, p.rawValue, `${p.path} raw`);
        assert.ok(closeToG(v.value, p.value), `${p.path}: ${v.value} vs ${p.value}`);
      }
    });
  }
});

describe('decoding rules', () => {
  it('Back-UPS XS 1400U: 230 V reads as 230 although Input.Voltage declares 75…140 (NUT #1189)', () => {
    const map = mapOf(XS1400U);
    const [v] = decodeReport(map, 'feature', hexToBytes('31 e6 00'));
    assert.equal(v?.field.path, 'UPS.Input.Voltage');
    assert.deepEqual([v?.field.logicalMin, v?.field.logicalMax], [75, 140]);
    assert.equal(v?.value, 230);
  });

  it('CyberPower minute timers: raw -1 → -60 s, raw 2 → 120 s (physical range)', () => {
    const map = mapOf(CP1500);
    assert.equal(decodeReport(map, 'feature', hexToBytes('15 ff ff'))[0]?.value, -60);
    assert.equal(decodeReport(map, 'feature', hexToBytes('15 02 00'))[0]?.value, 120);
  });

  it('a report shorter than declared keeps the fields that arrived (Back-UPS CS)', () => {
    const map = mapOf(XS1400U);
    const values = decodeReport(map, 'input', hexToBytes('0c 5a'));
    assert.deepEqual(
      values.map((v) => [v.field.path, v.value]),
      [['UPS.PowerSummary.RemainingCapacity', 90]],
    );
  });

  it('the value store reports only changed paths', () => {
    const map = mapOf(XS1400U);
    const store = new ValueStore();
    assert.equal(store.apply(map, 'input', hexToBytes('0c 64 b8 05')).length, 2);
    assert.deepEqual(store.apply(map, 'input', hexToBytes('0c 63 b8 05')), [
      'UPS.PowerSummary.RemainingCapacity',
    ]);
    assert.deepEqual(store.apply(map, 'input', hexToBytes('0c 63 b8 05')), []);
  });
});

describe('bits and units', () => {
  it('reads and writes unaligned little-endian fields', () => {
    const data = new Uint8Array([0x00, 0x00, 0x00]);
    writeBits(data, 0, 3, 10, 0x3ff);
    assert.deepEqual([...data], [0xf8, 0x1f, 0x00]);
    assert.equal(readBits(data, 0, 3, 10), 0x3ff);
    writeBits(data, 0, 4, 1, 0);
    assert.equal(readBits(data, 0, 3, 10), 0x3fd);
    assert.equal(toSigned(0xffffffff, 32), -1);
    assert.equal(readBits(hexToBytes('0d bc 04 00 00'), 1, 0, 32), 1212);
  });

  const field = (unit: number, unitExponent: number, extra: Partial<HidField> = {}): HidField => ({
    kind: 'feature',
    reportId: 1,
    bitOffset: 0,
    bitSize: 16,
    usage: 0,
    path: 'x',
    collections: [],
    logicalMin: 0,
    logicalMax: 65535,
    physicalMin: 0,
    physicalMax: 0,
    unit,
    unitExponent,
    signed: false,
    constant: false,
    variable: true,
    ...extra,
  });

  // docs/protocols/hid.md#units-and-exponents, with the real examples it quotes.
  const cases: [string, HidField, number, number][] = [
    ['battery ConfigVoltage 1200 cV', field(0x00f0d121, 5), 1200, 12],
    ['Smart-UPS input 1238 dV', field(0x00f0d121, 6), 1238, 123.8],
    ['Back-UPS input 230 V', field(0x00f0d121, 7), 230, 230],
    ['frequency 6000 × 10^-2 Hz', field(0x0000f001, -2), 6000, 60],
    ['temperature 3032 × 10^-1 K', field(0x00010001, -1), 3032, 303.2],
    ['load 442 × 10^-1 %', field(0, -1), 442, 44.2],
    ['current 50 × 10^-2 A (NUT: bias 0)', field(0x00100001, -2), 50, 0.5],
    ['nominal power 520 W', field(0x0000d121, 7), 520, 520],
  ];
  for (const [name, f, raw, expected] of cases) {
    it(`scales ${name}`, () => {
      assert.equal(toPhysical(f, raw), expected);
      assert.equal(toLogical(f, expected, 'nearest'), raw);
    });
  }

  it('volt and watt carry the CGS bias of 7, nothing else does', () => {
    assert.deepEqual(
      [0x00f0d121, 0x0000d121, 0x00100001, 0x00001001, 0].map(unitBias),
      [7, 7, 0, 0, 0],
    );
  });

  it('rounds a delay up to the timer resolution, never down', () => {
    const cps = field(0x00001001, 0, {
      logicalMin: -1,
      logicalMax: 32767,
      physicalMin: -60,
      physicalMax: 1966020,
      signed: true,
    });
    assert.equal(toLogical(cps, 20, 'up'), 1);
    assert.equal(toLogical(cps, 60, 'up'), 1);
    assert.equal(toLogical(cps, 61, 'up'), 2);
  });
});
