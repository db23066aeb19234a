/**
 * The normalized state as apcupsd 3.14.14 prints it over NIS: the inverse of the NIS
 * source's mapping (src/sources/nis/map.ts). Pure: no sockets, no clock, no host lookups;
 * everything that is not in the state comes in through {@link NisStatusInput}.
 *
 * Rules (docs/nis-server.md): apcupsd's keys, order, value formats and units; a value the
 * state does not have is left out (never invented, never `N/A`); a UPS that cannot be read
 * is served as apcupsd serves a UPS it lost: `STATUS   : COMMLOST `, identity only.
 */
import {
  APCUPSD_BATTPRESENT_BIT,
  APCUPSD_FASTPOLL_BIT,
  APCUPSD_FLAG_BITS,
  APCUPSD_ONBATT_MSG_BIT,
  APCUPSD_PLUGGED_BIT,
  APCUPSD_SELF_TEST_CODE,
  APCUPSD_SENSE_TEXT,
} from '../../core/apcupsd.ts';
import type { EventType, UpsEvent } from '../../core/events.ts';
import type { UpsFlags, UpsState } from '../../core/state.ts';

/** What a `status` reply is built from. Times are ISO 8601 with an offset. */
export interface NisStatusInput {
  /** The last published state; undefined before the first reading. */
  state: UpsState | undefined;
  /** False while the bridge cannot read the UPS (availability offline): COMMLOST. */
  available: boolean;
  /** UPSNAME when the UPS stores no name of its own (the configured id). */
  upsName: string | undefined;
  /** HOSTNAME: the host ups2mqtt runs on. */
  hostname: string;
  /** VERSION, e.g. `3.14.14 (ups2mqtt 0.1.0) linux`. */
  version: string;
  /** STARTTIME: when this server started. */
  startedAt: string;
  /** DATE: when the UPS was last read successfully (frozen while it cannot be read). */
  readingAt: string;
  /** END APC: when this reply is produced. */
  now: string;
}

/** apcupsd formats each line into a 256-byte buffer (protocols: lines ≤ 255 bytes). */
export const NIS_MAX_LINE_BYTES = 255;

/** The status format revision in the `APC` header record. */
const STATUS_REVISION = '001';

/**
 * `2026-11-21T07:05:00.123+01:00` → `2026-11-21 07:05:00 +0100  ` (apcupsd 3.14.8+: the
 * offset kept as given, fractions dropped, two trailing spaces as apcupsd prints them).
 * Returns undefined for text that is not an ISO time with an offset or `Z`.
 */
export function formatNisTimestamp(iso: string): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.\d+)?\s?(Z|[+-]\d{2}:?\d{2})$/.exec(
    iso.trim(),
  );
  if (!m) return undefined;
  const zone = m[3] === 'Z' ? '+0000' : (m[3] ?? '').replace(':', '');
  return `${m[1]} ${m[2]} ${zone}  `;
}

/** STATFLAG as apcupsd computes it from the flags (`0x%08X` in the reply). */
export function nisStatusFlag(flags: UpsFlags): number {
  let value = APCUPSD_PLUGGED_BIT;
  // The battery counts as present unless the UPS says otherwise: a cleared bit would make
  // every client (and an apcupsd slave, which copies the bit) show NOBATT.
  if (flags.battery_missing !== true) value |= APCUPSD_BATTPRESENT_BIT;
  for (const [flag, bit] of APCUPSD_FLAG_BITS) if (flags[flag] === true) value |= bit;
  // On battery apcupsd also shows that it announced the outage and polls fast (real
  // captures: `0x05060010`); an apcupsd slave copies the fast-poll bit and follows at once.
  if (flags.on_battery === true) value |= APCUPSD_ONBATT_MSG_BIT | APCUPSD_FASTPOLL_BIT;
  return value >>> 0;
}

/**
 * STATUS as apcupsd builds it: each word followed by one space in its fixed order, then
 * `COMMLOST ` replaces everything, and `SHUTTING DOWN` (no trailing space) wins over that.
 */
