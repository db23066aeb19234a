import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  parseNisNumber,
  parseNisTimestamp,
  parseStatusLines,
  trimNis,
} from '../../../src/sources/nis/parse.ts';

describe('parseStatusLines', () => {
  const rows: { quirk: string; line: string; key: string; value: string }[] = [
    { quirk: 'padded key', line: 'LINEV    : 232.0 Volts', key: 'LINEV', value: '232.0 Volts' },
    {
      quirk: 'value with colons, two trailing blanks',
      line: 'DATE     : 2024-03-02 14:05:11 +0100  ',
      key: 'DATE',
      value: '2024-03-02 14:05:11 +0100',
    },
    {
      quirk: 'nine-letter key without a blank before the colon',
      line: 'STARTTIME: 2022-11-13 11:40:22 +0100  ',
      key: 'STARTTIME',
      value: '2022-11-13 11:40:22 +0100',
    },
    {
      quirk: 'key with a space',
      line: 'END APC  : 2024-03-02 14:05:19 +0100',
      key: 'END APC',
      value: '2024-03-02 14:05:19 +0100',
    },
    {
      quirk: 'status word with trailing blank',
      line: 'STATUS   : ONLINE ',
      key: 'STATUS',
      value: 'ONLINE',
    },
    {
      quirk: 'serial with trailing blanks',
      line: 'SERIALNO : 4B1948P07984  ',
      key: 'SERIALNO',
      value: '4B1948P07984',
    },
    {
      quirk: 'USB string with NUL padding',
      line: 'MODEL    : Back-UPS ES 700G\0\0',
      key: 'MODEL',
      value: 'Back-UPS ES 700G',
    },
    { quirk: 'empty value (SHARE)', line: 'SHARE    : ', key: 'SHARE', value: '' },
    {
      quirk: 'lower-case key from a fork',
      line: 'loadpct : 5.0 Percent',
      key: 'LOADPCT',
      value: '5.0 Percent',
    },
    {
      quirk: 'carriage return',
      line: 'BCHARGE  : 100.0 Percent\r',
      key: 'BCHARGE',
      value: '100.0 Percent',
    },
  ];
  for (const { quirk, line, key, value } of rows) {
    it(`splits at the first colon: ${quirk}`, () => {
      assert.deepEqual(parseStatusLines([line]), [{ key, value }]);
    });
  }

  it('keeps record order and skips blank and colon-less lines with warnings', () => {
    const warnings: string[] = [];
    const records = parseStatusLines(
      ['APC      : 001,002,0040', '', 'garbage without colon', ': no key', 'STATUS   : ONLINE '],
      warnings,
    );
    assert.deepEqual(records, [
      { key: 'APC', value: '001,002,0040' },
      { key: 'STATUS', value: 'ONLINE' },
    ]);
    assert.equal(warnings.length, 3);
    assert.match(warnings[0] ?? '', /line 2 is blank/);
    assert.match(warnings[1] ?? '', /line 3 .*garbage without colon/);
    assert.match(warnings[2] ?? '', /line 4 /);
  });

  it('works without a warnings sink', () => {
    assert.deepEqual(parseStatusLines(['', 'x']), []);
  });
});

describe('trimNis', () => {
  it('trims blanks and NULs at both ends, in any mix, and keeps inner ones', () => {
    assert.equal(trimNis('  Back-UPS XS 1400U '), 'Back-UPS XS 1400U');
    assert.equal(trimNis('3B1234X56789\0\0'), '3B1234X56789');
    assert.equal(trimNis(' \0 APC \0\t\0 '), 'APC');
    assert.equal(trimNis('a \0 b'), 'a \0 b');
    assert.equal(trimNis('\0\0'), '');
    assert.equal(trimNis('\r\n\u00a0x\u2028'), 'x');
  });
});

