import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UpsData, UpsFlags } from '../../../src/core/state.ts';
import { mapNisStatus } from '../../../src/sources/nis/map.ts';
import type { NisRecord } from '../../../src/sources/nis/parse.ts';

function rec(pairs: Record<string, string>): NisRecord[] {
  return Object.entries(pairs).map(([key, value]) => ({ key, value }));
}

function map(pairs: Record<string, string>) {
  return mapNisStatus(rec(pairs));
}

const FLAG_KEYS = [
  'online',
  'on_battery',
  'low_battery',
  'replace_battery',
  'overload',
  'charging',
  'discharging',
  'comm_lost',
  'trim',
  'boost',
  'calibrating',
  'battery_missing',
  'output_off',
  'shutting_down',
  'test_in_progress',
] as const satisfies readonly (keyof UpsFlags)[];

/** Expected flags; `undefined` means the key must be absent. */
type FlagExpect = { [K in keyof UpsFlags]?: UpsFlags[K] | undefined };

function flagsOf(data: UpsData): UpsFlags {
  const out: UpsFlags = {};
  for (const k of FLAG_KEYS) if (data[k] !== undefined) out[k] = data[k];
  return out;
}

describe('mapNisStatus flags (STATFLAG first, docs/protocols/nis.md#status-words-and-statflag-bits docs/protocols/nis.md#status-words-and-statflag-bits docs/mqtt.md#keys)', () => {
  it('COMMLOST with the ONLINE bit still set: comm_lost, no online/on_battery/charging/discharging', () => {
    const { data } = map({ STATUS: 'COMMLOST', STATFLAG: '0x05000508', BCHARGE: '100.0 Percent' });
    assert.deepEqual(flagsOf(data), {
      calibrating: false,
      trim: false,
      boost: false,
      overload: false,
      low_battery: false,
      replace_battery: false,
      comm_lost: true,
      shutting_down: false,
    });
    assert.equal('online' in data, false);
    assert.equal('on_battery' in data, false);
  });

  it('TRIM ONLINE with 0x0500000A', () => {
    const { data } = map({
      STATUS: 'TRIM ONLINE',
      STATFLAG: '0x0500000A',
      BCHARGE: '100.0 Percent',
    });
    assert.deepEqual(flagsOf(data), {
      calibrating: false,
      trim: true,
      boost: false,
      online: true,
      on_battery: false,
      overload: false,
      low_battery: false,
      replace_battery: false,
      comm_lost: false,
      shutting_down: false,
      battery_missing: false,
      charging: false,
      discharging: false,
      // A self-test runs on battery: on mains, no test is running.
      test_in_progress: false,
    });
    assert.equal(data.status_text, 'TRIM ONLINE');
  });

  const bitRows: { quirk: string; statflag: string; expect: UpsFlags }[] = [
    { quirk: 'calibration', statflag: '0x05000009', expect: { calibrating: true, online: true } },
    { quirk: 'boost', statflag: '0x0500000C', expect: { boost: true, online: true } },
    {
      quirk: 'on battery + low battery',
      statflag: '0x05000050',
      expect: { on_battery: true, low_battery: true, discharging: true },
    },
    { quirk: 'overload', statflag: '0x05000028', expect: { overload: true, online: true } },
    {
      quirk: 'replace battery',
      statflag: '0x05000088',
      expect: { replace_battery: true, online: true },
    },
    {
      quirk: 'shutdown in progress',
      statflag: '0x05000250',
      expect: { shutting_down: true, on_battery: true, low_battery: true, discharging: true },
    },
    { quirk: 'NIS slave bit ignored', statflag: '0x05000408', expect: { online: true } },
  ];
  for (const { quirk, statflag, expect } of bitRows) {
    it(`STATFLAG ${statflag}: ${quirk}`, () => {
      const { data } = map({ STATFLAG: statflag, BCHARGE: '100.0 Percent' });
      const all: UpsFlags = {
        calibrating: false,
        trim: false,
        boost: false,
        online: false,
        on_battery: false,
        overload: false,
        low_battery: false,
        replace_battery: false,
        comm_lost: false,
        shutting_down: false,
        charging: false,
        discharging: false,
        test_in_progress: false,
        ...expect,
      };
      // No STATUS and no SELFTEST: battery_missing unknown; test_in_progress from on_battery only.
      assert.deepEqual(flagsOf(data), all);
    });
  }

  it('STATUS words say COMMLOST while the bit is clear: comm_lost wins', () => {
    const { data } = map({ STATUS: 'COMMLOST', STATFLAG: '0x05000008' });
    assert.equal(data.comm_lost, true);
    assert.equal(data.online, undefined);
  });

  it('STATUS says SHUTTING DOWN while the bit is clear: shutting_down', () => {
    const { data } = map({ STATUS: 'SHUTTING DOWN', STATFLAG: '0x05000050' });
    assert.equal(data.shutting_down, true);
    assert.equal(data.on_battery, true);
    assert.equal(data.low_battery, true);
  });

  it('falls back to the STATUS words without STATFLAG', () => {
    const { data, warnings } = map({ STATUS: 'ONBATT LOWBATT ', BCHARGE: '12.0 Percent' });
    assert.deepEqual(warnings, []);
    assert.deepEqual(flagsOf(data), {
      calibrating: false,
      trim: false,
      boost: false,
      online: false,
      on_battery: true,
      overload: false,
      low_battery: true,
      replace_battery: false,
      comm_lost: false,
      shutting_down: false,
      battery_missing: false,
      charging: false,
      discharging: true,
      test_in_progress: false,
    });
  });

  it('falls back to the STATUS words when STATFLAG does not parse (warning, raw kept)', () => {
    const { data, unknown, warnings } = map({
      STATUS: 'CAL TRIM BOOST ONLINE ',
      STATFLAG: 'garbage',
    });
    assert.equal(data.calibrating, true);
    assert.equal(data.trim, true);
    assert.equal(data.boost, true);
    assert.equal(data.online, true);
    assert.equal(data.status_flags, undefined);
    assert.deepEqual(unknown, { STATFLAG: 'garbage' });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /STATFLAG/);
  });

  it('STATUS COMMLOST alone (no STATFLAG): only comm_lost and shutting_down are known', () => {
    const { data } = map({ STATUS: 'COMMLOST ' });
    assert.deepEqual(flagsOf(data), { comm_lost: true, shutting_down: false });
  });

  it('STATUS SHUTTING DOWN alone (no STATFLAG): only shutting_down is known', () => {
    const { data } = map({ STATUS: 'SHUTTING DOWN' });
    assert.deepEqual(flagsOf(data), { shutting_down: true });
  });

  it('battery_missing comes from the NOBATT word only', () => {
    assert.equal(
      map({ STATUS: 'ONLINE NOBATT ', STATFLAG: '0x01000008' }).data.battery_missing,
      true,
    );
    // 3.10.17 sends 0x02000008 with a battery fitted: the missing present-bit means nothing.
    assert.equal(map({ STATUS: 'ONLINE', STATFLAG: '0x02000008' }).data.battery_missing, false);
    assert.equal(map({ STATFLAG: '0x01000008' }).data.battery_missing, undefined);
  });

  it('no STATUS, no STATFLAG: no flags at all', () => {
    assert.deepEqual(flagsOf(map({ LINEV: '230.0 Volts' }).data), {});
  });
});

