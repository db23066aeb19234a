/**
 * The NIS server's formatting (src/servers/nis/format.ts): one row per field family and
 * quirk, real apcupsd captures reproduced line for line, exact bytes of a reply, and the
 * round trip through ups2mqtt's own NIS parser and mapper.
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UpsEvent } from '../../../src/core/events.ts';
import { deriveStatus, type UpsData, type UpsState } from '../../../src/core/state.ts';
import {
  formatNisEventLine,
  formatNisStatus,
  formatNisTimestamp,
  type NisStatusInput,
  nisLine,
  nisStatusFlag,
  nisStatusWords,
} from '../../../src/servers/nis/format.ts';
import { encodeNisReply } from '../../../src/servers/nis/protocol.ts';
import { classifyEventMessage, parseEventLine } from '../../../src/sources/nis/events.ts';
import { mapNisStatus } from '../../../src/sources/nis/map.ts';
import { parseStatusLines } from '../../../src/sources/nis/parse.ts';
import { toUpsData } from '../../../src/sources/sim/mapping.ts';
import { createSimState, step } from '../../../src/sources/sim/model.ts';
import { parseSimParams } from '../../../src/sources/sim/params.ts';
import { fixtureLines } from '../nis/helpers.ts';

const T0 = '2026-11-21T07:05:00.123+01:00';

function stateOf(data: UpsData, at = T0): UpsState {
  return { ...data, status: deriveStatus(data), updated_at: at };
}

function input(state: UpsState | undefined, over: Partial<NisStatusInput> = {}): NisStatusInput {
  return {
    state,
    available: true,
    upsName: 'rack',
    hostname: 'nas01',
    version: '3.14.14 (ups2mqtt 0.1.0) linux',
    startedAt: '2026-11-21T06:00:00+01:00',
    readingAt: T0,
    now: '2026-11-21T07:05:02+01:00',
    ...over,
  };
}

/** The reply as a key → value map (value without the newline, trailing blanks kept). */
function fields(lines: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    out.set(line.slice(0, colon).trim(), line.slice(colon + 2, -1));
  }
  return out;
}

describe('formatNisTimestamp', () => {
  const rows: [string, string | undefined][] = [
    ['2026-11-21T07:05:00.123+01:00', '2026-11-21 07:05:00 +0100  '],
    ['2026-11-21T07:05:00+01:00', '2026-11-21 07:05:00 +0100  '],
    ['2026-11-21T07:05:00Z', '2026-11-21 07:05:00 +0000  '],
    ['2026-11-21T07:05:00.9-05:30', '2026-11-21 07:05:00 -0530  '],
    ['2026-11-21 07:05:00 +0100', '2026-11-21 07:05:00 +0100  '],
    ['2026-11-21T07:05:00', undefined],
    ['yesterday', undefined],
  ];
  for (const [iso, expected] of rows) {
    it(`${iso} → ${JSON.stringify(expected)}`, () => {
      assert.equal(formatNisTimestamp(iso), expected);
    });
  }
});

describe('STATUS and STATFLAG from the flags', () => {
  const rows: [string, UpsData, string, number][] = [
    ['online', { online: true, on_battery: false }, 'ONLINE ', 0x05000008],
    ['on battery', { online: false, on_battery: true }, 'ONBATT ', 0x05060010],
    ['on battery and low', { on_battery: true, low_battery: true }, 'ONBATT LOWBATT ', 0x05060050],
    ['trim', { online: true, trim: true }, 'TRIM ONLINE ', 0x0500000a],
    ['boost', { online: true, boost: true }, 'BOOST ONLINE ', 0x0500000c],
    ['calibration on battery', { calibrating: true, on_battery: true }, 'CAL ONBATT ', 0x05060011],
    [
      'overload, replace battery',
      { online: true, overload: true, replace_battery: true },
      'ONLINE OVERLOAD REPLACEBATT ',
      0x050000a8,
    ],
    ['no battery', { online: true, battery_missing: true }, 'ONLINE NOBATT ', 0x01000008],
    ['comm lost replaces the words', { comm_lost: true }, 'COMMLOST ', 0x05000100],
    [
      'shutting down wins over comm lost',
      { comm_lost: true, shutting_down: true, on_battery: true },
      'SHUTTING DOWN',
      0x05060310,
    ],
    ['nothing known', {}, '', 0x05000000],
  ];
  for (const [name, flags, words, flag] of rows) {
    it(name, () => {
      assert.equal(nisStatusWords(flags), words);
      assert.equal(nisStatusFlag(flags), flag);
    });
  }
});

