import { type ErrorCode, Ups2MqttError } from '../../core/errors.ts';
import { quoteNutWord, splitNutWords } from '../../util/nut-words.ts';

/**
 * NUT's network protocol, the pure part (docs/protocols/nut.md; NUT developer guide,
 * "Network protocol information":
 * https://networkupstools.org/docs/developer-guide.chunked/net-protocol.html): lines of
 * words ending in `\n`, lists framed by `BEGIN LIST …` / `END LIST …`, errors as
 * `ERR <CODE> [extra]`. No sockets here.
 */

/**
 * Longest reply line accepted, in bytes. upsd builds its lines in buffers of a few hundred
 * bytes (a variable value is at most 256 bytes, quoted and escaped at most twice that);
 * 4 KiB leaves room for forks while still refusing a peer that is not upsd.
 */
export const DEFAULT_MAX_LINE_BYTES = 4096;

/** Most items accepted in one list (a full usbhid-ups UPS has ~80 variables). */
export const DEFAULT_MAX_LIST_ITEMS = 2048;

/**
 * Every `ERR` code upsd 2.8 can send, and the project's code for it. `UNKNOWN-UPS`,
 * `DATA-STALE` and `DRIVER-NOT-CONNECTED` mean "this UPS cannot be read now"; rights and
 * credentials are ACCESS_DENIED; unsupported things are SOURCE_UNSUPPORTED (the command
 * router answers `unsupported`); the rest are requests upsd would not carry out.
 */
export const NUT_ERROR_CODES: Readonly<Record<string, ErrorCode>> = {
  'UNKNOWN-UPS': 'UPS_UNKNOWN',
  'DATA-STALE': 'DATA_STALE',
  'DRIVER-NOT-CONNECTED': 'DATA_STALE',
  'ACCESS-DENIED': 'ACCESS_DENIED',
  'INVALID-PASSWORD': 'ACCESS_DENIED',
  'INVALID-USERNAME': 'ACCESS_DENIED',
  'USERNAME-REQUIRED': 'ACCESS_DENIED',
  'PASSWORD-REQUIRED': 'ACCESS_DENIED',
  'VAR-NOT-SUPPORTED': 'SOURCE_UNSUPPORTED',
  'CMD-NOT-SUPPORTED': 'SOURCE_UNSUPPORTED',
  'FEATURE-NOT-SUPPORTED': 'SOURCE_UNSUPPORTED',
  'FEATURE-NOT-CONFIGURED': 'SOURCE_UNSUPPORTED',
  'UNKNOWN-COMMAND': 'SOURCE_UNSUPPORTED',
  'INSTCMD-FAILED': 'COMMAND_FAILED',
  'SET-FAILED': 'COMMAND_FAILED',
  // GET TRACKING answers (protocol 1.3): the driver failed or did not know the command.
  FAILED: 'COMMAND_FAILED',
  UNKNOWN: 'COMMAND_FAILED',
  'INVALID-ARGUMENT': 'SERVER_ERROR',
  'INVALID-VALUE': 'SERVER_ERROR',
  READONLY: 'SERVER_ERROR',
  'TOO-LONG': 'SERVER_ERROR',
  'ALREADY-SSL-MODE': 'SERVER_ERROR',
  'ALREADY-LOGGED-IN': 'SERVER_ERROR',
  'ALREADY-SET-PASSWORD': 'SERVER_ERROR',
  'ALREADY-SET-USERNAME': 'SERVER_ERROR',
};

/** Plain words for the codes a person may see in a command result or a log line. */
const ERROR_TEXT: Readonly<Record<string, string>> = {
  'UNKNOWN-UPS': 'upsd serves no UPS of that name',
  'DATA-STALE': "upsd has no current data from the UPS's driver",
  'DRIVER-NOT-CONNECTED': "upsd is not connected to the UPS's driver",
  'ACCESS-DENIED':
    'upsd refused: wrong user or password, or the user lacks the right (instcmds in upsd.users)',
  'INVALID-PASSWORD': 'upsd refused the password',
  'INVALID-USERNAME': 'upsd refused the user name',
  'USERNAME-REQUIRED': 'upsd needs a user name for this (nut://user:password@host/ups)',
  'PASSWORD-REQUIRED': 'upsd needs a password for this (nut://user:password@host/ups)',
  'CMD-NOT-SUPPORTED': 'the UPS does not offer this command',
  'VAR-NOT-SUPPORTED': 'the UPS does not have this variable',
  'FEATURE-NOT-CONFIGURED': 'upsd has no TLS certificate configured',
  'FEATURE-NOT-SUPPORTED': 'upsd was built without this feature',
  'INSTCMD-FAILED': 'the driver failed to carry out the command',
  FAILED: 'the driver failed to carry out the command',
  UNKNOWN: 'the driver did not carry out the command (unknown to it, or it gave no answer)',
};

/** The error for an `ERR` reply line (its words), with the request it answered. */
export function nutServerError(words: readonly string[], request: string): Ups2MqttError {
  const nutCode = words[1] ?? '';
  const extra = words.slice(2).join(' ');
  const code = NUT_ERROR_CODES[nutCode] ?? 'SERVER_ERROR';
  const text = ERROR_TEXT[nutCode] ?? 'upsd refused the request';
  return new Ups2MqttError(code, `${text} (ERR ${nutCode}${extra ? ` ${extra}` : ''})`, {
    context: { nutError: nutCode, request: requestForLog(request), ...(extra ? { extra } : {}) },
  });
}