describe('mapNisStatus derived flags', () => {
  const rows: { quirk: string; pairs: Record<string, string>; expect: FlagExpect }[] = [
    {
      quirk: 'charging: on mains below 100 %',
      pairs: { STATFLAG: '0x05000008', BCHARGE: '87.0 Percent' },
      expect: { charging: true, discharging: false },
    },
    {
      quirk: 'charging unknown without BCHARGE',
      pairs: { STATFLAG: '0x05000008' },
      expect: { charging: undefined, discharging: false },
    },
    {
      quirk: 'not charging on battery',
      pairs: { STATFLAG: '0x05000010', BCHARGE: '87.0 Percent' },
      expect: { charging: false, discharging: true },
    },
    {
      quirk: 'test_in_progress from SELFTEST IP',
      pairs: { STATFLAG: '0x05000008', SELFTEST: 'IP' },
      expect: { test_in_progress: true },
    },
    {
      quirk: 'test_in_progress from ONBATT + self-test transfer',
      pairs: {
        STATFLAG: '0x05000010',
        SELFTEST: 'NO',
        LASTXFER: 'Automatic or explicit self test',
      },
      expect: { test_in_progress: true },
    },
    {
      quirk: 'old self-test transfer wording',
      pairs: { STATFLAG: '0x05000010', LASTXFER: 'U command or Self Test' },
      expect: { test_in_progress: true },
    },
    {
      quirk: 'a real outage is no test',
      pairs: { STATFLAG: '0x05000010', SELFTEST: 'OK', LASTXFER: 'Low line voltage' },
      expect: { test_in_progress: false },
    },
    {
      quirk: 'a past self-test transfer on mains is no test',
      pairs: {
        STATFLAG: '0x05000008',
        SELFTEST: 'OK',
        LASTXFER: 'Automatic or explicit self test',
      },
      expect: { test_in_progress: false },
    },
    {
      quirk: 'comm lost: SELFTEST alone decides',
      pairs: {
        STATFLAG: '0x05000518',
        SELFTEST: 'NO',
        LASTXFER: 'Automatic or explicit self test',
      },
      expect: { test_in_progress: false, on_battery: undefined, discharging: undefined },
    },
  ];
  for (const { quirk, pairs, expect } of rows) {
    it(quirk, () => {
      const { data } = map(pairs);
      for (const [k, v] of Object.entries(expect)) {
        assert.equal(data[k as keyof UpsFlags], v, k);
      }
    });
  }
});

