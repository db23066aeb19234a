import { isUps2MqttError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import {
  POLL_LETTERS,
  type ProtocolInfo,
  parseProtocolInfo,
  STATIC_LETTERS,
  supportedLetters,
} from './capabilities.ts';
import { CTRL_A, describeCmd } from './codes.ts';
import type { SmartIo } from './protocol.ts';

/**
 * Reading a Smart UPS inside a protocol session: the start-up sequence and the letter loop
 * with its retry rules (docs/protocols/apcsmart.md#conversation-rules). Values are kept per request letter, raw; map.ts
 * turns them into state.
 */

/** What start-up learned about the unit. */
export interface SmartIdentity {
  /** The `a` reply, or undefined on firmware without it. */
  info: ProtocolInfo | undefined;
  /** Letters read on every poll; shrinks when a letter proves unusable. */
  pollLetters: string[];
  /** Letters read at start-up, after `|` and hourly. */
  staticLetters: string[];
}

/** Times `Q` is asked again while it answers `SM` (status not ready yet, docs/protocols/apcsmart.md#conversation-rules). */
const STATUS_RETRIES = 3;

/**
 * The start-up sequence of docs/protocols/apcsmart.md#conversation-rules after the handshake: `^A` model, `a` protocol info, `b`
 * firmware (or `V` on old units), then the static letters. `^A` is asked before anything is
 * known about the unit, so a unit that ignores it (the oldest firmware does) costs a timeout
 * and a new handshake, not the start-up.
 */
export async function identify(
  io: SmartIo,
  values: Map<string, string>,
  logger: Logger,
): Promise<SmartIdentity> {
  try {
    setOrDelete(values, CTRL_A, await io.query(CTRL_A));
  } catch (err) {
    if (!isUps2MqttError(err, 'READ_TIMEOUT')) throw err;
    logger.debug('UPS ignores ^A (model): old firmware');
    await io.resync();
  }
  const a = await io.query('a');
  const info = a === undefined ? undefined : parseProtocolInfo(a);
  if (a !== undefined && info === undefined) {
    logger.warn({ reply: a }, 'UPS protocol-info reply (a) has an unknown shape; probing letters');
  }
  const firmware = await io.query('b');
  setOrDelete(values, 'b', firmware);
  if (firmware === undefined) setOrDelete(values, 'V', await io.query('V'));
  const identity: SmartIdentity = {
    info,
    pollLetters: supportedLetters(POLL_LETTERS, info),
    staticLetters: supportedLetters(STATIC_LETTERS, info),
  };
  await readLetters(io, identity.staticLetters, values, { logger, probing: info === undefined });
  return identity;
}

/** Options of {@link readLetters}. */
export interface ReadLettersOptions {
  logger: Logger;
  /** No `a` reply: a letter answering `NA` is not supported and is dropped. */
  probing: boolean;
}

/**
 * Asks each letter once and stores the reply (`NA` removes the letter's value: the unit has
 * nothing to say now, e.g. `G` before the first transfer). Mutates `letters`: a letter that
 * times out twice, with a good handshake between, is dropped so one firmware quirk cannot
 * fail every read; so is an `NA` letter while probing. A handshake failure or a closed port
 * rejects.
 */
export async function readLetters(
  io: SmartIo,
  letters: string[],
  values: Map<string, string>,
  opts: ReadLettersOptions,
): Promise<void> {
  for (const letter of [...letters]) {
    const reply = await askWithRetry(io, letter, opts.logger);
    if (reply === 'dropped') {
      opts.logger.warn(
        { letter: describeCmd(letter) },
        'UPS does not answer this query; no longer asked',
      );
      remove(letters, letter);
      values.delete(letter);
      continue;
    }
    setOrDelete(values, letter, reply);
    if (reply === undefined && opts.probing) remove(letters, letter);
  }
}

async function askWithRetry(
  io: SmartIo,
  letter: string,
  logger: Logger,
): Promise<string | undefined | 'dropped'> {
  for (let attempt = 1; ; attempt++) {
    let reply: string | undefined;
    try {
      reply = await io.query(letter);
    } catch (err) {
      if (!isUps2MqttError(err, 'READ_TIMEOUT') || attempt > 1) {
        if (isUps2MqttError(err, 'READ_TIMEOUT')) {
          await io.resync();
          return 'dropped';
        }
        throw err;
      }
      logger.debug({ letter: describeCmd(letter) }, 'query timed out; handshake and retry');
      await io.resync();
      continue;
    }
    if (letter === 'Q' && reply === 'SM' && attempt <= STATUS_RETRIES) continue;
    return reply;
  }
}

function setOrDelete(values: Map<string, string>, letter: string, reply: string | undefined): void {
  if (reply === undefined) values.delete(letter);
  else values.set(letter, reply);
}

function remove(letters: string[], letter: string): void {
  const i = letters.indexOf(letter);
  if (i >= 0) letters.splice(i, 1);
}