/** A request as it may appear in logs: never a password. */
export function requestForLog(request: string): string {
  return /^PASSWORD\b/i.test(request) ? 'PASSWORD ***' : request;
}

/**
 * One request line. Words made only of characters that need no quoting go as they are;
 * anything else is quoted with `"` and `\` escaped, as upsc and upscmd do. A word with a
 * line end or a NUL throws PROTOCOL_ERROR: quoting cannot carry those (upsd reads up to
 * the newline, and its C strings end at NUL), so a password holding `\nINSTCMD …` would
 * otherwise send a second request.
 */
export function nutRequestLine(words: readonly string[]): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  if (words.some((w) => /[\r\n\u0000]/.test(w))) {
    throw new Ups2MqttError(
      'PROTOCOL_ERROR',
      'a NUT request word cannot hold a line break or NUL',
      { context: { request: requestForLog(words[0] ?? '') } },
    );
  }
  return `${words.map((w) => (/^[A-Za-z0-9._:@*+-]+$/.test(w) ? w : quoteNutWord(w))).join(' ')}\n`;
}

/**
 * Splits a byte stream into lines (without `\n`; a `\r` before it is dropped). Lines are
 * cut and measured as bytes and decoded as UTF-8 only when whole, so a character split
 * across two reads arrives intact. A line longer than `maxLineBytes` throws
 * FRAME_TOO_LARGE; the decoder is then unusable.
 */
export class NutLineDecoder {
  private carry: Buffer = Buffer.alloc(0);

  constructor(private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES) {}

  /** Bytes received that are not yet part of a complete line. */
  get pendingBytes(): number {
    return this.carry.length;
  }

  push(chunk: Buffer | string): string[] {
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let buf = this.carry.length === 0 ? data : Buffer.concat([this.carry, data]);
    const lines: string[] = [];
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a)) {
      if (nl > this.maxLineBytes) this.tooLong(nl);
      const end = nl > 0 && buf[nl - 1] === 0x0d ? nl - 1 : nl;
      lines.push(buf.toString('utf8', 0, end));
      buf = buf.subarray(nl + 1);
    }
    if (buf.length > this.maxLineBytes) this.tooLong(buf.length);
    // A copy, so the carry does not pin the whole read buffer.
    this.carry = Buffer.from(buf);
    return lines;
  }

  private tooLong(length: number): never {
    throw new Ups2MqttError(
      'FRAME_TOO_LARGE',
      `NUT reply line of more than ${this.maxLineBytes} bytes`,
      { context: { length, maxLineBytes: this.maxLineBytes } },
    );
  }
}

/** Words of a reply line; an unterminated quote is a protocol error. */
export function replyWords(line: string, request: string): string[] {
  const words = splitNutWords(line);
  if (words === undefined) {
    throw new Ups2MqttError('PROTOCOL_ERROR', 'NUT reply line has an unterminated quote', {
      context: { request: requestForLog(request), line: line.slice(0, 200) },
    });
  }
  return words;
}

/**
 * Collects one list reply. Feed it the reply's lines one by one: it returns `done` with
 * the item lines (words) after `END LIST <query>`, throws the coded error of an `ERR`
 * line, a PROTOCOL_ERROR for a line that does not belong, and FRAME_TOO_LARGE past
 * `maxItems`.
 */
export class NutListCollector {
  private started = false;
  private readonly items: string[][] = [];
  private readonly query: string;

  /** `query` is the request without `LIST ` (e.g. `VAR ups`), as upsd echoes it. */
  constructor(
    private readonly request: string,
    private readonly maxItems = DEFAULT_MAX_LIST_ITEMS,
  ) {
    this.query = request.replace(/^LIST\s+/i, '').trim();
  }

  /** Returns the items once the list is complete, else undefined. */
  push(line: string): string[][] | undefined {
    const words = replyWords(line, this.request);
    if (!this.started) {
      if (words[0] === 'ERR') throw nutServerError(words, this.request);
      if (words[0] !== 'BEGIN' || words[1] !== 'LIST' || words.slice(2).join(' ') !== this.query) {
        throw this.unexpected(line);
      }
      this.started = true;
      return undefined;
    }
    if (words[0] === 'END' && words[1] === 'LIST') {
      if (words.slice(2).join(' ') !== this.query) throw this.unexpected(line);
      return this.items;
    }
    if (this.items.length >= this.maxItems) {
      throw new Ups2MqttError(
        'FRAME_TOO_LARGE',
        `NUT list "${this.query}" has more than ${this.maxItems} items`,
        { context: { request: this.request, maxItems: this.maxItems } },
      );
    }
    this.items.push(words);
    return undefined;
  }

  private unexpected(line: string): Ups2MqttError {
    return new Ups2MqttError(
      'PROTOCOL_ERROR',
      `unexpected line in the reply to "${this.request}"`,
      {
        context: { request: this.request, line: line.slice(0, 200) },
      },
    );
  }
}
