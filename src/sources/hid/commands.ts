/**
 * Instant commands over HID: which the descriptor allows, and the Feature writes each one
 * needs (docs/protocols/hid.md#commands; docs/mqtt.md#commands). Pure planning; the source executes a plan as
 * read-modify-write of the whole report (execute.ts). A command is advertised only when
 * the descriptor has a writable Feature item for it, so Home Assistant gets no dead buttons.
 */

import { Ups2MqttError } from '../../core/errors.ts';
import type { CommandArgs } from '../../core/source.ts';
import type { HidField } from './descriptor/parser.ts';
import type { ReportMap } from './report-map.ts';
import { SIGNALS } from './signals.ts';
import { fitsField, toLogical, toPhysical } from './units.ts';

/** Every command this source can execute, in the order a UI lists them. */
export const HID_COMMANDS = [
  'test.battery.start.quick',
  'test.battery.start.deep',
  'test.battery.stop',
  'shutdown.return',
  'shutdown.stop',
  'beeper.enable',
  'beeper.disable',
  'beeper.mute',
] as const;
/** A command name this source implements. */
export type HidCommand = (typeof HID_COMMANDS)[number];

/** NUT's default `ups.delay.shutdown` when the caller gives none. */
export const DEFAULT_SHUTDOWN_DELAY_S = 20;
/**
 * Smart-UPS: DelayBeforeStartup is written first and must outlast DelayBeforeShutdown, or the
 * output never comes back; apcupsd uses shutdown + 4 s (docs/protocols/hid.md#commands).
 */
export const STARTUP_MARGIN_S = 4;

/** One field write. */
export interface FieldWrite {
  field: HidField;
  /** Logical value, already scaled and rounded for the field. */
  logical: number;
}

/** What a command does on this UPS. */
export interface CommandPlan {
  command: HidCommand;
  /** Writes in order (each a GET, patch, SET of its whole report). */
  writes: FieldWrite[];
  /** Field read back afterwards to confirm (Test result, countdown, beeper state). */
  readBack: HidField;
  /** Human summary of what was written. */
  summary: string;
  /** The command turns the output off later (status re-read afterwards, quirks.ts). */
  shutdown: boolean;
}

const writable = (f: HidField | undefined): f is HidField =>
  f !== undefined && f.kind === 'feature' && !f.constant;

/** The fields commands use, resolved once per descriptor. */
export interface CommandFields {
  test?: HidField;
  beeper?: HidField;
  /** Back-UPS hibernate: off after N s, back on when mains returns (FF86:7D). */
  apcShutdown?: HidField;
  startup?: HidField;
  shutdown?: HidField;
}

/** Finds the writable Feature items commands use (docs/protocols/hid.md#commands for the choice of timer). */
export function commandFields(map: ReportMap): CommandFields {
  const out: CommandFields = {};
  const test = map.resolveFeature(SIGNALS.test.patterns);
  if (writable(test)) out.test = test;
  const beeper = map.resolveFeature(SIGNALS.audibleAlarm.patterns);
  if (writable(beeper)) out.beeper = beeper;
  const apc = map.resolveFeature(['APCGeneralCollection.APCDelayBeforeShutdown']);
  if (writable(apc) && apc.signed) out.apcShutdown = apc;
  // The Output collection's timers are the ones that switch the output (Smart-UPS, docs/protocols/hid.md#commands).
  const startup = map.resolveFeature(['Output.DelayBeforeStartup', 'DelayBeforeStartup']);
  if (writable(startup)) out.startup = startup;
  const shutdown = map.resolveFeature(['Output.DelayBeforeShutdown', 'DelayBeforeShutdown']);
  if (writable(shutdown) && shutdown.signed) out.shutdown = shutdown;
  return out;
}

/** The commands a descriptor supports. */
export function availableCommands(fields: CommandFields): HidCommand[] {
  const out: HidCommand[] = [];
  if (fields.test)
    out.push('test.battery.start.quick', 'test.battery.start.deep', 'test.battery.stop');
  if (fields.apcShutdown || (fields.startup && fields.shutdown)) out.push('shutdown.return');
  if (fields.apcShutdown || fields.shutdown) out.push('shutdown.stop');
  if (fields.beeper) out.push('beeper.enable', 'beeper.disable', 'beeper.mute');
  return out;
}

