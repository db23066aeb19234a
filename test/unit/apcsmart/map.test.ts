import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { UpsData } from '../../../src/core/state.ts';
import { mapSmartValues } from '../../../src/sources/apcsmart/map.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/apcsmart/', import.meta.url));

/** The SU420 transcript's replies, byte-exact (replyHex minus CR LF), `NA` left out. */
function transcriptValues(): Map<string, string> {
  const file = JSON.parse(
    readFileSync(`${FIXTURES}smart-ups-420-su420inet.pairs.json`, 'utf8'),
  ) as { pairs: { command: string; replyHex: string }[] };
  const values = new Map<string, string>();
  for (const p of file.pairs) {
    const bytes = Buffer.from(p.replyHex.replace(/\s+/g, ''), 'hex');
    const reply = bytes.subarray(0, -2).toString('latin1');
    if (p.command !== 'Y' && reply !== 'NA') values.set(p.command, reply);
  }
  return values;
}

const nut = JSON.parse(
  readFileSync(`${FIXTURES}smart-ups-420-su420inet.nut-apcsmart-old.json`, 'utf8'),
) as { modelReply: string; values: Record<string, string> };

describe('mapSmartValues: the SMART-UPS 420 transcript', () => {
  it('maps every reply to the state users rely on', () => {
    const { data, unknown } = mapSmartValues(transcriptValues());
    assert.deepEqual(unknown, {});
    const expected: UpsData = {
      manufacturer: 'APC',
      battery_voltage_v: 13.61,
      self_test_interval: '336',
      input_frequency_hz: 50,
      last_transfer_reason: 'Automatic or explicit self test',
      input_voltage_v: 231.8,
      input_voltage_max_v: 233.2,
      input_voltage_min_v: 231.8,
      output_voltage_v: 231.8,
      load_pct: 9.1,
      online: true,
      on_battery: false,
      discharging: false,
      low_battery: false,
      replace_battery: false,
      overload: false,
      trim: false,
      boost: false,
      calibrating: false,
      output_off: false,
      firmware: '21.3.I',
      ups_name: 'UPS_IDEN',
      restart_charge_pct: 0,
      battery_charge_pct: 100,
      battery_voltage_nominal_v: 12,
      runtime_s: 42 * 60,
      alarm_mode: '5 Seconds',
      transfer_low_v: 208,
      manufacture_date: '11/17/98',
      serial_number: 'NS9847001053',
      output_voltage_nominal_v: 230,
      shutdown_delay_s: 20,
      low_battery_warning_s: 120,
      wake_delay_s: 0,
      sensitivity: 'high',
      transfer_high_v: 253,
      battery_date: '11/17/98',
    };
    assert.deepEqual(data, expected);
  });

  // NUT's decode of the same unit (recorded at another time): raw values NUT passed through.
  const nutRows: {
    nutVar: string;
    letter: string;
    key: keyof UpsData;
    convert?: (v: string) => unknown;
  }[] = [
    { nutVar: 'ups.model', letter: '\x01', key: 'model', convert: (v) => v.trim() },
    { nutVar: 'battery.voltage', letter: 'B', key: 'battery_voltage_v', convert: Number },
    { nutVar: 'input.frequency', letter: 'F', key: 'input_frequency_hz', convert: Number },
    { nutVar: 'input.voltage', letter: 'L', key: 'input_voltage_v', convert: Number },
    { nutVar: 'input.voltage.maximum', letter: 'M', key: 'input_voltage_max_v', convert: Number },
    { nutVar: 'input.voltage.minimum', letter: 'N', key: 'input_voltage_min_v', convert: Number },
    { nutVar: 'output.voltage', letter: 'O', key: 'output_voltage_v', convert: Number },
    { nutVar: 'ups.load', letter: 'P', key: 'load_pct', convert: Number },
    { nutVar: 'battery.charge', letter: 'f', key: 'battery_charge_pct', convert: Number },
    { nutVar: 'ups.firmware', letter: 'b', key: 'firmware' },
    { nutVar: 'ups.id', letter: 'c', key: 'ups_name' },
    {
      nutVar: 'battery.voltage.nominal',
      letter: 'g',
      key: 'battery_voltage_nominal_v',
      convert: Number,
    },
    { nutVar: 'input.transfer.low', letter: 'l', key: 'transfer_low_v', convert: Number },
    { nutVar: 'input.transfer.high', letter: 'u', key: 'transfer_high_v', convert: Number },
    { nutVar: 'ups.mfr.date', letter: 'm', key: 'manufacture_date' },
    { nutVar: 'battery.date', letter: 'x', key: 'battery_date' },
    { nutVar: 'ups.serial', letter: 'n', key: 'serial_number' },
    {
      nutVar: 'output.voltage.nominal',
      letter: 'o',
      key: 'output_voltage_nominal_v',
      convert: Number,
    },
    { nutVar: 'ups.delay.shutdown', letter: 'p', key: 'shutdown_delay_s', convert: Number },
    { nutVar: 'ups.delay.start', letter: 'r', key: 'wake_delay_s', convert: Number },
    { nutVar: 'battery.charge.restart', letter: 'e', key: 'restart_charge_pct', convert: Number },
  ];
  for (const row of nutRows) {
    it(`agrees with NUT on ${row.nutVar}`, () => {
      const raw = nut.values[row.nutVar];
      assert.ok(raw !== undefined);
      const { data } = mapSmartValues(new Map([[row.letter, raw]]));
      assert.deepEqual(data[row.key], (row.convert ?? ((v: string) => v))(raw));
    });
  }

  it('agrees with NUT on seconds: runtime (j) and low-battery warning (q)', () => {
    // NUT: battery.runtime 5100 s was read as `0085:`; battery.runtime.low 120 as `02`.
    assert.equal(
      mapSmartValues(new Map([['j', '0085:']])).data.runtime_s,
      Number(nut.values['battery.runtime']),
    );
    assert.equal(
      mapSmartValues(new Map([['q', '02']])).data.low_battery_warning_s,
      Number(nut.values['battery.runtime.low']),
    );
  });
});