describe('formatNisStatus: one row per field family', () => {
  const rows: [string, UpsData, Record<string, string | undefined>][] = [
    [
      '%.1f with units',
      {
        battery_charge_pct: 100,
        input_voltage_v: 229.94,
        load_pct: 18,
        internal_temp_c: 25.8,
        input_frequency_hz: 50,
        battery_voltage_v: 27.2,
      },
      {
        BCHARGE: '100.0 Percent',
        LINEV: '229.9 Volts',
        LOADPCT: '18.0 Percent',
        ITEMP: '25.8 C',
        LINEFREQ: '50.0 Hz',
        BATTV: '27.2 Volts',
      },
    ],
    [
      'seconds shown as minutes',
      { runtime_s: 2700, shutdown_runtime_s: 180, low_battery_warning_s: 120 },
      { TIMELEFT: '45.0 Minutes', MINTIMEL: '3 Minutes', DLOWBATT: '2 Minutes' },
    ],
    [
      '%d with units, and bare counts',
      {
        shutdown_charge_pct: 15,
        max_time_on_battery_s: 0,
        wake_delay_s: 0,
        shutdown_delay_s: 20,
        time_on_battery_s: 8,
        cumulative_on_battery_s: 5935,
        transfers: 2,
        external_batteries: 1,
        bad_batteries: 0,
        output_voltage_nominal_v: 230,
        input_voltage_nominal_v: 230,
        nominal_power_w: 540,
        nominal_apparent_power_va: 900,
      },
      {
        MBATTCHG: '15 Percent',
        MAXTIME: '0 Seconds',
        DWAKE: '0 Seconds',
        DSHUTD: '20 Seconds',
        TONBATT: '8 Seconds',
        CUMONBATT: '5935 Seconds',
        NUMXFERS: '2',
        EXTBATTS: '1',
        BADBATTS: '0',
        NOMOUTV: '230 Volts',
        NOMINV: '230 Volts',
        NOMPOWER: '540 Watts',
        NOMAPNT: '900 VA',
      },
    ],
    [
      'transfer points and restart charge (%d.0)',
      { transfer_low_v: 161, transfer_high_v: 253, restart_charge_pct: 0 },
      { LOTRANS: '161.0 Volts', HITRANS: '253.0 Volts', RETPCT: '0.0 Percent' },
    ],
    ['output current %.2f Amps', { output_current_a: 0.8 }, { OUTCURNT: '0.80 Amps' }],
    ['sensitivity words', { sensitivity: 'auto' }, { SENSE: 'Auto Adjust' }],
    // No sensitivity (apcupsd's own "Unknown" reads as no value) prints no SENSE line.
    ['sensitivity absent', {}, { SENSE: undefined }],
    ['self-test codes', { self_test_result: 'failed_capacity' }, { SELFTEST: 'BT' }],
    ['self-test generic failure is NG', { self_test_result: 'failed' }, { SELFTEST: 'NG' }],
    [
      'self-test aborted has no apcupsd code',
      { self_test_result: 'aborted' },
      { SELFTEST: undefined },
    ],
    [
      'a raw self-test code the source kept',
      { self_test_result: 'other', self_test_code: 'ZZ' },
      { SELFTEST: 'ZZ' },
    ],
    [
      'timestamps',
      {
        last_on_battery_at: '2018-06-10T19:02:43+01:00',
        last_off_battery_at: '2018-06-10T18:48:07+01:00',
        last_self_test_at: '2018-06-10T17:00:00Z',
      },
      {
        XONBATT: '2018-06-10 19:02:43 +0100  ',
        XOFFBATT: '2018-06-10 18:48:07 +0100  ',
        LASTSTEST: '2018-06-10 17:00:00 +0000  ',
      },
    ],
    [
      'beeper in NUT words becomes what apcupsd USB prints',
      { alarm_mode: 'disabled' },
      { ALARMDEL: 'No alarm' },
    ],
    ['beeper enabled', { alarm_mode: 'enabled' }, { ALARMDEL: '30 Seconds' }],
    ['apcupsd beeper words pass', { alarm_mode: '5 Seconds' }, { ALARMDEL: '5 Seconds' }],
    [
      'identity and text',
      {
        model: 'Back-UPS RS 900G',
        serial_number: '3B1733X16096',
        firmware: '879.L4 .I USB FW:L4',
        battery_date: '2017-08-19',
        manufacture_date: '10/22/11',
        last_transfer_reason: 'Low line voltage',
        self_test_interval: '336',
        dip_switch: '0x00',
        fault_register_1: '0x00',
        cable: 'USB Cable',
        driver: 'USB UPS Driver',
      },
      {
        MODEL: 'Back-UPS RS 900G',
        SERIALNO: '3B1733X16096',
        FIRMWARE: '879.L4 .I USB FW:L4',
        BATTDATE: '2017-08-19',
        MANDATE: '10/22/11',
        LASTXFER: 'Low line voltage',
        STESTI: '336',
        DIPSW: '0x00',
        REG1: '0x00',
        CABLE: 'USB Cable',
        DRIVER: 'USB UPS Driver',
      },
    ],
    [
      'UPSNAME: the name stored in the UPS wins over the configured id',
      { ups_name: 'UPS_IDEN' },
      { UPSNAME: 'UPS_IDEN' },
    ],
    ['UPSNAME: the configured id otherwise', {}, { UPSNAME: 'rack', UPSMODE: 'Stand Alone' }],
    [
      'absent values are left out, never N/A',
      { online: true },
      { BCHARGE: undefined, TIMELEFT: undefined, XOFFBATT: undefined, MODEL: undefined },
    ],
    ['non-finite numbers are left out', { load_pct: Number.NaN }, { LOADPCT: undefined }],
    [
      'control characters cannot break a line',
      { model: 'Evil\nSTATUS   : ONBATT' },
      { MODEL: 'Evil STATUS   : ONBATT' },
    ],
  ];
  for (const [name, data, expected] of rows) {
    it(name, () => {
      const got = fields(formatNisStatus(input(stateOf(data))));
      for (const [key, value] of Object.entries(expected)) {
        assert.equal(got.get(key), value, key);
      }
    });
  }

  it('a line longer than apcupsd allows is cut at 255 bytes', () => {
    const lines = formatNisStatus(input(stateOf({ model: 'x'.repeat(400) })));
    const model = lines.find((l) => l.startsWith('MODEL'));
    assert.equal(Buffer.byteLength(model ?? ''), 255);
    assert.ok(model?.endsWith('x\n'));
  });

  it('header counts the records and bytes that follow', () => {
    const lines = formatNisStatus(input(stateOf({ online: true, battery_charge_pct: 50 })));
    const rest = lines.slice(1);
    const bytes = rest.reduce((n, l) => n + Buffer.byteLength(l), 0);
    assert.equal(
      lines[0],
      `APC      : 001,${String(rest.length).padStart(3, '0')},${String(bytes).padStart(4, '0')}\n`,
    );
  });

  it('9-letter keys have no space before the colon; END APC keeps its space', () => {
    assert.equal(nisLine('STARTTIME', 'x'), 'STARTTIME: x\n');
    assert.equal(nisLine('CUMONBATT', '0 Seconds'), 'CUMONBATT: 0 Seconds\n');
    assert.equal(nisLine('END APC', 'x'), 'END APC  : x\n');
    assert.equal(nisLine('BCHARGE', '100.0 Percent'), 'BCHARGE  : 100.0 Percent\n');
  });
});

