import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UpsData } from '../../../src/core/state.ts';
import {
  apcBcdDate,
  hidDate,
  lineFailCause,
  selfTestResult,
} from '../../../src/sources/hid/enums.ts';
import { splitProduct } from '../../../src/sources/hid/identity.ts';
import { mapSignals } from '../../../src/sources/hid/mapping.ts';
import type { SignalName } from '../../../src/sources/hid/signals.ts';
import {
  CAPTURES,
  CP1500,
  ES850G2,
  loadCapture,
  replaySource,
  SU1500RM,
  SU3000,
  signal,
  XS1400U,
} from './helpers.ts';

async function readFixture(name: string): Promise<UpsData> {
  const { source } = replaySource(name);
  await source.open();
  const { data } = await source.read(signal());
  await source.close();
  return data;
}

describe('normalized readings of the captures', () => {
  // Exact values a user relies on, from the captures' bytes (decodedPaths show the same).
  const expected: [string, UpsData][] = [
    [
      ES850G2,
      {
        model: 'Back-UPS ES 850G2',
        firmware: '938.a2 .I USB FW:a2',
        online: true,
        on_battery: false,
        output_off: false,
        battery_charge_pct: 100,
        runtime_s: 868,
        battery_voltage_v: 13.43,
        battery_voltage_nominal_v: 12,
        input_voltage_v: 228,
        input_voltage_nominal_v: 230,
        load_pct: 34,
        nominal_power_w: 520,
        load_w: 176.8,
        transfer_low_v: 180,
        transfer_high_v: 266,
        sensitivity: 'medium',
        alarm_mode: 'enabled',
        self_test_result: 'none',
        last_transfer_reason: 'No transfers since turnon',
        manufacture_date: '2021-03-02',
        battery_date: '2021-03-02',
      },
    ],
    [
      XS1400U,
      {
        battery_voltage_v: 27.09,
        battery_voltage_nominal_v: 24,
        runtime_s: 1464,
        transfer_low_v: 155,
        transfer_high_v: 280,
        load_pct: 16,
        nominal_power_w: 700,
        last_transfer_reason: 'Self test via the Test usage',
      },
    ],
    [
      SU1500RM,
      {
        model: 'Smart-UPS 1500 RM',
        runtime_s: 5640,
        load_pct: 10.4,
        output_current_a: 0.5,
        output_frequency_hz: 50,
        internal_temp_c: 15.25,
        output_voltage_nominal_v: 230,
        transfer_low_v: 196,
        transfer_high_v: 265,
        sensitivity: 'low',
        shutdown_delay_s: 180,
        wake_delay_s: 0,
        restart_charge_pct: 0,
        battery_date: '2023-01-06',
      },
    ],
    [
      CP1500,
      {
        model: 'CP1500PFCLCD',
        manufacturer: 'CyberPower',
        online: true,
        battery_charge_pct: 100,
        runtime_s: 9180,
        battery_voltage_v: 24,
        input_voltage_v: 121,
        output_voltage_v: 121,
        load_pct: 3,
        nominal_power_w: 900,
        transfer_low_v: 88,
        transfer_high_v: 139,
        low_battery_warning_s: 300,
        boost: false,
        overload: false,
      },
    ],
    [SU3000, { runtime_s: 1212, battery_voltage_nominal_v: 48, low_battery_warning_s: 150 }],
  ];
  for (const [name, values] of expected) {
    it(`${name}`, async () => {
      const data = await readFixture(name);
      for (const [key, value] of Object.entries(values)) {
        assert.deepEqual(data[key as keyof UpsData], value, key);
      }
    });
  }

  for (const name of CAPTURES) {
    if (Object.keys(loadCapture(name).featureReports).length === 0) continue;
    it(`${name}: physically plausible`, async () => {
      const d = await readFixture(name);
      assert.equal(d.online, true);
      assert.equal(d.on_battery, false);
      assert.ok(
        d.battery_charge_pct !== undefined &&
          d.battery_charge_pct >= 0 &&
          d.battery_charge_pct <= 100,
      );
      assert.ok(d.runtime_s !== undefined && d.runtime_s >= 0);
      if (d.battery_voltage_v !== undefined)
        assert.ok(d.battery_voltage_v > 6 && d.battery_voltage_v < 100);
      for (const k of ['input_voltage_v', 'output_voltage_v', 'input_voltage_nominal_v'] as const) {
        if (d[k] !== undefined) assert.ok((d[k] ?? 0) >= 90 && (d[k] ?? 0) <= 260, `${k} ${d[k]}`);
      }
      if (d.load_pct !== undefined) assert.ok(d.load_pct >= 0 && d.load_pct <= 150);
      if (d.internal_temp_c !== undefined)
        assert.ok(d.internal_temp_c > -20 && d.internal_temp_c < 80);
    });
  }
});