describe('parseNisNumber', () => {
  const rows: [string, number | undefined][] = [
    ['232.0 Volts', 232],
    ['  24.0 Percent Load Capacity', 24],
    ['097.0 Volts', 97],
    ['000 Seconds', 0],
    ['02 Minutes', 2],
    ['33.7 C Internal', 33.7],
    ['0.88 Amps', 0.88],
    ['1500 VA', 1500],
    ['-5.5 C', -5.5],
    ['120', 120],
    ['7 days', 7],
    ['N/A', undefined],
    ['', undefined],
    ['Volts', undefined],
    ['12abc Volts', undefined],
    ['0x05000008', undefined],
    ['1e3 Volts', undefined],
  ];
  for (const [text, expected] of rows) {
    it(`${JSON.stringify(text)} → ${String(expected)}`, () => {
      assert.equal(parseNisNumber(text), expected);
    });
  }

  it('reads exactly the first blank-separated token as a plain decimal (random values)', () => {
    // The definition the parser implements without splitting: trim blanks and NULs, take
    // the text up to the first blank, and accept it only when all of it is a decimal.
    const byDefinition = (text: string): number | undefined => {
      const token = trimNis(text).split(/\s+/, 1)[0] ?? '';
      if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/.test(token)) return undefined;
      const value = Number(token);
      return Number.isFinite(value) ? value : undefined;
    };
    const piece = fc.constantFrom(
      ...'0123456789'.split(''),
      '.',
      '+',
      '-',
      'e',
      'x',
      ' ',
      '\t',
      '\0',
      '\u00a0',
      '\u2028',
      'V',
      '/',
      'N',
      '9'.repeat(400),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        assert.equal(parseNisNumber(text), byDefinition(text), JSON.stringify(text));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('parseNisTimestamp', () => {
  const rows: [string, string | undefined][] = [
    ['2024-03-02 14:05:11 +0100  ', '2024-03-02T14:05:11+01:00'],
    ['2018-06-10 19:02:47 +0100', '2018-06-10T19:02:47+01:00'],
    ['2025-01-07 20:36:08 +0000', '2025-01-07T20:36:08+00:00'],
    ['2024-07-01 08:00:00 -0430', '2024-07-01T08:00:00-04:30'],
    ['2024-07-01 08:00:00 +0530', '2024-07-01T08:00:00+05:30'],
    // Home Assistant's anonymised fixture writes the offset without a sign.
    ['1970-01-01 00:00:00 0000', '1970-01-01T00:00:00+00:00'],
    ['2024-03-02T14:05:11+01:00', '2024-03-02T14:05:11+01:00'],
    ['Sun Jun 05 21:20:37 PDT 2005', '2005-06-05T21:20:37-07:00'],
    ['Sun Apr 26 17:22:22 EDT 2009', '2009-04-26T17:22:22-04:00'],
    ['Tue Aug 29 13:35:43 CEST 2000', '2000-08-29T13:35:43+02:00'],
    ['Thu Dec 06 10:02:37 CET 2001', '2001-12-06T10:02:37+01:00'],
    ['Mon Sep 11 13:51:14 JST 2000', '2000-09-11T13:51:14+09:00'],
    ['Sun Jun  5 21:20:37 UTC 2005', '2005-06-05T21:20:37+00:00'],
    ['Sat Jan 01 00:00:00 GMT 2000', '2000-01-01T00:00:00+00:00'],
    ['Wed Mar 01 12:00:00 CST 2006', '2006-03-01T12:00:00-06:00'],
    ['Wed Mar 01 12:00:00 XYZT 2006', undefined],
    ['Wed Mar 01 12:00:00 2006', undefined],
    ['2024-03-02 14:05:11', undefined],
    ['2024-02-30 10:00:00 +0000', undefined],
    ['2024-03-02 24:00:00 +0000', undefined],
    ['2024-03-02 12:00:00 +2500', undefined],
    ['N/A', undefined],
    ['No connection to Master', undefined],
    ['', undefined],
  ];
  for (const [text, expected] of rows) {
    it(`${JSON.stringify(text)} → ${String(expected)}`, () => {
      assert.equal(parseNisTimestamp(text), expected);
    });
  }

  it('produces strings Date.parse reads back to the same instant', () => {
    const iso = parseNisTimestamp('Sun Jun 05 21:20:37 PDT 2005');
    assert.equal(Date.parse(iso ?? ''), Date.UTC(2005, 5, 6, 4, 20, 37));
  });
});