describe('formatNisStatus: a UPS that cannot be read', () => {
  const full = stateOf({
    model: 'Smart-UPS 1500',
    serial_number: 'AS123',
    firmware: 'f1',
    online: true,
    on_battery: false,
    battery_charge_pct: 80,
    runtime_s: 600,
    input_voltage_v: 230,
  });

  for (const [name, over] of [
    ['availability offline', { available: false }],
    ['no state yet', { state: undefined }],
    ['state says comm_lost', { state: { ...full, comm_lost: true } }],
  ] as const) {
    it(`${name}: COMMLOST, identity only, no measurement`, () => {
      const lines = formatNisStatus(input(full, over as Partial<NisStatusInput>));
      const got = fields(lines);
      assert.equal(got.get('STATUS'), 'COMMLOST ');
      assert.equal(got.get('STATFLAG'), '0x05000100');
      for (const key of ['BCHARGE', 'TIMELEFT', 'LINEV', 'LOADPCT', 'SELFTEST']) {
        assert.equal(got.has(key), false, key);
      }
      if (over.state !== undefined || !('state' in over)) {
        assert.equal(got.get('MODEL'), 'Smart-UPS 1500');
        assert.equal(got.get('SERIALNO'), 'AS123');
      }
      assert.equal(got.get('DATE'), '2026-11-21 07:05:00 +0100  ');
      assert.equal(got.get('END APC'), '2026-11-21 07:05:02 +0100  ');
    });
  }
});

