import { APCUPSD_SELF_TEST, APCUPSD_SENSITIVITY } from '../../core/apcupsd.ts';
import type { UpsData } from '../../core/state.ts';
import { deriveNisFlags } from './flags.ts';
import { type NisRecord, parseNisNumber, parseNisTimestamp, trimNis } from './parse.ts';

/**
 * Maps apcupsd `status` records onto the normalized model (docs/protocols/nis.md#status-fields, #mapping-to-the-state). Pure.
 * Tolerant of content (docs/protocols/nis.md#records-and-parsing): `N/A` and empty values mean absent; a value that does not
 * parse is left out, kept raw in `unknown` and described in `warnings`; unknown keys are
 * kept raw in `unknown`. Nothing here throws.
 */

/** The result of {@link mapNisStatus}. */
export interface NisStatusMapping {
  data: UpsData;
  /** Raw values of keys the model has no place for, and of values that did not parse. */
  unknown: Record<string, string>;
  warnings: string[];
}

type KeysOf<V> = {
  [K in keyof UpsData]-?: NonNullable<UpsData[K]> extends V ? K : never;
}[keyof UpsData];
type NumberKey = KeysOf<number>;
type TextKey = Exclude<KeysOf<string>, 'self_test_result' | 'sensitivity'>;

/** Raw values the flag derivation needs besides `data`. */
interface Scratch {
  statflag?: number;
  status?: string;
  selfTestCode?: string;
  apcModel?: string;
}

/** Stores one value; returns false when it does not parse. */
type Handler = (value: string, data: UpsData, scratch: Scratch) => boolean;

const text =
  (key: TextKey): Handler =>
  (value, data) => {
    data[key] = value;
    return true;
  };

/** A number from the first token, times `factor` (minutes → seconds), rounded when scaled. */
const num =
  (key: NumberKey, factor = 1): Handler =>
  (value, data) => {
    const n = parseNisNumber(value);
    if (n === undefined) return false;
    data[key] = factor === 1 ? n : Math.round(n * factor);
    return true;
  };

/**
 * A shutdown threshold: apcupsd prints `-1` for one it has disabled (`MBATTCHG : -1 Percent`,
 * `MINTIMEL : -1 Minutes`), which is no value rather than a negative charge or duration.
 */
const threshold =
  (key: NumberKey, factor = 1): Handler =>
  (value, data, scratch) => {
    const n = parseNisNumber(value);
    if (n === undefined) return false;
    if (n < 0) return true;
    return num(key, factor)(value, data, scratch);
  };

const time =
  (key: TextKey): Handler =>
  (value, data) => {
    const iso = parseNisTimestamp(value);
    if (iso === undefined) return false;
    data[key] = iso;
    return true;
  };

/** Old releases append a label (`0x00 Dip Switch`, `0x00 Register 1`): keep the code only. */
const hexCode =
  (key: TextKey): Handler =>
  (value, data) => {
    const token = value.split(/\s+/, 1)[0] ?? '';
    if (!/^0x[0-9a-f]+$/i.test(token)) return false;
    data[key] = token;
    return true;
  };

