import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { UpsState } from '../../../../src/core/state.ts';
import { NUT_VAR_RULES, nutStatus, nutVariables } from '../../../../src/servers/nut/mapping.ts';

const base: UpsState = { status: 'online', updated_at: '2026-12-03T12:00:00.000+00:00' };

describe('state → NUT variables', () => {
  /** [state fields, exact variables served (besides driver.name)] */
  const rows: [Partial<UpsState>, [string, string][]][] = [
    [{}, []],
    [
      { battery_charge_pct: 100, runtime_s: 2079 },
      [
        ['battery.charge', '100'],
        ['battery.runtime', '2079'],
      ],
    ],
    [
      { battery_voltage_v: 13.5, battery_voltage_nominal_v: 12 },
      [
        ['battery.voltage', '13.5'],
        ['battery.voltage.nominal', '12'],
      ],
    ],
    [
      { input_voltage_v: 238, input_voltage_nominal_v: 230 },
      [
        ['input.voltage', '238'],
        ['input.voltage.nominal', '230'],
      ],
    ],
    [
      { input_voltage_min_v: 226, input_voltage_max_v: 241, input_frequency_hz: 50 },
      [
        ['input.frequency', '50'],
        ['input.voltage.maximum', '241'],
        ['input.voltage.minimum', '226'],
      ],
    ],
    [
      { transfer_low_v: 180, transfer_high_v: 266, last_transfer_reason: 'Low line voltage' },
      [
        ['input.transfer.high', '266'],
        ['input.transfer.low', '180'],
        ['input.transfer.reason', 'Low line voltage'],
      ],
    ],
    [{ sensitivity: 'medium' }, [['input.sensitivity', 'medium']]],
    [{}, []],
    [
      {
        output_voltage_v: 230,
        output_voltage_nominal_v: 230,
        output_current_a: 0.87,
        output_frequency_hz: 50,
      },
      [
        ['output.current', '0.87'],
        ['output.frequency', '50'],
        ['output.voltage', '230'],
        ['output.voltage.nominal', '230'],
      ],
    ],
    [
      { load_pct: 18, nominal_power_w: 520, nominal_apparent_power_va: 850 },
      [
        ['ups.load', '18'],
        ['ups.power.nominal', '850'],
        ['ups.realpower.nominal', '520'],
      ],
    ],
    // load_w is derived by the bridge (load × nominal), not measured: not ups.realpower.
    [{ load_w: 93.6 }, []],
    [
      { internal_temp_c: 25.8, ambient_temp_c: 21, ambient_humidity_pct: 40 },
      [
        ['ambient.humidity', '40'],
        ['ambient.temperature', '21'],
        ['ups.temperature', '25.8'],
      ],
    ],
    [
      {
        model: 'Back-UPS ES 850G2',
        serial_number: '5B2250T07387',
        manufacturer: 'American Power Conversion',
      },
      [
        ['device.mfr', 'American Power Conversion'],
        ['device.model', 'Back-UPS ES 850G2'],
        ['device.serial', '5B2250T07387'],
        ['ups.mfr', 'American Power Conversion'],
        ['ups.model', 'Back-UPS ES 850G2'],
        ['ups.serial', '5B2250T07387'],
      ],
    ],
    [
      {
        firmware: '938.a2 .I',
        ups_name: 'rack',
        manufacture_date: '2022/12/13',
        battery_date: '2001/09/25',
      },
      [
        ['battery.date', '2001/09/25'],
        ['ups.firmware', '938.a2 .I'],
        ['ups.id', 'rack'],
        ['ups.mfr.date', '2022/12/13'],
      ],
    ],
    [
      { shutdown_delay_s: 20, wake_delay_s: 0, low_battery_warning_s: 120, restart_charge_pct: 15 },
      [
        ['battery.charge.restart', '15'],
        ['battery.runtime.low', '120'],
        ['ups.delay.shutdown', '20'],
        ['ups.delay.start', '0'],
      ],
    ],
    [
      { external_batteries: 1, bad_batteries: 0 },
      [
        ['battery.packs', '1'],
        ['battery.packs.bad', '0'],
      ],
    ],
    [{ self_test_result: 'none' }, [['ups.test.result', 'No test initiated']]],
    [{ self_test_result: 'passed' }, [['ups.test.result', 'Done and passed']]],
    [{ self_test_result: 'warning' }, [['ups.test.result', 'Done and warning']]],
    [{ self_test_result: 'failed_capacity' }, [['ups.test.result', 'Done and error']]],
    [{ self_test_result: 'in_progress' }, [['ups.test.result', 'In progress']]],
    [{ self_test_result: 'aborted' }, [['ups.test.result', 'Aborted']]],
    [{ self_test_result: 'other', self_test_code: 'XX' }, []],
    // Fields NUT has no standard variable for are not invented.
    [
      {
        transfers: 3,
        time_on_battery_s: 10,
        alarm_mode: '30 Seconds',
        cable: 'USB',
        data_age_s: 1,
      },
      [],
    ],
    [{ model: '' }, []],
  ];
  for (const [fields, expected] of rows) {
    it(JSON.stringify(fields), () => {
      const vars = nutVariables({ ...base, ...fields });
      assert.deepEqual(
        vars.filter(([n]) => n !== 'driver.name'),
        expected,
      );
      assert.deepEqual(
        vars.find(([n]) => n === 'driver.name'),
        ['driver.name', 'ups2mqtt'],
      );
    });
  }

  it('lists variables sorted by name, ups.status among them', () => {
    const names = nutVariables({
      ...base,
      online: true,
      battery_charge_pct: 1,
      load_pct: 2,
      model: 'm',
    }).map(([n]) => n);
    assert.deepEqual(names, [
      'battery.charge',
      'device.model',
      'driver.name',
      'ups.load',
      'ups.model',
      'ups.status',
    ]);
  });
});

