import { Ups2MqttError } from '../../core/errors.ts';
import type { SmartCommand } from './capabilities.ts';
import { parseHexByte, STATUS_BITS } from './map.ts';
import type { SmartIo } from './protocol.ts';
import {
  abortShutdown,
  calibrationToggle,
  hibernate,
  loadOff,
  loadOn,
  panelTest,
  runSequence,
  type SmartSequence,
  selfTest,
  simulateFailure,
  softShutdown,
  stayOffShutdown,
} from './sequence.ts';

/**
 * NUT instant commands played as Smart byte sequences (docs/protocols/apcsmart.md#actions; docs/mqtt.md#commands), with the
 * state checks that keep the toggles (`W`, `D`) from doing the opposite of what was asked.
 * Runs inside one protocol session, so nothing else is sent in between.
 */

/** What the source knows that the UPS cannot tell. */
export interface ActionContext {
  /** A self-test this source started is still running. */
  testRunning: boolean;
  /** A calibration this source started is still running. */
  calibrating: boolean;
  /** The unit lists `G` (cause of last transfer). */
  hasTransferCause: boolean;
}

/** What a command did, for the result message and the source's own tracking. */
export interface ActionResult {
  message: string;
  /** The command started (true) or stopped (false) a self-test. */
  selfTest?: boolean;
  /** The command started (true) or stopped (false) a calibration. */
  calibrating?: boolean;
}

/** The beeper values of `k` each beeper command steps to (docs/protocols/apcsmart.md#queries). */
export const BEEPER_TARGETS = { 'beeper.enable': '0', 'beeper.disable': 'N' } as const;
/** How long to wait for the `|` that confirms an EEPROM step (about 5 s, docs/protocols/apcsmart.md#eeprom-settings). */
export const EEPROM_CONFIRM_MS = 7000;
/** `k` has four values (0 T L N): at most three steps reach any of them. */
const MAX_EEPROM_STEPS = 4;

/** Plays `name` on the UPS. Rejects with SERVER_ERROR when the UPS or its state refuses. */
export async function runAction(
  io: SmartIo,
  name: SmartCommand,
  ctx: ActionContext,
): Promise<ActionResult> {
  switch (name) {
    case 'test.battery.start.quick':
      await play(io, selfTest());
      return {
        message: 'battery self-test started (W); its result follows in self_test_result',
        selfTest: true,
      };
    case 'test.battery.stop': {
      const q = await readStatus(io);
      const cause = ctx.hasTransferCause ? await io.query('G') : undefined;
      const onBattery = (q & STATUS_BITS.on_battery) !== 0;
      if (!onBattery || (cause !== 'S' && !ctx.testRunning)) {
        throw refusal('no battery self-test is running (W would start one)', name);
      }
      await play(io, selfTest());
      return { message: 'battery self-test stopped (W)', selfTest: false };
    }
    case 'test.panel.start':
      await play(io, panelTest());
      return { message: 'front-panel test started (A)' };
    case 'test.failure.start':
      await play(io, simulateFailure());
      return { message: 'simulated power failure (U): the UPS goes on battery briefly' };
    case 'calibrate.start': {
      if ((await readStatus(io)) & STATUS_BITS.calibrating) {
        throw refusal('a runtime calibration is already running (D would abort it)', name);
      }
      await play(io, calibrationToggle());
      return { message: 'runtime calibration started (D)', calibrating: true };
    }
    case 'calibrate.stop': {
      const running = ((await readStatus(io)) & STATUS_BITS.calibrating) !== 0;
      if (!running && !ctx.calibrating) {
        throw refusal('no runtime calibration is running (D would start one)', name);
      }
      await play(io, calibrationToggle());
      return { message: 'runtime calibration aborted (D)', calibrating: false };
    }
    case 'shutdown.return': {
      const q = await readStatus(io);
      const onLine = (q & STATUS_BITS.online) !== 0 && (q & STATUS_BITS.on_battery) === 0;
      // NUT's default shutdown type: `S` only works on battery, `@000` works on line and
      // brings the output back as soon as the mains is there (docs/protocols/apcsmart.md#actions).
      const seq = onLine ? hibernate(0) : softShutdown();
      const ack = await play(io, seq);
      return { message: `shutdown with return sent (${seq.label}, acknowledged ${ack})` };
    }
    case 'shutdown.stayoff': {
      const ack = await play(io, stayOffShutdown());
      return { message: `shutdown, stay off, sent (K K, acknowledged ${ack})` };
    }
    case 'shutdown.stop':
      await play(io, abortShutdown());
      return { message: 'pending shutdown cancelled (DEL)' };
    case 'load.off':
      await play(io, loadOff());
      return { message: 'load switched off (Z Z)' };
    case 'load.on':
      await play(io, loadOn());
      return { message: 'load switched on (^N ^N)' };
    case 'beeper.enable':
    case 'beeper.disable':
      return stepEeprom(io, 'k', BEEPER_TARGETS[name]);
  }
}

function play(io: SmartIo, seq: SmartSequence): Promise<string> {
  return runSequence(io, seq);
}

/** `Q` as a number, asked again while it answers `SM` (docs/protocols/apcsmart.md#conversation-rules). */
async function readStatus(io: SmartIo): Promise<number> {
  for (let i = 0; i < 4; i++) {
    const reply = await io.query('Q');
    if (reply === 'SM') continue;
    const q = reply === undefined ? undefined : parseHexByte(reply);
    if (q !== undefined) return q;
    throw new Ups2MqttError(
      'PROTOCOL_ERROR',
      `cannot read the UPS status (Q answered "${reply ?? 'NA'}")`,
    );
  }
  throw new Ups2MqttError('PROTOCOL_ERROR', 'UPS status (Q) not ready');
}

/**
 * Steps an EEPROM value with `-` until it reads `target` (docs/protocols/apcsmart.md#eeprom-settings; NUT's setvar does the same):
 * ask the letter, send `-` (`OK`), wait for the `|` confirmation, ask again. Each step is one
 * EEPROM write, made only because a user asked for this command.
 */
async function stepEeprom(io: SmartIo, letter: string, target: string): Promise<ActionResult> {
  const original = await io.query(letter);
  if (original === undefined) throw refusal(`the UPS does not report ${letter}`, letter);
  if (original.trim() === target)
    return { message: `${letter} is already ${target}; nothing written` };
  for (let step = 0; step < MAX_EEPROM_STEPS; step++) {
    const ack = await io.query('-');
    if (ack !== 'OK')
      throw refusal(`UPS answered "${ack ?? 'NA'}" to - (next value of ${letter})`, letter);
    await io.next(EEPROM_CONFIRM_MS, { alerts: ['|'] });
    const now = (await io.query(letter))?.trim();
    if (now === target)
      return { message: `${letter} set to ${target} in ${step + 1} EEPROM step(s)` };
    if (now === original.trim()) break;
  }
  throw refusal(`${letter} never reached ${target}`, letter);
}

function refusal(why: string, command: string): Ups2MqttError {
  return new Ups2MqttError('SERVER_ERROR', why, { context: { command } });
}