/** One row per key apcupsd can send (3.14.14 docs/protocols/nis.md#status-fields, plus older releases' keys). */
const FIELDS: Readonly<Record<string, Handler>> = {
  APC: text('status_data'),
  DATE: time('sampled_at'),
  HOSTNAME: text('daemon_hostname'),
  VERSION: text('daemon_version'),
  UPSNAME: text('ups_name'),
  CABLE: text('cable'),
  DRIVER: text('driver'),
  UPSMODE: text('ups_mode'),
  STARTTIME: time('daemon_started_at'),
  // An NIS slave that never reached its master says so instead of a time (docs/protocols/nis.md#status-fields).
  MASTERUPD: (value, data, scratch) =>
    /^no connection to master$/i.test(value) || time('master_updated_at')(value, data, scratch),
  MODEL: text('model'),
  // ≤ 3.14.9: a 3-letter code on Smart units, the model on USB; only a stand-in for MODEL.
  // Also its own field: Home Assistant's core integration shows it, and it is the device's
  // model id in discovery.
  APCMODEL: (value, data, scratch) => {
    scratch.apcModel = value;
    data.apc_model = value;
    return true;
  },
  STATUS: (value, data, scratch) => {
    scratch.status = value;
    data.status_text = value;
    return true;
  },
  LINEV: num('input_voltage_v'),
  LOADPCT: num('load_pct'),
  LOADAPNT: num('load_apparent_pct'),
  BCHARGE: num('battery_charge_pct'),
  TIMELEFT: num('runtime_s', 60),
  MBATTCHG: threshold('shutdown_charge_pct'),
  MINTIMEL: threshold('shutdown_runtime_s', 60),
  MAXTIME: num('max_time_on_battery_s'),
  MAXLINEV: num('input_voltage_max_v'),
  MINLINEV: num('input_voltage_min_v'),
  OUTPUTV: num('output_voltage_v'),
  SENSE: (value, data) => {
    const word = value.toUpperCase().replace(/\s+/g, ' ');
    // apcupsd prints `Unknown` when it could not read the setting: that is no value.
    if (word === 'UNKNOWN') return true;
    const sensitivity = APCUPSD_SENSITIVITY[word];
    if (sensitivity === undefined) return false;
    data.sensitivity = sensitivity;
    return true;
  },
  DWAKE: num('wake_delay_s'),
  DSHUTD: num('shutdown_delay_s'),
  DLOWBATT: num('low_battery_warning_s', 60),
  LOTRANS: num('transfer_low_v'),
  HITRANS: num('transfer_high_v'),
  RETPCT: num('restart_charge_pct'),
  ITEMP: num('internal_temp_c'),
  ALARMDEL: text('alarm_mode'),
  BATTV: num('battery_voltage_v'),
  LINEFREQ: num('input_frequency_hz'),
  OUTCURNT: num('output_current_a'),
  LASTXFER: text('last_transfer_reason'),
  NUMXFERS: num('transfers'),
  XONBATT: time('last_on_battery_at'),
  TONBATT: num('time_on_battery_s'),
  CUMONBATT: num('cumulative_on_battery_s'),
  XOFFBATT: time('last_off_battery_at'),
  // The spelling of some releases (Home Assistant's core integration knows both).
  XOFFBAT: time('last_off_battery_at'),
  LASTSTEST: time('last_self_test_at'),
  SELFTEST: (value, data, scratch) => {
    scratch.selfTestCode = value;
    // `??` is apcupsd saying it does not know the result: no value, not a result.
    if (value === '??') return true;
    const result = APCUPSD_SELF_TEST[value.toUpperCase()];
    data.self_test_result = result ?? 'other';
    if (result === undefined) data.self_test_code = value;
    return true;
  },
  STESTI: text('self_test_interval'),
  STATFLAG: (value, data, scratch) => {
    const flags = parseStatFlag(value);
    if (flags === undefined) return false;
    scratch.statflag = flags;
    data.status_flags = `0x${flags.toString(16).toUpperCase().padStart(8, '0')}`;
    return true;
  },
  DIPSW: hexCode('dip_switch'),
  REG1: hexCode('fault_register_1'),
  REG2: hexCode('fault_register_2'),
  REG3: hexCode('fault_register_3'),
  MANDATE: text('manufacture_date'),
  SERIALNO: text('serial_number'),
  BATTDATE: text('battery_date'),
  NOMOUTV: num('output_voltage_nominal_v'),
  NOMINV: num('input_voltage_nominal_v'),
  NOMBATTV: num('battery_voltage_nominal_v'),
  NOMPOWER: num('nominal_power_w'),
  NOMAPNT: num('nominal_apparent_power_va'),
  HUMIDITY: num('ambient_humidity_pct'),
  AMBTEMP: num('ambient_temp_c'),
  EXTBATTS: num('external_batteries'),
  BADBATTS: num('bad_batteries'),
  FIRMWARE: text('firmware'),
  'END APC': time('reported_at'),
  LINEFAIL: text('input_status'),
  BATTSTAT: text('battery_status'),
};

/**
 * STATFLAG is `0x%08X` since 3.14.12; older releases print `0x07000008 Status Flag`,
 * `0x008 Status Flag` or `0x08 Status Flag`. Returns the 32-bit value or undefined.
 */
function parseStatFlag(value: string): number | undefined {
  const m = /^0x([0-9a-f]{1,8})(?:\s|$)/i.exec(value);
  return m?.[1] === undefined ? undefined : Number.parseInt(m[1], 16);
}

/**
 * Duplicate keys without a Set per reply (its growth was ~4 % of what a poll of a changing
 * UPS allocates): each key remembers the number of the last mapping that saw it. The map
 * holds the keys servers send (a few dozen: FIELDS knows 66); it is emptied before a
 * mapping once it holds more than MAX_KEYS_SEEN, so odd servers can make it hold ~1 MiB at
 * most (those plus one reply's 512 lines of at most 1 KiB: client.ts, framing.ts).
 */
const lastSeenIn = new Map<string, number>();
let mappings = 0;
const MAX_KEYS_SEEN = 512;

/** A number for the next mapping, never one that a key in `lastSeenIn` still holds. */
function nextMapping(): number {
  mappings = mappings >= 0x3fff_ffff ? 1 : mappings + 1;
  if (mappings === 1 || lastSeenIn.size > MAX_KEYS_SEEN) lastSeenIn.clear();
  return mappings;
}

/**
 * Maps status records (as from `parseStatusLines`) to {@link UpsData}. A key sent twice
 * keeps its last value, with a warning.
 */