describe('status flags', () => {
  const get =
    (values: Partial<Record<SignalName, number>>) =>
    (name: SignalName): number | undefined =>
      values[name];
  const rows: [string, Partial<Record<SignalName, number>>, UpsData][] = [
    [
      'ACPresent decides online',
      { acPresent: 0, discharging: 1 },
      { online: false, on_battery: true, discharging: true },
    ],
    // apcupsd docs/protocols/hid.md#polling: an RS 1500 reports Discharging=1 and ACPresent=1 during a self-test.
    [
      'a self-test discharges on mains',
      { acPresent: 1, discharging: 1, test: 5 },
      { online: true, on_battery: false, test_in_progress: true },
    ],
    ['Discharging alone', { discharging: 1 }, { online: false, on_battery: true }],
    [
      'APCStatusFlag alone (0x10 on battery)',
      { apcStatusFlag: 0x10 },
      { online: false, output_off: false },
    ],
    [
      'APCStatusFlag 0 is output off (NUT)',
      { apcStatusFlag: 0, acPresent: 1 },
      { output_off: true, online: true },
    ],
    [
      'ShutdownImminent is low battery',
      { shutdownImminent: 1, belowCapacityLimit: 0 },
      { low_battery: true },
    ],
    ['RemainingTimeLimitExpired is low battery', { timeLimitExpired: 1 }, { low_battery: true }],
    ['BatteryPresent 0', { batteryPresent: 0 }, { battery_missing: true }],
    ['Buck is trim', { buck: 1, boost: 0 }, { trim: true, boost: false }],
  ];
  for (const [name, values, want] of rows) {
    it(name, () => {
      const data = mapSignals(get(values));
      for (const [k, v] of Object.entries(want)) assert.equal(data[k as keyof UpsData], v, k);
    });
  }

  it('calibrating only while a deep test we started is in progress', () => {
    assert.equal(mapSignals(get({ test: 5 }), { deepTestRunning: true }).calibrating, true);
    assert.equal(mapSignals(get({ test: 5 })).calibrating, false);
  });

  it('runtime in minutes (quirk) becomes seconds; CapacityMode ≠ percent uses FullChargeCapacity', () => {
    assert.equal(mapSignals(get({ runtime: 12 }), { runtimeInMinutes: true }).runtime_s, 720);
    assert.equal(
      mapSignals(get({ charge: 450, capacityMode: 0, fullChargeCapacity: 900 })).battery_charge_pct,
      50,
    );
  });

  it('nominal voltages 10× too large are divided down; zero nominal power is hidden', () => {
    const d = mapSignals(get({ inputVoltageNominal: 2300, nominalPower: 0, load: 20 }));
    assert.equal(d.input_voltage_nominal_v, 230);
    assert.equal(d.nominal_power_w, undefined);
    assert.equal(d.load_w, undefined);
  });
});

describe('enumerations and dates', () => {
  it('Test read-back codes', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map(selfTestResult), [
      'none',
      'passed',
      'warning',
      'failed',
      'aborted',
      'in_progress',
      'none',
      'other',
    ]);
  });

  it('keeps the raw Test code when it maps to other', () => {
    const d = mapSignals((n) => (n === 'test' ? 7 : undefined));
    assert.deepEqual([d.self_test_result, d.self_test_code], ['other', '7']);
  });

  it('dates (docs/protocols/hid.md#usages)', () => {
    assert.equal(hidDate(13692), '2006-11-28');
    assert.equal(hidDate(12409), '2004-03-25');
    assert.equal(hidDate(0), undefined);
    assert.equal(apcBcdDate(0x102202), '2002-10-22');
    assert.equal(apcBcdDate(0x092501), '2001-09-25');
    assert.equal(apcBcdDate(0x010199), '1999-01-01');
    assert.equal(apcBcdDate(0), undefined);
  });

  it('line-fail causes and product strings', () => {
    assert.equal(lineFailCause(1), 'Low line voltage');
    assert.equal(lineFailCause(99), 'Unknown cause 99');
    assert.deepEqual(splitProduct('Back-UPS ES 550 FW:828.D2.I USB FW:D2'), {
      model: 'Back-UPS ES 550',
      firmware: '828.D2.I USB FW:D2',
    });
    assert.deepEqual(splitProduct(' Smart-UPS_3000\0 '), { model: 'Smart-UPS_3000' });
  });
});