export function nisStatusWords(flags: UpsFlags): string {
  if (flags.shutting_down === true) return 'SHUTTING DOWN';
  if (flags.comm_lost === true) return 'COMMLOST ';
  let words = '';
  for (const [flag, , word] of APCUPSD_FLAG_BITS) {
    if (flag === 'comm_lost' || flag === 'shutting_down') continue;
    if (flags[flag] === true) words += `${word} `;
  }
  if (flags.battery_missing === true) words += 'NOBATT ';
  return words;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** `%.1f <unit>` */
const f1 =
  (unit: string, scale = 1) =>
  (v: unknown): string | undefined =>
    isNum(v) ? `${(v / scale).toFixed(1)} ${unit}` : undefined;
/** `%d <unit>` (or bare `%d`) */
const d =
  (unit?: string, scale = 1) =>
  (v: unknown): string | undefined =>
    isNum(v) ? `${Math.round(v / scale)}${unit ? ` ${unit}` : ''}` : undefined;
const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v : undefined;
const time = (v: unknown): string | undefined =>
  typeof v === 'string' ? formatNisTimestamp(v) : undefined;

type Row = readonly [key: string, value: (s: UpsState) => string | undefined];

/**
 * The measurement and setting records, in apcupsd's order (protocols: "All status fields
 * apcupsd 3.14.14 can emit"), between STATUS and STATFLAG.
 */
const BODY_ROWS: readonly Row[] = [
  ['LINEV', (s) => f1('Volts')(s.input_voltage_v)],
  ['LOADPCT', (s) => f1('Percent')(s.load_pct)],
  ['LOADAPNT', (s) => f1('Percent')(s.load_apparent_pct)],
  ['BCHARGE', (s) => f1('Percent')(s.battery_charge_pct)],
  ['TIMELEFT', (s) => f1('Minutes', 60)(s.runtime_s)],
  ['MBATTCHG', (s) => d('Percent')(s.shutdown_charge_pct)],
  ['MINTIMEL', (s) => d('Minutes', 60)(s.shutdown_runtime_s)],
  ['MAXTIME', (s) => d('Seconds')(s.max_time_on_battery_s)],
  ['MAXLINEV', (s) => f1('Volts')(s.input_voltage_max_v)],
  ['MINLINEV', (s) => f1('Volts')(s.input_voltage_min_v)],
  ['OUTPUTV', (s) => f1('Volts')(s.output_voltage_v)],
  ['SENSE', (s) => (s.sensitivity === undefined ? undefined : APCUPSD_SENSE_TEXT[s.sensitivity])],
  ['DWAKE', (s) => d('Seconds')(s.wake_delay_s)],
  ['DSHUTD', (s) => d('Seconds')(s.shutdown_delay_s)],
  ['DLOWBATT', (s) => d('Minutes', 60)(s.low_battery_warning_s)],
  ['LOTRANS', (s) => f1('Volts')(s.transfer_low_v)],
  ['HITRANS', (s) => f1('Volts')(s.transfer_high_v)],
  ['RETPCT', (s) => f1('Percent')(s.restart_charge_pct)],
  ['ITEMP', (s) => f1('C')(s.internal_temp_c)],
  ['ALARMDEL', (s) => alarmText(s.alarm_mode)],
  ['BATTV', (s) => f1('Volts')(s.battery_voltage_v)],
  ['LINEFREQ', (s) => f1('Hz')(s.input_frequency_hz)],
  [
    'OUTCURNT',
    (s) => (isNum(s.output_current_a) ? `${s.output_current_a.toFixed(2)} Amps` : undefined),
  ],
  ['LASTXFER', (s) => text(s.last_transfer_reason)],
  ['NUMXFERS', (s) => d()(s.transfers)],
  ['XONBATT', (s) => time(s.last_on_battery_at)],
  ['TONBATT', (s) => d('Seconds')(s.time_on_battery_s)],
  ['CUMONBATT', (s) => d('Seconds')(s.cumulative_on_battery_s)],
  ['XOFFBATT', (s) => time(s.last_off_battery_at)],
  ['LASTSTEST', (s) => time(s.last_self_test_at)],
  ['SELFTEST', selfTestCode],
  ['STESTI', (s) => text(s.self_test_interval)],
];

/** The records after STATFLAG, in apcupsd's order. */
const TAIL_ROWS: readonly Row[] = [
  ['DIPSW', (s) => text(s.dip_switch)],
  ['REG1', (s) => text(s.fault_register_1)],
  ['REG2', (s) => text(s.fault_register_2)],
  ['REG3', (s) => text(s.fault_register_3)],
  ['MANDATE', (s) => text(s.manufacture_date)],
  ['SERIALNO', (s) => text(s.serial_number)],
  ['BATTDATE', (s) => text(s.battery_date)],
  ['NOMOUTV', (s) => d('Volts')(s.output_voltage_nominal_v)],
  ['NOMINV', (s) => d('Volts')(s.input_voltage_nominal_v)],
  ['NOMBATTV', (s) => f1('Volts')(s.battery_voltage_nominal_v)],
  ['NOMPOWER', (s) => d('Watts')(s.nominal_power_w)],
  ['NOMAPNT', (s) => d('VA')(s.nominal_apparent_power_va)],
  ['HUMIDITY', (s) => f1('Percent')(s.ambient_humidity_pct)],
  ['AMBTEMP', (s) => f1('C')(s.ambient_temp_c)],
  ['EXTBATTS', (s) => d()(s.external_batteries)],
  ['BADBATTS', (s) => d()(s.bad_batteries)],
  ['FIRMWARE', (s) => text(s.firmware)],
];

/**
 * ALARMDEL. HID and simulated UPSes word the beeper as NUT does (`ups.beeper.status`);
 * apcupsd's USB driver prints the same UPS setting as `No alarm` (disabled) or `30 Seconds`
 * (anything else). apcupsd's own words (Smart and NIS sources) pass unchanged.
 */
function alarmText(mode: string | undefined): string | undefined {
  if (mode === 'disabled') return 'No alarm';
  if (mode === 'enabled' || mode === 'muted') return '30 Seconds';
  return text(mode);
}

/** SELFTEST: the code for the result; a raw code the source kept when it was not known. */
function selfTestCode(s: UpsState): string | undefined {
  if (s.self_test_result === undefined) return undefined;
  if (s.self_test_result === 'other' && s.self_test_code !== undefined) {
    return text(s.self_test_code);
  }
  return APCUPSD_SELF_TEST_CODE[s.self_test_result];
}

/** Keys a lost UPS keeps: who it is, never what it measured (src/bridge/state.ts). */
const IDENTITY_KEYS = ['model', 'serial_number', 'firmware', 'ups_name'] as const;

/** The state a reply describes: the whole state, or identity plus COMMLOST. */
function servedState(input: NisStatusInput): UpsState {
  const s = input.state;
  const lost = !input.available || s === undefined || s.comm_lost === true;
  if (!lost) return s;
  const out: UpsState = {
    status: 'comm_lost',
    comm_lost: true,
    updated_at: s?.updated_at ?? input.now,
  };
  if (s) for (const key of IDENTITY_KEYS) if (s[key] !== undefined) out[key] = s[key];
  // A daemon that shut the host down says so even when it lost the UPS (apcupsd: SHUTTING
  // DOWN wins over COMMLOST).
  if (s?.shutting_down === true) out.shutting_down = true;
  return out;
}

/** One `KEY      : value\n` line: key left-justified in 9 columns, then `: ` (apcupsd). */
export function nisLine(key: string, value: string): string {
  // A value is one line: control characters would break the record layout.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, ' ');
  let line = `${key.padEnd(9)}: ${clean}`;
  while (Buffer.byteLength(line, 'utf8') + 1 > NIS_MAX_LINE_BYTES) line = line.slice(0, -1);
  return `${line}\n`;
}

/**
 * The lines of a `status` reply (each with its `\n`), header first:
 * `APC      : 001,NNN,BBBB` where NNN records of BBBB bytes follow.
 */
export function formatNisStatus(input: NisStatusInput): string[] {
  const s = servedState(input);
  const records: [string, string | undefined][] = [
    ['DATE', formatNisTimestamp(input.readingAt)],
    ['HOSTNAME', input.hostname],
    ['VERSION', input.version],
    ['UPSNAME', text(s.ups_name) ?? input.upsName],
    ['CABLE', text(s.cable)],
    ['DRIVER', text(s.driver)],
    ['UPSMODE', text(s.ups_mode) ?? 'Stand Alone'],
    ['STARTTIME', formatNisTimestamp(input.startedAt)],
    ['MODEL', text(s.model)],
    ['STATUS', nisStatusWords(s)],
    ...BODY_ROWS.map(([key, value]): [string, string | undefined] => [key, value(s)]),
    ['STATFLAG', `0x${nisStatusFlag(s).toString(16).toUpperCase().padStart(8, '0')}`],
    ...TAIL_ROWS.map(([key, value]): [string, string | undefined] => [key, value(s)]),
    ['END APC', formatNisTimestamp(input.now)],
  ];
  const lines = records
    .filter((r): r is [string, string] => r[1] !== undefined)
    .map(([key, value]) => nisLine(key, value));
  const bytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line, 'utf8'), 0);
  const header = `${STATUS_REVISION},${String(lines.length).padStart(3, '0')},${String(bytes).padStart(4, '0')}`;
  return [nisLine('APC', header), ...lines];
}

