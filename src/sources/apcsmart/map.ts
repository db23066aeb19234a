import type { SelfTestResult, Sensitivity, UpsData } from '../../core/state.ts';
import { CTRL_A } from './codes.ts';

/**
 * Smart replies → the normalized state (docs/protocols/apcsmart.md#queries, #status-byte-and-code-tables, #mapping-to-the-state). Pure and table-driven:
 * one handler per request letter. Replies keep their leading zeros (`009.1`, `0042:`), so
 * numbers are parsed, not copied. Wording of enumerations follows apcupsd (docs/protocols/nis.md#status-fields), so a UPS
 * read directly and the same UPS read through apcupsd's NIS publish the same text.
 */

type NumberKey = {
  [K in keyof UpsData]-?: NonNullable<UpsData[K]> extends number ? K : never;
}[keyof UpsData];
type TextKey = Exclude<
  { [K in keyof UpsData]-?: NonNullable<UpsData[K]> extends string ? K : never }[keyof UpsData],
  'sensitivity' | 'self_test_result'
>;

/** Returns false when the reply cannot be read; it is then reported as unknown. */
type Handler = (reply: string, data: UpsData) => boolean;

const NUMBER = /^[+-]?\d+(?:\.\d+)?$/;

/** A Smart number: leading zeros allowed, trailing blanks and the runtime's `:` ignored. */
export function parseSmartNumber(reply: string): number | undefined {
  const t = reply.replace(/:$/, '').trim();
  return NUMBER.test(t) ? Number(t) : undefined;
}

/** Strings may carry trailing blanks (`SMART-UPS 420   `) and NULs (serial `n`). */
export function cleanText(reply: string): string {
  return reply.replace(/[\0\s]+$/, '').replace(/^\s+/, '');
}

const num =
  (key: NumberKey, scale = 1): Handler =>
  (reply, data) => {
    const n = parseSmartNumber(reply);
    if (n === undefined) return false;
    data[key] = Math.round(n * scale * 1000) / 1000;
    return true;
  };

const text =
  (key: TextKey): Handler =>
  (reply, data) => {
    const t = cleanText(reply);
    if (t === '') return false;
    data[key] = t;
    return true;
  };

/** A register as `0xNN`, the form apcupsd's NIS uses (DIPSW, REG1–3). */
const register =
  (key: 'dip_switch' | 'fault_register_1' | 'fault_register_2' | 'fault_register_3'): Handler =>
  (reply, data) => {
    const v = parseHexByte(reply);
    if (v === undefined) return false;
    data[key] = `0x${v.toString(16).toUpperCase().padStart(2, '0')}`;
    return true;
  };

/** A hex byte (`08`, `FF`), or undefined. */
export function parseHexByte(reply: string): number | undefined {
  const t = reply.trim();
  return /^[0-9a-fA-F]{1,2}$/.test(t) ? Number.parseInt(t, 16) : undefined;
}

/** `Q` status bits (docs/protocols/apcsmart.md#status-byte-and-code-tables; the low byte of apcupsd's STATFLAG). */
export const STATUS_BITS = {
  calibrating: 0x01,
  trim: 0x02,
  boost: 0x04,
  online: 0x08,
  on_battery: 0x10,
  overload: 0x20,
  low_battery: 0x40,
  replace_battery: 0x80,
} as const;

/** The flags of one `Q` byte. All bits clear means the output is off (NUT's `OFF`). */
export function statusFlags(q: number): UpsData {
  const data: UpsData = {};
  for (const [key, mask] of Object.entries(STATUS_BITS)) {
    data[key as keyof typeof STATUS_BITS] = (q & mask) !== 0;
  }
  data.discharging = data.on_battery === true;
  data.output_off = q === 0;
  return data;
}

/** `G` letters in apcupsd's LASTXFER words (docs/protocols/apcsmart.md#status-byte-and-code-tables, docs/protocols/nis.md#status-fields). */
export const TRANSFER_REASONS: Readonly<Record<string, string>> = {
  R: 'Unacceptable line voltage changes',
  H: 'High line voltage',
  L: 'Low line voltage',
  T: 'Line voltage notch or spike',
  O: 'No transfers since turnon',
  S: 'Automatic or explicit self test',
  K: 'Forced by software',
};

const SELF_TEST: Readonly<Record<string, SelfTestResult>> = {
  OK: 'passed',
  BT: 'failed_capacity',
  NG: 'failed_load',
  NO: 'none',
};

const SENSITIVITY: Readonly<Record<string, Sensitivity>> = {
  H: 'high',
  M: 'medium',
  L: 'low',
  A: 'auto',
};

/** `k` in apcupsd's ALARMDEL words (docs/protocols/nis.md#status-fields). */
const ALARM: Readonly<Record<string, string>> = {
  '0': '5 Seconds',
  T: '30 Seconds',
  L: 'Low Battery',
  N: 'No alarm',
};

