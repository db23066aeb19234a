import { CTRL_N, DEL } from './codes.ts';
import { ALERT_CHARS } from './framing.ts';

/**
 * What a Smart UPS can do, from its protocol-info reply `a` (docs/protocols/apcsmart.md#queries), and the
 * query sets and instant commands that follow from it. Pure.
 */

/** The decoded `a` reply: `<version>.<alert chars>.<command chars>[.<extra>]`. */
export interface ProtocolInfo {
  version: string;
  alerts: string;
  /** Every request byte the unit accepts. */
  commands: ReadonlySet<string>;
  /** Fourth section (dual-byte commands on Symmetra/SPM), when present. */
  extra?: string;
}

/** NUT's check of the `a` reply (docs/protocols/apcsmart.md#queries). */
const PROTOCOL_INFO = /^([0-9])\.([^.]*)\.([^.]+)(?:\.([^.]+))?$/;
const LEADING_ALERTS = new RegExp(`^[${ALERT_CHARS.map((c) => `\\${c}`).join('')}]+(?=[0-9]\\.)`);

/**
 * Parses the `a` reply, or returns undefined when it does not have the documented shape.
 * `a` is read with alert characters kept (its second section lists them), so an alert that
 * arrived just before the reply is glued to its front: such leading characters are dropped.
 */
export function parseProtocolInfo(reply: string): ProtocolInfo | undefined {
  const m = PROTOCOL_INFO.exec(reply.replace(LEADING_ALERTS, ''));
  if (!m) return undefined;
  const info: ProtocolInfo = {
    version: m[1] ?? '',
    alerts: m[2] ?? '',
    commands: new Set(m[3] ?? ''),
  };
  if (m[4] !== undefined) info.extra = m[4];
  return info;
}

/**
 * Letters read on every poll, most important first: status, then measurements, then
 * registers and optional probes (docs/protocols/apcsmart.md#queries, docs/mqtt.md#keys). Only those the unit lists are asked.
 */
export const POLL_LETTERS: readonly string[] = [
  'Q', // status byte
  'f', // battery charge
  'j', // runtime
  'L', // input voltage
  'O', // output voltage
  'P', // load
  'B', // battery voltage
  'C', // internal temperature
  'F', // line frequency
  'M', // max input voltage since last read
  'N', // min input voltage since last read
  'G', // cause of the last transfer
  'X', // last self-test result
  '7', // DIP switches
  '~', // register 1
  "'", // register 2 (battery disconnected)
  '8', // register 3 (output off after @ / S)
  '>', // external battery packs
  '<', // bad battery packs
  '/', // load current (Matrix)
  '\\', // apparent load (Matrix)
  'h', // Measure-UPS humidity
  't', // Measure-UPS ambient temperature
];

/**
 * Letters read at connect, after an EEPROM change (`|`) and hourly: identity, nominal values
 * and EEPROM settings. `^A`, `a` and `b` are read before these (see identify.ts).
 */
export const STATIC_LETTERS: readonly string[] = [
  'n', // serial number
  'm', // manufacture date
  'x', // battery replacement date
  'c', // UPS identifier
  'g', // nominal battery voltage
  'o', // nominal output voltage
  'l', // low transfer voltage
  'u', // high transfer voltage
  'e', // return charge threshold
  'p', // shutdown grace delay
  'r', // wake-up delay
  'q', // low-battery warning
  'k', // alarm (beeper) delay
  's', // sensitivity
  'E', // self-test interval
];

/**
 * The letters of `wanted` the unit supports. Without an `a` reply (old firmware) every letter
 * is tried and the ones answering `NA` are dropped after the first read (apcupsd's way).
 */
export function supportedLetters(
  wanted: readonly string[],
  info: ProtocolInfo | undefined,
): string[] {
  return info === undefined ? [...wanted] : wanted.filter((c) => info.commands.has(c));
}

/** The NUT instant commands this source can send, and the request bytes each needs (docs/mqtt.md#commands). */
export const COMMAND_LETTERS = {
  'test.battery.start.quick': ['W'],
  'test.battery.stop': ['W'],
  'test.panel.start': ['A'],
  'test.failure.start': ['U'],
  'calibrate.start': ['D'],
  'calibrate.stop': ['D'],
  // On line `@nnn`, on battery `S` (NUT's default shutdown type 0): both must exist.
  'shutdown.return': ['@', 'S'],
  'shutdown.stayoff': ['K'],
  'shutdown.stop': [DEL],
  'load.off': ['Z'],
  'load.on': [CTRL_N],
  // The beeper is the EEPROM value `k`, stepped with `-` (docs/protocols/apcsmart.md#eeprom-settings).
  'beeper.enable': ['k', '-'],
  'beeper.disable': ['k', '-'],
} as const satisfies Record<string, readonly string[]>;

export type SmartCommand = keyof typeof COMMAND_LETTERS;

/** True when `name` is one of the commands this source knows. */
export function isSmartCommand(name: string): name is SmartCommand {
  return Object.hasOwn(COMMAND_LETTERS, name);
}

/**
 * Instant commands the unit supports: every byte they need is in its `a` reply. A unit
 * without `a` advertises none: nothing says which actions its firmware has (NUT's
 * `oldapcsetup` offers none either).
 */
export function supportedCommands(info: ProtocolInfo | undefined): SmartCommand[] {
  if (info === undefined) return [];
  return (Object.keys(COMMAND_LETTERS) as SmartCommand[]).filter((name) =>
    COMMAND_LETTERS[name].every((c: string) => info.commands.has(c)),
  );
}
