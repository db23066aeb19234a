import { Ups2MqttError } from '../../core/errors.ts';
import { CTRL_N, DEL, describeCmd } from './codes.ts';
import type { AlertChar } from './framing.ts';
import type { SmartIo } from './protocol.ts';

/**
 * Action commands as data (docs/protocols/apcsmart.md#actions, #timing): the exact bytes, the pauses
 * between them and what counts as an acknowledgement. Builders are pure; {@link runSequence}
 * plays one over a {@link SmartIo} session.
 */

/** What acknowledges a command. */
export interface AckPolicy {
  /** An `OK` reply. */
  ok?: boolean;
  /** A `*` character: how older units acknowledge shutdown commands (docs/protocols/apcsmart.md#conversation-rules). */
  star?: boolean;
  /** An alert that shows the command took effect (`!` after `U`). */
  alert?: AlertChar;
  /** No reply at all is fine (`Z Z` answers nothing, docs/protocols/apcsmart.md#actions). */
  silence?: boolean;
}

export type SmartStep =
  | { op: 'send'; bytes: string }
  /** Waits `ms`; any reply in this window (e.g. `NA`) means the UPS refused. */
  | { op: 'quiet'; ms: number }
  | { op: 'ack'; timeoutMs: number; accept: AckPolicy };

export interface SmartSequence {
  /** For messages, e.g. `K K`. */
  readonly label: string;
  readonly steps: readonly SmartStep[];
}

/** How a sequence was acknowledged. */
export type AckResult = 'OK' | 'silence' | AlertChar;

/**
 * Gap between the two keys of `K K`, `Z Z`, `^N ^N`. The UPS wants at least 1.5 s; NUT
 * waits 1.5 s, apcupsd 2 s. 2 s is the value proven on the most units.
 */
export const DOUBLE_KEY_GAP_MS = 2000;
/** Gap between the bytes of `@nnn`: NUT 50 ms after a 0.2 s check, apcupsd 2 s (docs/protocols/apcsmart.md#timing). */
export const HIBERNATE_BYTE_GAP_MS = 200;
/** Wait for `OK`/`*` after a shutdown command (NUT 1.5 s, apcupsd 5 s for `S`). */
export const SHUTDOWN_ACK_MS = 3000;
/** Wait for `OK` after a simple action. */
export const ACTION_ACK_MS = 3000;
/** After `Z Z` / `^N ^N`: how long a refusal (`NA`) may take to arrive. */
export const SILENT_ACK_MS = 1500;

const OK: AckPolicy = { ok: true };
const OK_OR_STAR: AckPolicy = { ok: true, star: true };

const single = (cmd: string, accept: AckPolicy, timeoutMs = ACTION_ACK_MS): SmartSequence => ({
  label: describeCmd(cmd),
  steps: [
    { op: 'send', bytes: cmd },
    { op: 'ack', timeoutMs, accept },
  ],
});

const doubleKey = (cmd: string, accept: AckPolicy, timeoutMs: number): SmartSequence => ({
  label: `${describeCmd(cmd)} ${describeCmd(cmd)}`,
  steps: [
    { op: 'send', bytes: cmd },
    { op: 'quiet', ms: DOUBLE_KEY_GAP_MS },
    { op: 'send', bytes: cmd },
    { op: 'ack', timeoutMs, accept },
  ],
});