describe('mapNisStatus values', () => {
  const sense: [string, UpsData['sensitivity']][] = [
    ['Auto Adjust', 'auto'],
    ['Low', 'low'],
    ['Medium', 'medium'],
    ['High', 'high'],
    ['HIGH', 'high'],
    // apcupsd's own "Unknown" and words outside the set are no value (never an `unknown` option).
    ['Unknown', undefined],
    ['Very High', undefined],
  ];
  for (const [text, expected] of sense) {
    it(`SENSE ${JSON.stringify(text)} → ${expected}`, () => {
      assert.equal(map({ SENSE: text }).data.sensitivity, expected);
    });
  }

  const selfTest: [string, UpsData['self_test_result'], string | undefined][] = [
    ['NO', 'none', undefined],
    ['OK', 'passed', undefined],
    ['BT', 'failed_capacity', undefined],
    ['NG', 'failed_load', undefined],
    ['WN', 'warning', undefined],
    ['IP', 'in_progress', undefined],
    ['??', undefined, undefined],
    ['XX', 'other', 'XX'],
    ['YES', 'other', 'YES'],
  ];
  for (const [code, result, raw] of selfTest) {
    it(`SELFTEST ${code} → ${result}${raw ? ' (raw kept)' : ''}`, () => {
      const { data } = map({ SELFTEST: code });
      assert.equal(data.self_test_result, result);
      assert.equal(data.self_test_code, raw);
    });
  }

  const statflags: [string, string][] = [
    ['0x05000008', '0x05000008'],
    ['0x0500000a', '0x0500000A'],
    ['0x07000008 Status Flag', '0x07000008'],
    ['0x008 Status Flag', '0x00000008'],
    ['0x08 Status Flag', '0x00000008'],
    ['0x5000008', '0x05000008'],
  ];
  for (const [text, expected] of statflags) {
    it(`STATFLAG ${JSON.stringify(text)} → ${expected}`, () => {
      assert.equal(map({ STATFLAG: text }).data.status_flags, expected);
    });
  }

  it('minutes become whole seconds', () => {
    const { data } = map({
      TIMELEFT: '38.4 Minutes',
      MINTIMEL: '3 Minutes',
      DLOWBATT: '02 Minutes',
    });
    assert.equal(data.runtime_s, 2304);
    assert.equal(data.shutdown_runtime_s, 180);
    assert.equal(data.low_battery_warning_s, 120);
    assert.equal(map({ TIMELEFT: '0.1 Minutes' }).data.runtime_s, 6);
  });

  it('load_w from load_pct × nominal, to 0.1 W; never the nominal alone', () => {
    assert.equal(map({ LOADPCT: '12.3 Percent', NOMPOWER: '405 Watts' }).data.load_w, 49.8);
    assert.equal(map({ LOADPCT: '27.3 Percent', NOMPOWER: '1000 Watts' }).data.load_w, 273);
    assert.equal(map({ NOMPOWER: '405 Watts' }).data.load_w, undefined);
    assert.equal(map({ LOADPCT: 'N/A', NOMPOWER: '405 Watts' }).data.load_w, undefined);
  });

  it('data_age_s = END APC − DATE, also across offsets; absent without both', () => {
    const age = map({ DATE: '2024-03-02 14:05:11 +0100', 'END APC': '2024-03-02 13:06:11 +0000' });
    assert.equal(age.data.data_age_s, 60);
    assert.equal(map({ DATE: '2024-03-02 14:05:11 +0100' }).data.data_age_s, undefined);
  });

  it('MASTERUPD: a time, or absent when the slave has no master', () => {
    assert.equal(
      map({ MASTERUPD: '2024-03-02 14:05:11 +0100' }).data.master_updated_at,
      '2024-03-02T14:05:11+01:00',
    );
    const none = map({ MASTERUPD: 'No connection to Master' });
    assert.equal(none.data.master_updated_at, undefined);
    assert.deepEqual(none.warnings, []);
    assert.deepEqual(none.unknown, {});
  });

  it('APCMODEL stands in for MODEL only when MODEL is absent', () => {
    assert.equal(map({ APCMODEL: 'Back-UPS 350' }).data.model, 'Back-UPS 350');
    assert.equal(
      map({ APCMODEL: 'PWI', MODEL: 'SMART-UPS 5000 RM' }).data.model,
      'SMART-UPS 5000 RM',
    );
    assert.equal(
      map({ MODEL: 'SMART-UPS 5000 RM', APCMODEL: 'PWI' }).data.model,
      'SMART-UPS 5000 RM',
    );
  });

  it('N/A and empty values are absent, silently', () => {
    const { data, unknown, warnings } = map({
      XOFFBATT: 'N/A',
      REG1: 'N/A',
      UPSNAME: '',
      LINEV: 'n/a',
    });
    assert.equal(data.last_off_battery_at, undefined);
    assert.equal(data.fault_register_1, undefined);
    assert.equal(data.ups_name, undefined);
    assert.equal(data.input_voltage_v, undefined);
    assert.deepEqual(unknown, {});
    assert.deepEqual(warnings, []);
  });

  it('a value that does not parse is absent, kept raw and warned about; the rest maps', () => {
    const { data, unknown, warnings } = map({
      LINEV: 'abc Volts',
      DATE: 'yesterday',
      DIPSW: 'on',
      BCHARGE: '99.0 Percent',
    });
    assert.equal(data.input_voltage_v, undefined);
    assert.equal(data.sampled_at, undefined);
    assert.equal(data.dip_switch, undefined);
    assert.equal(data.battery_charge_pct, 99);
    assert.deepEqual(unknown, { LINEV: 'abc Volts', DATE: 'yesterday', DIPSW: 'on' });
    assert.equal(warnings.length, 3);
  });

  it('unknown keys are kept raw, N/A included', () => {
    const { unknown, warnings } = map({
      SHARE: 'NetworkUPS',
      MASTER: '10.0.0.2:3551',
      RELEASE: '3.7.2',
      LOAD_W: '120 Watts',
      HUMIDITY2: 'N/A',
    });
    assert.deepEqual(unknown, {
      SHARE: 'NetworkUPS',
      MASTER: '10.0.0.2:3551',
      RELEASE: '3.7.2',
      LOAD_W: '120 Watts',
      HUMIDITY2: 'N/A',
    });
    assert.deepEqual(warnings, []);
  });

  it('a key sent twice keeps the last value, with a warning', () => {
    const { data, warnings } = map({});
    assert.equal(data.manufacturer, 'APC');
    const twice = mapNisStatus([
      { key: 'LINEV', value: '230.0 Volts' },
      { key: 'LINEV', value: '231.0 Volts' },
    ]);
    assert.equal(twice.data.input_voltage_v, 231);
    assert.deepEqual(warnings, []);
    assert.deepEqual(twice.warnings, ['NIS key LINEV sent more than once; the last value wins']);
    // Each mapping counts on its own: the same key in the next reply is no repeat.
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(mapNisStatus([{ key: 'LINEV', value: '232.0 Volts' }]).warnings, []);
    }
  });

  it('maps the rarer keys: Modbus, probes, NIS slave, very old daemons', () => {
    const { data } = map({
      LOADAPNT: '21.5 Percent',
      OUTCURNT: '1.43 Amps',
      NOMAPNT: '1500 VA',
      NOMOUTV: '230 Volts',
      HUMIDITY: '45.0 Percent',
      AMBTEMP: '24.5 C',
      LINEFAIL: 'OK',
      BATTSTAT: 'OK',
      STESTI: 'ON',
      MANDATE: '07/31/99',
      BATTDATE: '11/13/21',
      UPSMODE: 'Stand Alone',
    });
    assert.deepEqual(
      {
        load_apparent_pct: data.load_apparent_pct,
        output_current_a: data.output_current_a,
        nominal_apparent_power_va: data.nominal_apparent_power_va,
        output_voltage_nominal_v: data.output_voltage_nominal_v,
        ambient_humidity_pct: data.ambient_humidity_pct,
        ambient_temp_c: data.ambient_temp_c,
        input_status: data.input_status,
        battery_status: data.battery_status,
        self_test_interval: data.self_test_interval,
        manufacture_date: data.manufacture_date,
        battery_date: data.battery_date,
      },
      {
        load_apparent_pct: 21.5,
        output_current_a: 1.43,
        nominal_apparent_power_va: 1500,
        output_voltage_nominal_v: 230,
        ambient_humidity_pct: 45,
        ambient_temp_c: 24.5,
        input_status: 'OK',
        battery_status: 'OK',
        self_test_interval: 'ON',
        manufacture_date: '07/31/99',
        battery_date: '11/13/21',
      },
    );
  });
});