/** `e`: older firmware answers codes 00–03 for 0/15/25/90 %, newer the percentage (docs/protocols/apcsmart.md#queries). */
const RESTART_CODES: Readonly<Record<string, number>> = { '00': 0, '01': 15, '02': 25, '03': 90 };

const HANDLERS: Readonly<Record<string, Handler>> = {
  Q: (reply, data) => {
    const q = parseHexByte(reply);
    if (q === undefined) return false;
    Object.assign(data, statusFlags(q));
    return true;
  },
  f: num('battery_charge_pct'),
  j: num('runtime_s', 60),
  L: num('input_voltage_v'),
  M: num('input_voltage_max_v'),
  N: num('input_voltage_min_v'),
  O: num('output_voltage_v'),
  P: num('load_pct'),
  B: num('battery_voltage_v'),
  C: num('internal_temp_c'),
  F: num('input_frequency_hz'),
  G: (reply, data) => {
    const letter = reply.trim();
    if (letter === '') return false;
    data.last_transfer_reason = TRANSFER_REASONS[letter] ?? 'UNKNOWN EVENT';
    return TRANSFER_REASONS[letter] !== undefined;
  },
  X: (reply, data) => {
    const code = reply.trim();
    const result = SELF_TEST[code];
    data.self_test_result = result ?? 'other';
    if (result === undefined) data.self_test_code = code;
    return result !== undefined;
  },
  '7': register('dip_switch'),
  '~': register('fault_register_1'),
  "'": (reply, data) => {
    if (!register('fault_register_2')(reply, data)) return false;
    // REG2 bit 5: battery disconnected (docs/protocols/apcsmart.md#queries; apcupsd's NOBATT comes from it).
    data.battery_missing = ((parseHexByte(reply) ?? 0) & 0x20) !== 0;
    return true;
  },
  '8': register('fault_register_3'),
  '>': num('external_batteries'),
  '<': num('bad_batteries'),
  '/': num('output_current_a'),
  '\\': num('load_apparent_pct'),
  h: num('ambient_humidity_pct'),
  t: num('ambient_temp_c'),
  [CTRL_A]: text('model'),
  b: text('firmware'),
  n: text('serial_number'),
  m: text('manufacture_date'),
  x: text('battery_date'),
  c: text('ups_name'),
  g: num('battery_voltage_nominal_v'),
  o: num('output_voltage_nominal_v'),
  l: num('transfer_low_v'),
  u: num('transfer_high_v'),
  e: (reply, data) => {
    const t = reply.trim();
    const v = RESTART_CODES[t] ?? parseSmartNumber(t);
    if (v === undefined) return false;
    data.restart_charge_pct = v;
    return true;
  },
  p: num('shutdown_delay_s'),
  r: num('wake_delay_s'),
  q: num('low_battery_warning_s', 60),
  k: (reply, data) => {
    const t = reply.trim();
    if (t === '') return false;
    data.alarm_mode = ALARM[t] ?? 'Always';
    return true;
  },
  s: (reply, data) => {
    const v = SENSITIVITY[reply.trim().toUpperCase()];
    // An unrecognised letter is left out (and reported as unread), never a made-up word.
    if (v !== undefined) data.sensitivity = v;
    return v !== undefined;
  },
  E: text('self_test_interval'),
};

/** The result of {@link mapSmartValues}. */
export interface SmartMapping {
  data: UpsData;
  /** Replies that could not be read, by request letter (`^A` for 0x01), raw. */
  unknown: Record<string, string>;
}

/**
 * Maps the latest reply of each letter (`NA` replies are simply absent) to UpsData. `V`
 * (old firmware code) stands in for `b` when `b` is missing; REG3 bits 3–4 (asleep after `@`,
 * shut down by `S`) also mean the output is off (docs/mqtt.md#keys).
 */
export function mapSmartValues(values: ReadonlyMap<string, string>): SmartMapping {
  const data: UpsData = { manufacturer: 'APC' };
  const unknown: Record<string, string> = {};
  for (const [letter, reply] of values) {
    const handler = HANDLERS[letter];
    if (handler === undefined) continue;
    if (!handler(reply, data)) unknown[letterName(letter)] = reply;
  }
  const v = values.get('V');
  if (data.firmware === undefined && v !== undefined && cleanText(v) !== '') {
    data.firmware = cleanText(v);
  }
  const reg3 = parseHexByte(values.get('8') ?? '');
  if (reg3 !== undefined && (reg3 & 0x18) !== 0) data.output_off = true;
  return { data, unknown };
}

function letterName(letter: string): string {
  const code = letter.charCodeAt(0);
  return code < 0x20 ? `^${String.fromCharCode(code + 0x40)}` : letter;
}