/**
 * apcupsd's event-log messages for the bridge's events (apcupsd 3.14.14 `action.c`), so
 * that clients that classify the log (ups2mqtt's own NIS source among them) read the same
 * event back. Events apcupsd has no message for keep the bridge's own text.
 */
const EVENT_MESSAGES: Partial<Readonly<Record<EventType, string>>> = {
  power_lost: 'Power failure.',
  on_battery: 'Running on UPS batteries.',
  power_restored: 'Power is back. UPS running on mains.',
  low_battery: 'Battery power exhausted.',
  replace_battery: 'UPS battery must be replaced.',
  self_test_started: 'UPS Self Test switch to battery.',
  self_test_completed: 'UPS Self Test completed.',
  shutdown_initiated: 'Initiating system shutdown!',
  comm_lost: 'Communications with UPS lost.',
  comm_restored: 'Communications with UPS restored.',
  battery_disconnected: 'Battery disconnected.',
  battery_reattached: 'Battery reattached.',
};

/**
 * One event-log line as apcupsd writes it: timestamp, two spaces, message, `\n`. A line
 * apcupsd itself logged (an NIS source's event) is served as it was logged. Undefined when
 * the event's time cannot be written.
 */
export function formatNisEventLine(event: UpsEvent): string | undefined {
  const at = formatNisTimestamp(event.at);
  if (at === undefined) return undefined;
  const message =
    event.origin === 'source_log' && event.message
      ? event.message
      : (EVENT_MESSAGES[event.event_type] ?? event.message ?? event.event_type);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  let line = `${at}${message.replace(/[\u0000-\u001f\u007f]/g, ' ')}`;
  while (Buffer.byteLength(line, 'utf8') + 1 > NIS_MAX_LINE_BYTES) line = line.slice(0, -1);
  return `${line}\n`;
}