/** `W`: start a battery self-test; sent again while one runs, it stops it (as NUT does). */
export const selfTest = (): SmartSequence => single('W', OK);
/** `A`: front-panel test (lights and beep). */
export const panelTest = (): SmartSequence => single('A', OK);
/** `D`: start, or abort a running, runtime calibration (a toggle). */
export const calibrationToggle = (): SmartSequence => single('D', OK);
/** `U`: simulate a power failure; acknowledged by `OK` or by the `!` alert that follows. */
export const simulateFailure = (): SmartSequence => single('U', { ok: true, alert: '!' });
/** `S`: soft shutdown, works on battery only; output returns with the mains. */
export const softShutdown = (): SmartSequence => single('S', OK_OR_STAR, SHUTDOWN_ACK_MS);
/** `K`, ≥ 1.5 s, `K`: shutdown after the grace delay, stay off. */
export const stayOffShutdown = (): SmartSequence => doubleKey('K', OK_OR_STAR, SHUTDOWN_ACK_MS);
/** `Z`, ≥ 1.5 s, `Z`: load off at once, stay off. The UPS answers nothing. */
export const loadOff = (): SmartSequence =>
  doubleKey('Z', { ok: true, silence: true }, SILENT_ACK_MS);
/** `^N`, ≥ 1.5 s, `^N`: turn the load on (3rd-generation units). */
export const loadOn = (): SmartSequence =>
  doubleKey(CTRL_N, { ok: true, silence: true }, SILENT_ACK_MS);
/** DEL: cancel a pending `S`, `@` or `K`. */
export const abortShutdown = (): SmartSequence => single(DEL, OK);

/**
 * `@nnn`: shutdown after the grace delay, works on line; the output returns when the mains
 * is back plus `nnn` × 6 minutes (tenths of an hour; docs/protocols/apcsmart.md#actions). Bytes are paced, and a reply
 * after any byte but the last means the UPS refused.
 */
export function hibernate(sixMinuteUnits: number): SmartSequence {
  if (!Number.isInteger(sixMinuteUnits) || sixMinuteUnits < 0 || sixMinuteUnits > 999) {
    throw new RangeError(`@nnn takes 0-999 (units of 6 minutes), got ${sixMinuteUnits}`);
  }
  const digits = String(sixMinuteUnits).padStart(3, '0');
  const steps: SmartStep[] = [{ op: 'send', bytes: '@' }];
  for (const d of digits) {
    steps.push({ op: 'quiet', ms: HIBERNATE_BYTE_GAP_MS }, { op: 'send', bytes: d });
  }
  steps.push({ op: 'ack', timeoutMs: SHUTDOWN_ACK_MS, accept: OK_OR_STAR });
  return { label: `@${digits}`, steps };
}

/**
 * Plays a sequence in the current session. Rejects with SERVER_ERROR when the UPS answers
 * anything but an acknowledgement (`NA`: not supported; `NO`: not possible now), with
 * READ_TIMEOUT when an acknowledgement is required and none came.
 */
export async function runSequence(io: SmartIo, seq: SmartSequence): Promise<AckResult> {
  for (const step of seq.steps) {
    if (step.op === 'send') {
      await io.write(step.bytes);
      continue;
    }
    if (step.op === 'quiet') {
      const event = await io.next(step.ms);
      if (event.kind === 'reply') throw refused(seq, event.text);
      continue;
    }
    const wanted: AlertChar[] = [];
    if (step.accept.star) wanted.push('*');
    if (step.accept.alert) wanted.push(step.accept.alert);
    const event = await io.next(step.timeoutMs, { alerts: wanted });
    if (event.kind === 'alert') return event.alert;
    if (event.kind === 'reply') {
      if (event.text === 'OK' && step.accept.ok) return 'OK';
      throw refused(seq, event.text);
    }
    if (step.accept.silence) return 'silence';
    throw new Ups2MqttError(
      'READ_TIMEOUT',
      `UPS did not acknowledge ${seq.label} within ${step.timeoutMs} ms`,
      { context: { command: seq.label, timeoutMs: step.timeoutMs } },
    );
  }
  return 'silence';
}

function refused(seq: SmartSequence, reply: string): Ups2MqttError {
  const why =
    reply === 'NA' ? 'not available on this UPS' : reply === 'NO' ? 'not possible now' : 'refused';
  return new Ups2MqttError('SERVER_ERROR', `UPS answered "${reply}" to ${seq.label}: ${why}`, {
    context: { command: seq.label, reply },
  });
}