/** Type guard for command names coming from outside. */
export function isHidCommand(name: string): name is HidCommand {
  return (HID_COMMANDS as readonly string[]).includes(name);
}

function unsupported(name: string): Ups2MqttError {
  return new Ups2MqttError(
    'SOURCE_UNSUPPORTED',
    `this UPS's HID descriptor has no writable item for "${name}"`,
    { context: { command: name } },
  );
}

/** A delay in seconds as the field's logical value, rounded up to its resolution. */
function delayWrite(field: HidField, seconds: number, name: string): FieldWrite {
  const logical = toLogical(field, seconds, 'up');
  if (!fitsField(field, logical)) {
    throw new Ups2MqttError('SOURCE_UNSUPPORTED', `delay ${seconds} s does not fit ${field.path}`, {
      context: { command: name, delay_s: seconds, bits: field.bitSize },
    });
  }
  return { field, logical };
}

function seconds(w: FieldWrite): number {
  return toPhysical(w.field, w.logical);
}

/** The writes for a command. Throws SOURCE_UNSUPPORTED when this UPS cannot do it. */
export function planCommand(fields: CommandFields, name: string, args: CommandArgs): CommandPlan {
  if (!isHidCommand(name) || !availableCommands(fields).includes(name)) throw unsupported(name);
  const { test, beeper, apcShutdown, startup, shutdown } = fields;
  const one = (field: HidField | undefined, logical: number, summary: string): CommandPlan => {
    if (!field) throw unsupported(name);
    return {
      command: name,
      writes: [{ field, logical }],
      readBack: field,
      summary,
      shutdown: false,
    };
  };
  switch (name) {
    // Test: write 1 quick · 2 deep (runtime calibration on APC) · 3 abort (docs/protocols/hid.md#usages).
    case 'test.battery.start.quick':
      return one(test, 1, 'quick self-test requested (Test = 1)');
    case 'test.battery.start.deep':
      return one(test, 2, 'deep test / runtime calibration requested (Test = 2)');
    case 'test.battery.stop':
      return one(test, 3, 'test abort requested (Test = 3)');
    // AudibleAlarmControl: 1 disabled · 2 enabled · 3 muted.
    case 'beeper.enable':
      return one(beeper, 2, 'beeper enabled (AudibleAlarmControl = 2)');
    case 'beeper.disable':
      return one(beeper, 1, 'beeper disabled (AudibleAlarmControl = 1)');
    case 'beeper.mute':
      return one(beeper, 3, 'beeper muted (AudibleAlarmControl = 3)');
    case 'shutdown.stop': {
      // −1 is the logical "not counting" value, written as is (not a physical delay).
      const field = apcShutdown ?? shutdown;
      if (!field) throw unsupported(name);
      return one(field, -1, `pending shutdown cancelled (${field.path} = -1)`);
    }
    case 'shutdown.return': {
      const delay = args.delay_s ?? DEFAULT_SHUTDOWN_DELAY_S;
      if (apcShutdown) {
        const w = delayWrite(apcShutdown, delay, name);
        return {
          command: name,
          writes: [w],
          readBack: apcShutdown,
          summary: `output off in ${seconds(w)} s, back on when mains returns (APCDelayBeforeShutdown)`,
          shutdown: true,
        };
      }
      if (!startup || !shutdown) throw unsupported(name);
      const off = delayWrite(shutdown, delay, name);
      const on = delayWrite(startup, seconds(off) + STARTUP_MARGIN_S, name);
      return {
        command: name,
        // The second write starts both timers (docs/protocols/hid.md#commands), so DelayBeforeStartup goes first.
        writes: [on, off],
        readBack: shutdown,
        summary: `output off in ${seconds(off)} s, startup timer ${seconds(on)} s (DelayBeforeStartup, DelayBeforeShutdown)`,
        shutdown: true,
      };
    }
  }
}
