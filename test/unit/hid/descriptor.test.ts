import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUps2MqttError } from '../../../src/core/errors.ts';
import {
  bytesToHex,
  hexToBytes,
  tokenizeDescriptor,
} from '../../../src/sources/hid/descriptor/items.ts';
import { parseReportDescriptor, reportKey } from '../../../src/sources/hid/descriptor/parser.ts';
import { CAPTURES, loadCapture } from './helpers.ts';

describe('report descriptors of every capture', () => {
  for (const name of CAPTURES) {
    it(`${name}: parses end to end, balanced, with a UPS application collection`, () => {
      const c = loadCapture(name);
      const bytes = hexToBytes(c.descriptorHex);
      assert.equal(bytes.length, c.descriptorLength);
      const d = parseReportDescriptor(bytes);
      assert.equal(d.byteLength, c.descriptorLength);
      assert.deepEqual(d.applications, [0x00840004]);
      assert.ok(d.usesReportIds);
      assert.ok(d.fields.length > 40, `${d.fields.length} fields`);
    });

    it(`${name}: every decodedPaths entry is a field at that report, offset and size`, () => {
      const c = loadCapture(name);
      const d = parseReportDescriptor(hexToBytes(c.descriptorHex));
      for (const p of c.decodedPaths ?? []) {
        const kind = p.type === 'Input' ? 'input' : 'feature';
        const id = Number.parseInt(p.reportId, 16);
        const f = d.fields.find(
          (x) =>
            x.kind === kind &&
            x.reportId === id &&
            x.bitOffset === p.offset &&
            x.bitSize === p.size,
        );
        assert.ok(f, `${p.path} ${p.type} ${p.reportId}@${p.offset}`);
        assert.equal(f.path, p.path);
        if (p.unit !== undefined) assert.equal(f.unit, Number.parseInt(p.unit, 16), p.path);
        assert.equal(f.unitExponent, p.unitExponent ?? 0, p.path);
      }
    });
  }

  it('report lengths follow the declared bits (ES 850G2: 0x0c is 3 data bytes, 0x16 is 4)', () => {
    const d = parseReportDescriptor(
      hexToBytes(loadCapture('apc-051d-0002-back-ups-es-850g2.json').descriptorHex),
    );
    assert.equal(d.reportBytes.get(reportKey('feature', 0x0c)), 3);
    assert.equal(d.reportBytes.get(reportKey('input', 0x0c)), 3);
    assert.equal(d.reportBytes.get(reportKey('feature', 0x16)), 4);
    assert.equal(d.reportBytes.get(reportKey('feature', 0x41)), 2);
  });

  it('CyberPower timers keep their physical range and negative logical minimum', () => {
    const d = parseReportDescriptor(
      hexToBytes(loadCapture('cps-0764-0501-cp1500pfclcd.json').descriptorHex),
    );
    const f = d.fields.find((x) => x.path === 'UPS.Output.DelayBeforeShutdown');
    assert.ok(f);
    assert.deepEqual(
      [f.logicalMin, f.logicalMax, f.physicalMin, f.physicalMax, f.signed],
      [-1, 32767, -60, 1966020, true],
    );
    // Reset by the next item (`35 00 45 00`): Boost has no physical range.
    const boost = d.fields.find((x) => x.path === 'UPS.Output.Boost');
    assert.deepEqual([boost?.physicalMin, boost?.physicalMax], [0, 0]);
  });
});

describe('descriptor items', () => {
  it('frames short items with 0, 1, 2 and 4 data bytes, signed and unsigned', () => {
    const items = tokenizeDescriptor(hexToBytes('c0 15 ff 26 ff 00 17 01 00 00 80'));
    assert.deepEqual(
      items.map((i) => [i.type, i.tag, i.size, i.unsigned, i.signed]),
      [
        ['main', 0xc, 0, 0, 0],
        ['global', 0x1, 1, 255, -1],
        ['global', 0x2, 2, 255, 255],
        ['global', 0x1, 4, 0x80000001, -2147483647],
      ],
    );
  });

  it('skips a long item whole', () => {
    const items = tokenizeDescriptor(hexToBytes('fe 02 10 aa bb 05 84'));
    assert.equal(items.length, 2);
    assert.equal(items[0]?.long, true);
    assert.deepEqual([items[1]?.type, items[1]?.unsigned], ['global', 0x84]);
  });

  const bad: [string, string][] = [
    ['an item cut short', '05 84 09 04 a1 01 26 ff'],
    ['a long item cut short', 'fe 05 10 aa'],
    ['an End Collection without Collection', '05 84 c0'],
    ['a collection never closed', '05 84 09 04 a1 01 09 24 a1 00 c0'],
    ['a Pop without Push', '05 84 b4'],
  ];
  for (const [why, hex] of bad) {
    it(`rejects ${why} with PROTOCOL_ERROR`, () => {
      assert.throws(
        () => parseReportDescriptor(hexToBytes(hex)),
        (err) => isUps2MqttError(err, 'PROTOCOL_ERROR'),
      );
    });
  }

  it('rejects bad hex text', () => {
    assert.throws(
      () => hexToBytes('0c 6'),
      (err) => isUps2MqttError(err, 'PROTOCOL_ERROR'),
    );
    assert.equal(bytesToHex(hexToBytes('0x0C,64:DB 06')), '0c 64 db 06');
  });
});

describe('descriptor state', () => {
  // UPS { PowerSummary { Push, Voltage (volt, exp 0x0e = -2), Pop, Voltage } }, a 4-byte usage
  // with its own page, and a Logical Maximum read unsigned after a non-negative minimum.
  const hex = [
    '05 84 09 04 a1 01 09 24 a1 00 85 01 75 10 95 01 15 00 27 ff ff 00 00',
    'a4 67 21 d1 f0 00 55 0e 09 30 b1 02 b4',
    '09 30 b1 02',
    '75 08 25 ff 0b 60 00 86 ff b1 02',
    'c0 c0',
  ].join(' ');
  const d = parseReportDescriptor(hexToBytes(hex));

  it('Push/Pop restore unit and exponent; the nibble 0x0e is -2', () => {
    const [first, second] = d.fields;
    assert.equal(first?.path, 'UPS.PowerSummary.Voltage');
    assert.deepEqual([first?.unit, first?.unitExponent], [0x00f0d121, -2]);
    assert.deepEqual([second?.unit, second?.unitExponent, second?.bitOffset], [0, 0, 16]);
  });

  it('a 4-byte usage carries its own page; 25 ff after 15 00 is 255, unsigned', () => {
    const third = d.fields[2];
    assert.equal(third?.path, 'UPS.PowerSummary.APCStatusFlag');
    assert.deepEqual([third?.logicalMin, third?.logicalMax, third?.signed], [0, 255, false]);
    assert.equal(d.reportBytes.get(reportKey('feature', 1)), 5);
  });
});