describe('ups.status tokens', () => {
  const rows: [Partial<UpsState>, boolean, string | undefined][] = [
    [{}, false, undefined],
    [{ online: true }, false, 'OL'],
    [{ online: true, charging: true }, false, 'OL CHRG'],
    [{ on_battery: true, discharging: true }, false, 'OB DISCHRG'],
    [{ on_battery: true, low_battery: true }, false, 'OB LB'],
    [{ online: true, replace_battery: true }, false, 'OL RB'],
    [{ online: true, calibrating: true }, false, 'OL CAL'],
    [{ output_off: true }, false, 'OFF'],
    [{ online: true, overload: true }, false, 'OL OVER'],
    [{ online: true, trim: true }, false, 'OL TRIM'],
    [{ online: true, boost: true }, false, 'OL BOOST'],
    [{ online: true }, true, 'FSD OL'],
    [{ on_battery: true, low_battery: true }, true, 'FSD OB LB'],
    // apcupsd's SHUTTING DOWN is its forced shutdown: network clients shut down too.
    [{ on_battery: true, shutting_down: true }, false, 'FSD OB'],
    // Flags without a NUT token add none.
    [
      { online: true, comm_lost: false, test_in_progress: true, battery_missing: true },
      false,
      'OL',
    ],
  ];
  for (const [flags, fsd, expected] of rows) {
    it(`${JSON.stringify(flags)}${fsd ? ' + FSD' : ''} → ${expected}`, () => {
      assert.equal(nutStatus({ ...base, ...flags }, fsd), expected);
    });
  }
});

describe('variable names are NUT names', () => {
  /** Names in the real upsc dumps of test/fixtures/nut (see PROVENANCE.md). */
  const dumped = new Set<string>();
  for (const f of [
    'APC__Back-UPS_ES_850G2__usbhid-ups__2.8.0__01.dev',
    'APC__Smart-UPS_750__apc_modbus__2.8.2__01.dev',
    'APC__Smart-UPS_1500__apcsmart__2.2.1__01.dev',
    'APC__Smart-UPS_X_750__usbhid-ups__2.7.4__01.dev',
  ]) {
    const text = readFileSync(new URL(`../../../fixtures/nut/${f}`, import.meta.url), 'utf8');
    for (const line of text.split('\n')) {
      const m = /^([a-z][a-z0-9._]*): /.exec(line);
      if (m?.[1]) dumped.add(m[1]);
    }
  }
  // Standard names (NUT developer guide, "Variables") no APC dump at hand shows: APC units
  // without an environmental probe report no ambient.*, and battery.packs.bad is Smart-UPS only.
  const standardNotDumped = new Set([
    'ambient.temperature',
    'ambient.humidity',
    'battery.packs.bad',
  ]);

  it('every served name appears in a real dump or in the short standard list', () => {
    const served = ['ups.status', 'driver.name', ...NUT_VAR_RULES.flatMap((r) => r.vars)];
    const missing = served.filter((n) => !dumped.has(n) && !standardNotDumped.has(n));
    assert.deepEqual(missing, []);
    assert.ok(dumped.has('battery.charge') && dumped.has('ups.status'), 'fixtures parsed');
    // The standard list stays short: only names no dump shows.
    assert.deepEqual(
      [...standardNotDumped].filter((n) => dumped.has(n)),
      [],
    );
  });
});
