import * as assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { UpsData, UpsFlags } from '../../../src/core/state.ts';
import { mapNisStatus } from '../../../src/sources/nis/map.ts';
import { parseStatusLines } from '../../../src/sources/nis/parse.ts';
import { fixtureLines, homeAssistantRecords } from './helpers.ts';

/**
 * Real captures (test/fixtures/nis, provenance in test/fixtures/PROVENANCE.md) mapped end to
 * end. The expected tables are written out by hand from the capture text.
 */

function mapFixture(name: string) {
  const warnings: string[] = [];
  const records = parseStatusLines(fixtureLines(name), warnings);
  assert.deepEqual(warnings, [], 'every line of a real capture parses');
  return mapNisStatus(records);
}

/** Flags of a healthy unit on mains with a full battery. */
const ONLINE_FULL: UpsFlags = {
  calibrating: false,
  trim: false,
  boost: false,
  online: true,
  on_battery: false,
  overload: false,
  low_battery: false,
  replace_battery: false,
  comm_lost: false,
  shutting_down: false,
  battery_missing: false,
  discharging: false,
  charging: false,
  test_in_progress: false,
};

describe('mapNisStatus on real captures', () => {
  it('apcupsd 3.14.14, Back-UPS XS 1400U on USB, online', () => {
    const expected: UpsData = {
      ...ONLINE_FULL,
      manufacturer: 'APC',
      status_data: '001,036,0881',
      sampled_at: '2022-11-13T11:40:25+01:00',
      daemon_hostname: 'apcupsdMqtt',
      daemon_version: '3.14.14 (31 May 2016) debian',
      ups_name: 'apcupsdMqtt',
      cable: 'USB Cable',
      driver: 'USB UPS Driver',
      ups_mode: 'Stand Alone',
      daemon_started_at: '2022-11-13T11:40:22+01:00',
      model: 'Back-UPS XS 1400U',
      status_text: 'ONLINE',
      input_voltage_v: 232,
      load_pct: 9,
      battery_charge_pct: 100,
      runtime_s: 4218,
      shutdown_charge_pct: 5,
      shutdown_runtime_s: 180,
      max_time_on_battery_s: 0,
      sensitivity: 'medium',
      transfer_low_v: 155,
      transfer_high_v: 280,
      alarm_mode: '30 Seconds',
      battery_voltage_v: 27.1,
      last_transfer_reason: 'Automatic or explicit self test',
      transfers: 0,
      time_on_battery_s: 0,
      cumulative_on_battery_s: 0,
      self_test_result: 'none',
      status_flags: '0x05000008',
      serial_number: '4B1948P07984',
      battery_date: '2019-11-27',
      input_voltage_nominal_v: 230,
      battery_voltage_nominal_v: 24,
      nominal_power_w: 700,
      firmware: '926.T2 .I USB FW:T2',
      reported_at: '2022-11-13T11:40:42+01:00',
      data_age_s: 17,
      load_w: 63,
    };
    const { data, unknown, warnings } = mapFixture(
      'apcupsd-3.14.14-back-ups-xs-1400u-usb-online.txt',
    );
    assert.deepEqual(data, expected);
    assert.deepEqual(unknown, {});
    assert.deepEqual(warnings, []);
  });

  it('apcupsd 3.14.14, Back-UPS RS 900G on USB, on battery', () => {
    const expected: UpsData = {
      ...ONLINE_FULL,
      online: false,
      on_battery: true,
      discharging: true,
      manufacturer: 'APC',
      status_data: '001,037,0930',
      sampled_at: '2018-06-10T19:02:47+01:00',
      daemon_hostname: 'GL-AR150-new',
      daemon_version: '3.14.14 (31 May 2016) unknown',
      ups_name: 'ups1',
      cable: 'USB Cable',
      driver: 'USB UPS Driver',
      ups_mode: 'Stand Alone',
      daemon_started_at: '2018-06-10T17:08:48+01:00',
      model: 'Back-UPS RS 900G',
      status_text: 'ONBATT',
      input_voltage_v: 0,
      load_pct: 0,
      battery_charge_pct: 27,
      runtime_s: 41004,
      shutdown_charge_pct: 5,
      shutdown_runtime_s: 180,
      max_time_on_battery_s: 0,
      sensitivity: 'medium',
      transfer_low_v: 176,
      transfer_high_v: 294,
      alarm_mode: 'No alarm',
      battery_voltage_v: 25.7,
      last_transfer_reason: 'No transfers since turnon',
      transfers: 2,
      last_on_battery_at: '2018-06-10T19:02:43+01:00',
      time_on_battery_s: 8,
      cumulative_on_battery_s: 5935,
      last_off_battery_at: '2018-06-10T18:48:07+01:00',
      self_test_result: 'passed',
      status_flags: '0x05060010',
      serial_number: '3B1733X16096',
      battery_date: '2017-08-19',
      input_voltage_nominal_v: 230,
      battery_voltage_nominal_v: 24,
      nominal_power_w: 540,
      firmware: '879.L4 .I USB FW:L4',
      reported_at: '2018-06-10T19:02:51+01:00',
      data_age_s: 4,
      load_w: 0,
    };
    const { data, unknown } = mapFixture('apcupsd-3.14.14-back-ups-rs-900g-usb-onbatt.txt');
    assert.deepEqual(data, expected);
    assert.deepEqual(unknown, {});
  });

  it('apcupsd 3.14.14, Smart-UPS RT 1000 XL on a Smart cable (full field set)', () => {
    const expected: UpsData = {
      ...ONLINE_FULL,
      manufacturer: 'APC',
      status_data: '001,052,1197',
      sampled_at: '2023-05-12T08:56:23+01:00',
      daemon_hostname: 'hostname',
      daemon_version: '3.14.14 (31 May 2016) freebsd',
      ups_name: 'UPS_IDEN',
      cable: 'Custom Cable Smart',
      driver: 'APC Smart UPS (any)',
      ups_mode: 'Stand Alone',
      daemon_started_at: '2023-05-12T08:56:09+01:00',
      model: 'Smart-UPS RT 1000 XL',
      status_text: 'ONLINE',
      input_voltage_v: 237.6,
      load_pct: 28,
      battery_charge_pct: 100,
      runtime_s: 2460,
      shutdown_charge_pct: 15,
      shutdown_runtime_s: 240,
      max_time_on_battery_s: 0,
      input_voltage_max_v: 239,
      input_voltage_min_v: 237.6,
      output_voltage_v: 231.6,
      sensitivity: 'auto',
      wake_delay_s: 0,
      shutdown_delay_s: 20,
      low_battery_warning_s: 120,
      transfer_low_v: 161,
      transfer_high_v: 253,
      restart_charge_pct: 0,
      internal_temp_c: 23.8,
      alarm_mode: '5 Seconds',
      battery_voltage_v: 54.5,
      input_frequency_hz: 49.9,
      last_transfer_reason: 'Automatic or explicit self test',
      transfers: 0,
      time_on_battery_s: 0,
      cumulative_on_battery_s: 0,
      self_test_result: 'none',
      self_test_interval: '336',
      status_flags: '0x05000008',
      dip_switch: '0x00',
      fault_register_1: '0x00',
      fault_register_2: '0x00',
      fault_register_3: '0x00',
      manufacture_date: '10/22/11',
      serial_number: 'QS1143231718',
      battery_date: '10/22/11',
      output_voltage_nominal_v: 230,
      battery_voltage_nominal_v: 48,
      external_batteries: 1,
      bad_batteries: 0,
      firmware: '411.8.I',
      reported_at: '2023-05-12T08:56:24+01:00',
      data_age_s: 1,
    };
    const { data, unknown } = mapFixture(
      'apcupsd-3.14.14-smart-ups-rt-1000-xl-apcsmart-online.txt',
    );
    assert.deepEqual(data, expected);
    assert.deepEqual(unknown, {});
  });

  it('apcupsd 3.14.2 format: ctime dates, padded numbers, verbose STATFLAG, APCMODEL', () => {
    const expected: UpsData = {
      ...ONLINE_FULL,
      manufacturer: 'APC',
      status_data: '001,037,0906',
      sampled_at: '2009-04-26T17:22:22-04:00',
      daemon_hostname: 'mail.kroptech.com',
      daemon_version: '3.14.2 (10 September 2007) redhat',
      ups_name: 'ups0',
      cable: 'USB Cable',
      model: 'Back-UPS RS 1500',
      apc_model: 'Back-UPS RS 1500',
      ups_mode: 'Stand Alone',
      daemon_started_at: '2009-04-26T10:22:46-04:00',
      status_text: 'ONLINE',
      input_voltage_v: 123,
      load_pct: 24,
      battery_charge_pct: 100,
      runtime_s: 8670,
      shutdown_charge_pct: 5,
      shutdown_runtime_s: 180,
      max_time_on_battery_s: 0,
      sensitivity: 'medium',
      transfer_low_v: 97,
      transfer_high_v: 138,
      alarm_mode: 'Always',
      battery_voltage_v: 26.8,
      last_transfer_reason: 'Low line voltage',
      transfers: 0,
      time_on_battery_s: 0,
      cumulative_on_battery_s: 0,
      self_test_result: 'none',
      status_flags: '0x07000008',
      manufacture_date: '2003-05-08',
      serial_number: 'JB0319033692',
      battery_date: '2001-09-25',
      input_voltage_nominal_v: 120,
      battery_voltage_nominal_v: 24,
      firmware: '8.g6 .D USB FW:g6',
      reported_at: '2009-04-26T17:22:32-04:00',
      data_age_s: 10,
    };
    const { data, unknown } = mapFixture('apcupsd-3.14.2-back-ups-rs-1500-usb-online.txt');
    assert.deepEqual(data, expected);
    assert.deepEqual(unknown, {});
  });

  it('apcupsd 3.10.17 format: RELEASE key, PDT dates, no battery-present bit', () => {
    const expected: UpsData = {
      ...ONLINE_FULL,
      manufacturer: 'APC',
      status_data: '001,035,0897',
      sampled_at: '2005-06-05T21:20:37-07:00',
      daemon_hostname: 'linux',
      daemon_version: '3.10.17 (18 March 2005) suse',
      ups_name: 'APC_BX1500',
      cable: 'USB Cable',
      model: 'Back-UPS RS 1500',
      apc_model: 'Back-UPS RS 1500',
      ups_mode: 'Stand Alone',
      daemon_started_at: '2005-06-05T20:29:25-07:00',
      status_text: 'ONLINE',
      input_voltage_v: 118,
      load_pct: 0,
      battery_charge_pct: 100,
      runtime_s: 44250,
      shutdown_charge_pct: 5,
      shutdown_runtime_s: 180,
      max_time_on_battery_s: 0,
      transfer_low_v: 97,
      transfer_high_v: 138,
      alarm_mode: 'Always',
      battery_voltage_v: 26.8,
      transfers: 2,
      last_on_battery_at: '2005-06-05T20:49:18-07:00',
      time_on_battery_s: 0,
      cumulative_on_battery_s: 7,
      last_off_battery_at: '2005-06-05T20:49:19-07:00',
      self_test_result: 'none',
      status_flags: '0x02000008',
      manufacture_date: '2005-02-15',
      serial_number: 'JB0416347259',
      battery_date: '2001-09-25',
      battery_voltage_nominal_v: 24,
      firmware: '.g9 .D USB FW:g9',
      reported_at: '2005-06-05T21:21:22-07:00',
      data_age_s: 45,
    };
    const { data, unknown } = mapFixture('apcupsd-3.10.17-back-ups-rs-1500-usb-online.txt');
    assert.deepEqual(data, expected);
    assert.deepEqual(unknown, { RELEASE: '3.10.17' });
  });

  it("Home Assistant's MOCK_STATUS (Back-UPS ES 600) given as key/value records", () => {
    const epoch = '1970-01-01T00:00:00+00:00';
    const expected: UpsData = {
      ...ONLINE_FULL,
      manufacturer: 'APC',
      status_data: '001,038,0985',
      sampled_at: epoch,
      daemon_version: '3.14.14 (31 May 2016) unknown',
      cable: 'USB Cable',
      driver: 'USB UPS Driver',
      ups_mode: 'Stand Alone',
      model: 'Back-UPS ES 600',
      status_text: 'ONLINE',
      input_voltage_v: 124,
      load_pct: 14,
      battery_charge_pct: 100,
      runtime_s: 3060,
      nominal_apparent_power_va: 60,
      internal_temp_c: 34.6,
      shutdown_charge_pct: 5,
      shutdown_runtime_s: 180,
      max_time_on_battery_s: 0,
      sensitivity: 'medium',
      transfer_low_v: 92,
      transfer_high_v: 139,
      alarm_mode: '30 Seconds',
      battery_voltage_v: 13.7,
      output_current_a: 0.88,
      last_transfer_reason: 'Automatic or explicit self test',
      transfers: 1,
      last_on_battery_at: epoch,
      time_on_battery_s: 0,
      cumulative_on_battery_s: 8,
      last_off_battery_at: epoch,
      last_self_test_at: epoch,
      self_test_result: 'none',
      self_test_interval: '7 days',
      status_flags: '0x05000008',
      serial_number: 'XXXXXXXXXXXX',
      battery_date: '1970-01-01',
      input_voltage_nominal_v: 120,
      battery_voltage_nominal_v: 12,
      nominal_power_w: 330,
      firmware: '928.a8 .D USB FW:a8',
      reported_at: epoch,
      data_age_s: 0,
      load_w: 46.2,
    };
    const { data, unknown, warnings } = mapNisStatus(homeAssistantRecords());
    assert.deepEqual(data, expected);
    assert.deepEqual(unknown, {});
    assert.deepEqual(warnings, []);
  });

  it('apcupsd 3.14.14, Back-UPS RS 1500MS2 (120 V), blanks stripped by GitHub', () => {
    const { data } = mapFixture('apcupsd-3.14.14-back-ups-rs-1500ms2-usb-online.txt');
    assert.equal(data.model, 'Back-UPS RS 1500MS2');
    assert.equal(data.last_transfer_reason, 'Unacceptable line voltage changes');
    assert.equal(data.serial_number, '0B2432L4XXXX');
    assert.equal(data.load_w, 27);
    assert.equal(data.runtime_s, 10800);
    assert.equal(data.data_age_s, 27);
    assert.equal(data.online, true);
  });

  it('apcupsd 3.7.2, Smart-UPS 1250 on 100 V: N/A fields absent, labelled registers, SHARE', () => {
    const { data, unknown } = mapFixture('apcupsd-3.7.2-smart-ups-1250-100v.txt');
    const picked = {
      sampled_at: data.sampled_at,
      model: data.model,
      ups_mode: data.ups_mode,
      input_voltage_v: data.input_voltage_v,
      transfer_low_v: data.transfer_low_v,
      wake_delay_s: data.wake_delay_s,
      low_battery_warning_s: data.low_battery_warning_s,
      restart_charge_pct: data.restart_charge_pct,
      internal_temp_c: data.internal_temp_c,
      alarm_mode: data.alarm_mode,
      max_time_on_battery_s: data.max_time_on_battery_s,
      status_flags: data.status_flags,
      dip_switch: data.dip_switch,
      fault_register_3: data.fault_register_3,
      output_voltage_nominal_v: data.output_voltage_nominal_v,
      online: data.online,
    };
    assert.deepEqual(picked, {
      sampled_at: '2000-09-11T13:51:14+09:00',
      model: 'APC Smart-UPS 1250',
      ups_mode: 'Net Master',
      input_voltage_v: 98.5,
      transfer_low_v: 85,
      wake_delay_s: 0,
      low_battery_warning_s: 120,
      restart_charge_pct: 90,
      internal_temp_c: 49,
      alarm_mode: '30 seconds',
      max_time_on_battery_s: 300,
      status_flags: '0x00000008',
      dip_switch: '0x00',
      fault_register_3: '0x00',
      output_voltage_nominal_v: 100,
      online: true,
    });
    for (const absent of [
      'fault_register_1',
      'fault_register_2',
      'ambient_humidity_pct',
      'ambient_temp_c',
      'external_batteries',
      'bad_batteries',
      'firmware',
      'daemon_started_at',
    ] as const) {
      assert.equal(data[absent], undefined, `${absent} is N/A or missing`);
    }
    assert.deepEqual(unknown, { RELEASE: '3.7.2', SHARE: 'NetworkUPS' });
  });

  it('apcupsd 3.9.7, Back-UPS 350: three-digit STATFLAG, CET dates', () => {
    const { data } = mapFixture('apcupsd-3.9.7-back-ups-350-usb.txt');
    assert.equal(data.status_flags, '0x00000008');
    assert.equal(data.online, true);
    assert.equal(data.firmware, '5.2.I USB FW: c1');
    assert.equal(data.transfers, 70);
    assert.equal(data.daemon_started_at, '2001-12-03T17:18:29+01:00');
    assert.equal(data.data_age_s, 42);
  });

  it('maps every capture in the folder without throwing or warnings', () => {
    const dir = fileURLToPath(new URL('../../fixtures/nis/', import.meta.url));
    const texts = readdirSync(dir).filter((f) => f.endsWith('.txt'));
    assert.equal(texts.length, 9);
    for (const name of texts) {
      const { data, warnings } = mapFixture(name);
      assert.deepEqual(warnings, [], name);
      assert.equal(data.manufacturer, 'APC', name);
      assert.equal(typeof data.online, 'boolean', name);
      assert.match(data.status_flags ?? '', /^0x[0-9A-F]{8}$/, name);
      assert.match(data.reported_at ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/, name);
    }
  });
});
