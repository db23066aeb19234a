import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveStatus } from '../../../src/core/state.ts';
import { mapNutVars, nutStatusFlags, parseNutNumber } from '../../../src/sources/nut/map.ts';

const vars = (o: Record<string, string>) => new Map(Object.entries(o));

describe('NUT ups.status tokens', () => {
  // One row per token: the flags it sets and the status enum it gives.
  const ROWS: [string, Record<string, boolean>, string][] = [
    ['OL', { online: true }, 'online'],
    ['OB', { on_battery: true, discharging: true }, 'on_battery'],
    ['OB DISCHRG', { on_battery: true, discharging: true }, 'on_battery'],
    ['OB LB', { on_battery: true, low_battery: true, discharging: true }, 'low_battery'],
    ['OL HB', { online: true }, 'online'],
    ['OL RB', { online: true, replace_battery: true }, 'online'],
    ['OL CHRG', { online: true, charging: true }, 'online'],
    ['OL BYPASS', { online: true }, 'online'],
    ['OL CAL', { online: true, calibrating: true }, 'calibrating'],
    ['OFF', { output_off: true }, 'output_off'],
    ['OL OVER', { online: true, overload: true }, 'overload'],
    ['OL TRIM', { online: true, trim: true }, 'online'],
    ['OL BOOST', { online: true, boost: true }, 'online'],
    [
      'FSD OB LB',
      { shutting_down: true, on_battery: true, low_battery: true, discharging: true },
      'shutting_down',
    ],
    ['OL TEST', { online: true, test_in_progress: true }, 'online'],
    ['ol chrg', { online: true, charging: true }, 'online'],
  ];
  const ALL = [
    'online',
    'on_battery',
    'low_battery',
    'replace_battery',
    'charging',
    'discharging',
    'calibrating',
    'output_off',
    'overload',
    'trim',
    'boost',
    'shutting_down',
    'test_in_progress',
  ];
  for (const [status, set, enumValue] of ROWS) {
    it(`"${status}"`, () => {
      const flags = nutStatusFlags(status);
      const expected: Record<string, boolean> = { comm_lost: false };
      for (const k of ALL) expected[k] = set[k] === true;
      assert.deepEqual(flags, expected);
      assert.equal(deriveStatus(flags), enumValue);
    });
  }

  it('battery.charger.status stands in for CHRG/DISCHRG', () => {
    assert.equal(nutStatusFlags('OL', 'charging').charging, true);
    assert.equal(nutStatusFlags('OL', 'resting').charging, false);
    assert.equal(nutStatusFlags('OL', 'discharging').discharging, true);
  });

  it('ALARM keeps ups.alarm as text; WAIT means upsd has no data yet', () => {
    const alarm = mapNutVars(vars({ 'ups.status': 'OL ALARM', 'ups.alarm': 'Replace battery! ' }));
    assert.equal(alarm.data.alarm, 'Replace battery!');
    assert.equal(alarm.data.status_text, 'OL ALARM');
    assert.equal(mapNutVars(vars({ 'ups.status': 'OL ALARM' })).data.alarm, 'ALARM');
    assert.equal(mapNutVars(vars({ 'ups.status': 'OL' })).data.alarm, undefined);
    const wait = mapNutVars(vars({ 'ups.status': 'WAIT' }));
    assert.equal(wait.waiting, true);
    assert.equal(wait.data.online, undefined);
  });
});

describe('NUT variables', () => {
  it('numbers as drivers print them, and nothing else', () => {
    assert.equal(parseNutNumber('004.5'), 4.5);
    assert.equal(parseNutNumber(' 100.00 '), 100);
    assert.equal(parseNutNumber('-1'), -1);
    assert.equal(parseNutNumber('1.56117e+09'), 1561170000);
    assert.equal(parseNutNumber('FF'), undefined);
    assert.equal(parseNutNumber('12 V'), undefined);
    assert.equal(parseNutNumber(''), undefined);
  });

  it('a value that is not a number is left out, kept raw and warned about; never fatal', () => {
    const m = mapNutVars(vars({ 'battery.charge': 'full', 'ups.load': '20', 'x.y': 'z' }));
    assert.deepEqual(m.data, { load_pct: 20 });
    assert.deepEqual(m.unknown, { 'battery.charge': 'full', 'x.y': 'z' });
    assert.deepEqual(m.warnings, ['NUT battery.charge value "full" is not a number; left out']);
  });

  it('load_w: ups.realpower first, else load × ups.realpower.nominal', () => {
    assert.equal(
      mapNutVars(vars({ 'ups.realpower': '120', 'ups.load': '50', 'ups.realpower.nominal': '500' }))
        .data.load_w,
      120,
    );
    assert.equal(
      mapNutVars(vars({ 'ups.load': '15', 'ups.realpower.nominal': '400' })).data.load_w,
      60,
    );
    assert.equal(mapNutVars(vars({ 'ups.load': '15' })).data.load_w, undefined);
    // Fuzz (nut-source/map): each number finite, their product not.
    const huge = mapNutVars(
      vars({
        'ups.load': '-6.632256686140239e+185',
        'ups.realpower.nominal': '-2.7105300954636538e+122',
      }),
    );
    assert.equal(huge.data.load_w, undefined);
    assert.equal(huge.data.load_pct, -6.632256686140239e185);
  });

  it('ups.temperature before battery.temperature; device.* before ups.*', () => {
    const m = mapNutVars(
      vars({
        'battery.temperature': '30',
        'ups.temperature': '25.5',
        'ups.model': 'Old',
        'device.model': ' New ',
        'ups.serial': 'S2',
        'device.serial': 'S1',
      }),
    );
    assert.equal(m.data.internal_temp_c, 25.5);
    assert.equal(m.data.model, 'New');
    assert.equal(m.data.serial_number, 'S1');
  });

  it('self-test results as drivers word them', () => {
    const rows: [string, string][] = [
      ['No test initiated', 'none'],
      ['Done and passed', 'passed'],
      ['Done and warning', 'warning'],
      ['Done and error', 'failed'],
      ['Aborted', 'aborted'],
      ['In progress', 'in_progress'],
      ['OK', 'passed'],
      ['BT', 'failed_capacity'],
      ['NG', 'failed_load'],
      ['NO', 'none'],
      ['Passed, Source: Internal', 'passed'],
      ['Giraffe', 'other'],
    ];
    for (const [text, result] of rows) {
      const m = mapNutVars(vars({ 'ups.test.result': text }));
      assert.equal(m.data.self_test_result, result, text);
      assert.equal(m.data.self_test_code, result === 'other' ? text : undefined);
    }
    assert.equal(
      mapNutVars(vars({ 'ups.status': 'OL', 'ups.test.result': 'In progress' })).data
        .test_in_progress,
      true,
    );
  });

  it('sensitivity words and letters', () => {
    const rows: [string, string | undefined][] = [
      ['low', 'low'],
      ['M', 'medium'],
      ['H', 'high'],
      ['A', 'auto'],
      ['normal', 'medium'],
      ['odd', undefined],
    ];
    for (const [v, s] of rows)
      assert.equal(mapNutVars(vars({ 'input.sensitivity': v })).data.sensitivity, s);
    // A wording the model does not know is no value, kept raw.
    assert.deepEqual(mapNutVars(vars({ 'input.sensitivity': 'odd' })).unknown, {
      'input.sensitivity': 'odd',
    });
  });
});