export function mapNisStatus(records: readonly NisRecord[]): NisStatusMapping {
  const data: UpsData = { manufacturer: 'APC' }; // apcupsd drives APC units only
  const unknown: Record<string, string> = {};
  const warnings: string[] = [];
  const scratch: Scratch = {};
  const mapping = nextMapping();

  for (const { key, value } of records) {
    if (lastSeenIn.get(key) === mapping) {
      warnings.push(`NIS key ${key} sent more than once; the last value wins`);
    }
    lastSeenIn.set(key, mapping);
    const handler = FIELDS[key];
    if (handler === undefined) {
      unknown[key] = value;
      continue;
    }
    // Missing capability is `N/A` or an empty value in older releases (docs/protocols/nis.md#records-and-parsing): absent.
    if (value === '' || (value.length === 3 && value.toUpperCase() === 'N/A')) continue;
    if (!handler(value, data, scratch)) {
      unknown[key] = value;
      warnings.push(`NIS ${key} value ${JSON.stringify(value)} does not parse; left out`);
    }
  }

  if (data.model === undefined && scratch.apcModel !== undefined) data.model = scratch.apcModel;
  addDerived(data);
  const flags = deriveNisFlags({
    statflag: scratch.statflag,
    status: scratch.status,
    batteryChargePct: data.battery_charge_pct,
    selfTestCode: scratch.selfTestCode,
    lastTransfer: data.last_transfer_reason,
  });
  // In place rather than `{ ...data, ...flags }`: the same keys in the same order, but adding
  // keys to a spread copy of a ~50-key object builds a new hidden class on every poll (~20 µs).
  Object.assign(data, flags);
  return { data, unknown, warnings };
}

/** The two lines apcupsd writes afresh for every request, and the fields they fill. */
const STAMPS: Readonly<Record<string, 'sampled_at' | 'reported_at'>> = {
  DATE: 'sampled_at',
  'END APC': 'reported_at',
};

/**
 * The mapping of a reply that repeats the previous one except for its time stamps: what a
 * poll of an unchanged UPS gets (apcupsd re-stamps DATE and END APC on every request). Gives
 * `prevData` with `sampled_at`, `reported_at` and `data_age_s` taken from the new stamps, in
 * the same key order, i.e. what {@link mapNisStatus} gives for `lines`; without parsing or
 * mapping the ~50 lines that did not change. Undefined when any other line differs, a stamp
 * line moved or does not parse, or `prevData` lacks one of those fields: then map in full.
 * `prevData` must come from a mapping of `prevLines` without warnings (one of each key).
 */
export function remapStamps(
  prevLines: readonly string[],
  prevData: UpsData,
  lines: readonly string[],
): UpsData | undefined {
  if (lines.length !== prevLines.length) return undefined;
  let sampled = prevData.sampled_at;
  let reported = prevData.reported_at;
  if (sampled === undefined || reported === undefined || prevData.data_age_s === undefined) {
    return undefined;
  }
  // First only find the changed lines: a UPS with a new value is told apart before any
  // stamp is parsed (at most the two stamps may differ).
  let first = -1;
  let second = -1;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === prevLines[i]) continue;
    if (first < 0) first = i;
    else if (second < 0) second = i;
    else return undefined;
  }
  for (const i of [first, second]) {
    if (i < 0) continue;
    const line = lines[i] as string;
    const colon = line.indexOf(':');
    if (colon < 0) return undefined;
    const field = STAMPS[trimNis(line.slice(0, colon)).toUpperCase()];
    if (field === undefined || !(prevLines[i] as string).startsWith(line.slice(0, colon + 1))) {
      return undefined;
    }
    const iso = parseNisTimestamp(line.slice(colon + 1));
    if (iso === undefined) return undefined;
    if (field === 'sampled_at') sampled = iso;
    else reported = iso;
  }
  const age = dataAgeS(reported, sampled);
  if (age === undefined) return undefined;
  // The keys and order of prevData (see buildState for why key by key).
  const src = prevData as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(src)) copy[key] = src[key];
  const data = copy as UpsData;
  data.sampled_at = sampled;
  data.reported_at = reported;
  data.data_age_s = age;
  return data;
}

/** Seconds between apcupsd's last reading of the UPS and its report, or undefined. */
function dataAgeS(reportedAt: string, sampledAt: string): number | undefined {
  const ms = Date.parse(reportedAt) - Date.parse(sampledAt);
  return Number.isFinite(ms) ? Math.round(ms / 1000) : undefined;
}

/** Values computed from others: data age (docs/protocols/nis.md#connections-and-timeouts staleness) and real power. */
function addDerived(data: UpsData): void {
  if (data.reported_at !== undefined && data.sampled_at !== undefined) {
    const age = dataAgeS(data.reported_at, data.sampled_at);
    if (age !== undefined) data.data_age_s = age;
  }
  // Load in watts only from a measured percentage: the nominal rating alone is never the load.
  if (data.load_pct !== undefined && data.nominal_power_w !== undefined) {
    data.load_w = Math.round((data.load_pct * data.nominal_power_w) / 10) / 10;
  }
}