describe('formatNisStatus reproduces real apcupsd 3.14.14 captures', () => {
  // Keys that describe the daemon rather than the UPS: ours differ by design.
  const DAEMON_KEYS = new Set(['APC', 'HOSTNAME', 'VERSION', 'STARTTIME', 'END APC', 'DATE']);
  for (const name of [
    'apcupsd-3.14.14-smart-ups-rt-1000-xl-apcsmart-online.txt',
    'apcupsd-3.14.14-back-ups-rs-900g-usb-onbatt.txt',
    'apcupsd-3.14.14-back-ups-xs-1400u-usb-online.txt',
    'apcupsd-3.14.14-back-ups-rs-1500ms2-usb-online.txt',
  ]) {
    it(name, () => {
      const original = fixtureLines(name);
      const { data } = mapNisStatus(parseStatusLines(original));
      const lines = formatNisStatus(input(stateOf(data), { upsName: undefined }));
      const keep = (key: string, value: string) => !DAEMON_KEYS.has(key) && value !== 'N/A';
      const expected = original
        .map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()])
        .filter(([k, v]) => keep(k ?? '', v ?? ''));
      const got = lines
        .map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()])
        .filter(([k, v]) => keep(k ?? '', v ?? ''));
      // Same keys, same order, same text (apcupsd's trailing blanks aside).
      assert.deepEqual(got, expected);
    });
  }
});

describe('round trip: parse(format(state)) gives the state back', () => {
  /** Keys whose NIS form has less resolution: minutes with one decimal (6 s). */
  const MINUTES = new Set(['runtime_s', 'shutdown_runtime_s', 'low_battery_warning_s']);
  /** Keys the NIS server does not carry from the UPS (the daemon's own, or no NIS field). */
  const NOT_CARRIED = new Set([
    'status',
    'updated_at',
    'manufacturer',
    'output_frequency_hz',
    'load_w',
    'charging',
    'discharging',
    'output_off',
    'test_in_progress',
    'alarm_mode',
  ]);

  function roundTrip(state: UpsState): UpsData {
    const lines = formatNisStatus(input(state));
    const warnings: string[] = [];
    const records = parseStatusLines(
      lines.map((l) => l.slice(0, -1)),
      warnings,
    );
    const mapped = mapNisStatus(records);
    assert.deepEqual(warnings, []);
    assert.deepEqual(mapped.warnings, []);
    return mapped.data;
  }

  function assertSame(state: UpsState, back: UpsData): void {
    for (const [key, value] of Object.entries(state)) {
      if (NOT_CARRIED.has(key)) continue;
      const got = (back as Record<string, unknown>)[key];
      if (MINUTES.has(key)) {
        assert.ok(Math.abs((got as number) - (value as number)) <= 3, `${key}: ${got} vs ${value}`);
      } else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
        assert.equal(Date.parse(got as string), Math.floor(Date.parse(value) / 1000) * 1000, key);
      } else {
        assert.deepEqual(got, value, key);
      }
    }
  }

  it('a simulated UPS on mains, on battery, and after the outage', () => {
    const settings = parseSimParams({ model: 'smart_ups_1500', params: { seed: '7' } });
    let sim = createSimState(settings.config, settings.initial);
    const phases: UpsState[] = [stateOf(toUpsData(sim))];
    sim = { ...sim, mainsPresent: false };
    sim = step(sim, 90_000, '2026-11-21T07:06:30.500+01:00');
    phases.push(stateOf(toUpsData(sim)));
    sim = { ...sim, mainsPresent: true };
    sim = step(sim, 30_000, '2026-11-21T07:07:00+01:00');
    phases.push(stateOf(toUpsData(sim)));
    assert.equal(phases[1]?.on_battery, true, 'the outage reached the model');
    for (const state of phases) assertSame(state, roundTrip(state));
  });

  it('every real 3.14.14 capture, mapped, formatted and mapped again', () => {
    for (const name of [
      'apcupsd-3.14.14-smart-ups-rt-1000-xl-apcsmart-online.txt',
      'apcupsd-3.14.14-back-ups-rs-900g-usb-onbatt.txt',
      'apcupsd-3.14.14-back-ups-xs-1400u-usb-online.txt',
    ]) {
      const { data } = mapNisStatus(parseStatusLines(fixtureLines(name)));
      const state = stateOf(data);
      const back = roundTrip(state);
      const skip = new Set([
        'daemon_hostname',
        'daemon_version',
        'daemon_started_at',
        'sampled_at',
        'reported_at',
        'data_age_s',
        'status_data',
        // apcupsd's internal bits are not the UPS's (the flags derived from them are compared).
        'status_flags',
      ]);
      for (const [key, value] of Object.entries(data)) {
        if (skip.has(key)) continue;
        assert.deepEqual((back as Record<string, unknown>)[key], value, `${name}: ${key}`);
      }
    }
  });
});