describe('mapSmartValues: one row per quirk', () => {
  const rows: {
    name: string;
    values: [string, string][];
    expect: UpsData;
    unknown?: Record<string, string>;
  }[] = [
    {
      name: 'Q 10: on battery',
      values: [['Q', '10']],
      expect: { online: false, on_battery: true, discharging: true },
    },
    {
      name: 'Q 50: on battery, low battery',
      values: [['Q', '50']],
      expect: { on_battery: true, low_battery: true },
    },
    {
      name: 'Q 0A: on line, trim',
      values: [['Q', '0A']],
      expect: { online: true, trim: true, boost: false },
    },
    {
      name: 'Q 0c lower-case hex: boost',
      values: [['Q', '0c']],
      expect: { online: true, boost: true },
    },
    {
      name: 'Q 18: both LEDs in a transfer',
      values: [['Q', '18']],
      expect: { online: true, on_battery: true },
    },
    { name: 'Q 09: calibrating', values: [['Q', '09']], expect: { calibrating: true } },
    {
      name: 'Q A8: overload, replace battery',
      values: [['Q', 'A8']],
      expect: { overload: true, replace_battery: true },
    },
    {
      name: 'Q 00: output off',
      values: [['Q', '00']],
      expect: { output_off: true, online: false },
    },
    {
      name: 'Q SM (not ready) is unknown, not a state',
      values: [['Q', 'SM']],
      expect: {},
      unknown: { Q: 'SM' },
    },
    { name: 'j runtime with colon', values: [['j', '0327:']], expect: { runtime_s: 19620 } },
    {
      name: 'G H: high line',
      values: [['G', 'H']],
      expect: { last_transfer_reason: 'High line voltage' },
    },
    {
      name: 'G R: rate of change',
      values: [['G', 'R']],
      expect: { last_transfer_reason: 'Unacceptable line voltage changes' },
    },
    {
      name: 'G T: notch or spike',
      values: [['G', 'T']],
      expect: { last_transfer_reason: 'Line voltage notch or spike' },
    },
    {
      name: 'G O: none since turn-on',
      values: [['G', 'O']],
      expect: { last_transfer_reason: 'No transfers since turnon' },
    },
    {
      name: 'G K: forced by software',
      values: [['G', 'K']],
      expect: { last_transfer_reason: 'Forced by software' },
    },
    {
      name: 'G unknown letter',
      values: [['G', 'Q']],
      expect: { last_transfer_reason: 'UNKNOWN EVENT' },
      unknown: { G: 'Q' },
    },
    {
      name: 'X BT: failed, capacity',
      values: [['X', 'BT']],
      expect: { self_test_result: 'failed_capacity' },
    },
    {
      name: 'X NG: failed, overload',
      values: [['X', 'NG']],
      expect: { self_test_result: 'failed_load' },
    },
    { name: 'X NO: no result', values: [['X', 'NO']], expect: { self_test_result: 'none' } },
    {
      name: 'X odd code kept',
      values: [['X', 'WN']],
      expect: { self_test_result: 'other', self_test_code: 'WN' },
      unknown: { X: 'WN' },
    },
    { name: 'k T / L / N', values: [['k', 'N']], expect: { alarm_mode: 'No alarm' } },
    { name: 's A: auto', values: [['s', 'A']], expect: { sensitivity: 'auto' } },
    { name: 'e old code 02 = 25 %', values: [['e', '02']], expect: { restart_charge_pct: 25 } },
    { name: 'e new value 50', values: [['e', '50']], expect: { restart_charge_pct: 50 } },
    { name: 'V stands in for a missing b', values: [['V', 'DWI']], expect: { firmware: 'DWI' } },
    {
      name: 'b wins over V',
      values: [
        ['V', 'DWI'],
        ['b', '21.3.I'],
      ],
      expect: { firmware: '21.3.I' },
    },
    {
      name: 'REG2 bit 5: battery disconnected',
      values: [["'", '20']],
      expect: { fault_register_2: '0x20', battery_missing: true },
    },
    {
      name: 'REG3 bit 3: asleep after @',
      values: [
        ['8', '08'],
        ['Q', '08'],
      ],
      expect: { fault_register_3: '0x08', output_off: true },
    },
    { name: 'DIP switches as 0xNN', values: [['7', 'f']], expect: { dip_switch: '0x0F' } },
    {
      name: 'temperature with leading zeros',
      values: [['C', '036.0']],
      expect: { internal_temp_c: 36 },
    },
    {
      name: 'Measure-UPS humidity and temperature',
      values: [
        ['h', '042.4'],
        ['t', '80.5'],
      ],
      expect: { ambient_humidity_pct: 42.4, ambient_temp_c: 80.5 },
    },
    {
      name: 'battery packs',
      values: [
        ['>', '001'],
        ['<', '000'],
      ],
      expect: { external_batteries: 1, bad_batteries: 0 },
    },
    {
      name: 'garbage number is unknown',
      values: [['L', '23#.8']],
      expect: {},
      unknown: { L: '23#.8' },
    },
    { name: 'unknown letter is ignored', values: [['y', '(C) APCC']], expect: {} },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const { data, unknown } = mapSmartValues(new Map(r.values));
      for (const [key, value] of Object.entries(r.expect)) {
        assert.deepEqual(data[key as keyof UpsData], value, key);
      }
      assert.deepEqual(unknown, r.unknown ?? {});
    });
  }
});