describe('mapNisStatus: disabled thresholds and core-integration keys', () => {
  it("reads apcupsd's -1 (disabled) thresholds as no value, never a negative one", () => {
    const { data, unknown, warnings } = map({ MBATTCHG: '-1 Percent', MINTIMEL: '-1 Minutes' });
    assert.equal('shutdown_charge_pct' in data, false);
    assert.equal('shutdown_runtime_s' in data, false);
    assert.deepEqual(unknown, {});
    assert.deepEqual(warnings, []);
  });

  it('still reads enabled thresholds, minutes in seconds', () => {
    const { data } = map({ MBATTCHG: '5 Percent', MINTIMEL: '3 Minutes' });
    assert.equal(data.shutdown_charge_pct, 5);
    assert.equal(data.shutdown_runtime_s, 180);
  });

  it('maps APCMODEL to apc_model (and to model when MODEL is absent)', () => {
    assert.deepEqual(
      [map({ APCMODEL: 'BR1500G' }).data.apc_model, map({ APCMODEL: 'BR1500G' }).data.model],
      ['BR1500G', 'BR1500G'],
    );
    const both = map({ APCMODEL: 'SMART', MODEL: 'Smart-UPS 1500' }).data;
    assert.deepEqual([both.apc_model, both.model], ['SMART', 'Smart-UPS 1500']);
  });

  it('maps the XOFFBAT spelling like XOFFBATT', () => {
    const { data, unknown } = map({ XOFFBAT: '2024-02-26 08:00:44 +0000' });
    assert.equal(data.last_off_battery_at, '2024-02-26T08:00:44+00:00');
    assert.deepEqual(unknown, {});
  });
});