describe('formatNisEventLine', () => {
  const at = '2026-11-21T07:05:00.250+01:00';
  const rows: [UpsEvent['event_type'], string][] = [
    ['power_lost', 'Power failure.'],
    ['on_battery', 'Running on UPS batteries.'],
    ['power_restored', 'Power is back. UPS running on mains.'],
    ['low_battery', 'Battery power exhausted.'],
    ['replace_battery', 'UPS battery must be replaced.'],
    ['self_test_started', 'UPS Self Test switch to battery.'],
    ['self_test_completed', 'UPS Self Test completed.'],
    ['shutdown_initiated', 'Initiating system shutdown!'],
    ['comm_lost', 'Communications with UPS lost.'],
    ['comm_restored', 'Communications with UPS restored.'],
    ['battery_disconnected', 'Battery disconnected.'],
    ['battery_reattached', 'Battery reattached.'],
  ];
  for (const [type, message] of rows) {
    it(`${type} → apcupsd's "${message}", read back as ${type}`, () => {
      const line = formatNisEventLine({
        event_type: type,
        at,
        origin: 'state_change',
        message: 'x',
      });
      assert.equal(line, `2026-11-21 07:05:00 +0100  ${message}\n`);
      const parsed = parseEventLine(line?.slice(0, -1) ?? '');
      assert.equal(parsed?.at, '2026-11-21T07:05:00+01:00');
      assert.equal(classifyEventMessage(parsed?.message ?? ''), type);
    });
  }

  it('events apcupsd has no message for keep the bridge text', () => {
    assert.equal(
      formatNisEventLine({
        event_type: 'overload',
        at,
        origin: 'state_change',
        message: 'Output overloaded',
      }),
      '2026-11-21 07:05:00 +0100  Output overloaded\n',
    );
  });

  it("a line from apcupsd's own log is served as logged", () => {
    assert.equal(
      formatNisEventLine({
        event_type: 'self_test_completed',
        at,
        origin: 'source_log',
        message: 'UPS Self Test completed: Battery OK',
      }),
      '2026-11-21 07:05:00 +0100  UPS Self Test completed: Battery OK\n',
    );
  });

  it('an unreadable time gives no line', () => {
    assert.equal(
      formatNisEventLine({ event_type: 'other', at: 'now', origin: 'bridge' }),
      undefined,
    );
  });
});

describe('a status reply on the wire', () => {
  it('is exactly these bytes', () => {
    const state = stateOf({
      model: 'Back-UPS XS 1400U',
      online: false,
      on_battery: true,
      battery_charge_pct: 100,
      runtime_s: 2700,
      serial_number: 'SN1',
    });
    const wire = encodeNisReply(formatNisStatus(input(state)));
    const expected = [
      'APC      : 001,013,0349\n',
      'DATE     : 2026-11-21 07:05:00 +0100  \n',
      'HOSTNAME : nas01\n',
      'VERSION  : 3.14.14 (ups2mqtt 0.1.0) linux\n',
      'UPSNAME  : rack\n',
      'UPSMODE  : Stand Alone\n',
      'STARTTIME: 2026-11-21 06:00:00 +0100  \n',
      'MODEL    : Back-UPS XS 1400U\n',
      'STATUS   : ONBATT \n',
      'BCHARGE  : 100.0 Percent\n',
      'TIMELEFT : 45.0 Minutes\n',
      'STATFLAG : 0x05060010\n',
      'SERIALNO : SN1\n',
      'END APC  : 2026-11-21 07:05:02 +0100  \n',
    ];
    const parts: Buffer[] = [];
    for (const line of expected) {
      const head = Buffer.alloc(2);
      head.writeUInt16BE(Buffer.byteLength(line));
      parts.push(head, Buffer.from(line));
    }
    parts.push(Buffer.from([0, 0]));
    assert.equal(wire.toString('hex'), Buffer.concat(parts).toString('hex'));
    assert.equal(wire.subarray(0, 2).toString('hex'), '0018');
    assert.equal(wire.subarray(-2).toString('hex'), '0000');
  });
});
