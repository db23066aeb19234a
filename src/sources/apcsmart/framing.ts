import { Ups2MqttError } from '../../core/errors.ts';

/**
 * APC Smart (UPS-Link) reply framing (docs/protocols/apcsmart.md#conversation-rules, #alert-characters). Replies are ASCII lines that
 * end in CR LF; alert characters arrive at any time, unframed, even in the middle of a reply.
 * Pure: no serial port here.
 */

/** The asynchronous alert characters of docs/protocols/apcsmart.md#alert-characters. */
export const ALERT_CHARS = ['!', '$', '%', '+', '?', '=', '#', '&', '|', '*'] as const;
export type AlertChar = (typeof ALERT_CHARS)[number];

/** What each alert means (docs/protocols/apcsmart.md#alert-characters), for logs and docs. */
export const ALERT_MEANINGS: Readonly<Record<AlertChar, string>> = {
  '!': 'line failure, now on battery',
  $: 'utility power restored',
  '%': 'low battery',
  '+': 'battery back above the low-battery level',
  '?': 'abnormal condition (overload or shutdown for overload/low battery)',
  '=': 'abnormal condition cleared',
  '#': 'replace battery',
  '&': 'Measure-UPS alarm',
  '|': 'an EEPROM setting changed',
  '*': 'about to switch the load off (older units also acknowledge shutdown commands with it)',
};

const ALERT_BYTES: ReadonlySet<number> = new Set(ALERT_CHARS.map((c) => c.charCodeAt(0)));

/** True when `c` is one of the docs/protocols/apcsmart.md#alert-characters alert characters. */
export function isAlertChar(c: string): c is AlertChar {
  return c.length === 1 && ALERT_BYTES.has(c.charCodeAt(0));
}

/**
 * How the decoder treats alert characters:
 * - `alerts`: peel them off wherever they appear (every ordinary reply);
 * - `raw`: keep them in the line, for the replies that legitimately contain them: the
 *   protocol-info reply `a` lists the alert characters themselves (`3.!$%+?=#|.…`) and the
 *   `^Z` EEPROM table starts with `#` (docs/protocols/apcsmart.md#queries, docs/protocols/apcsmart.md#eeprom-settings). NUT reads both with a smaller ignore set
 *   for the same reason.
 */
export type AlertMode = 'alerts' | 'raw';

/** The result of one {@link SmartLineDecoder.push}. */
export interface SmartChunk {
  /** Complete replies, CR LF removed, other bytes (NULs included) kept as latin1 text. */
  replies: string[];
  /** Alert characters peeled off, in arrival order. */
  alerts: AlertChar[];
  /** Set when a line grew past the limit: its bytes were dropped up to the next LF. */
  overflow?: Ups2MqttError;
}

/**
 * The longest reply accepted. The longest real replies are the `^Z` EEPROM table (a few
 * hundred bytes on Matrix units) and `a` (~70 bytes); NUT reads replies into 512 bytes.
 */
export const DEFAULT_MAX_LINE_BYTES = 512;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream from the UPS into replies and alerts. Bytes of an unfinished reply are
 * carried over to the next chunk, so any split works: a reply across reads, an alert glued
 * before, inside or after a reply, an alert between every byte.
 *
 * Garbage without a line end cannot grow memory: past `maxLineBytes` the partial line is
 * dropped, `overflow` reports it once, and everything up to the next LF is skipped (resync).
 * CR is dropped wherever it appears (apcupsd does the same); LF ends a reply.
 */
export class SmartLineDecoder {
  private readonly maxLineBytes: number;
  private line: number[] = [];
  private skipping = false;
  private mode: AlertMode = 'alerts';

  constructor(options: { maxLineBytes?: number } = {}) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /**
   * Switches alert handling from the next byte pushed. `raw` lasts for one reply only: the
   * line end switches back to `alerts`, so an alert right after the raw reply is still peeled.
   */
  setMode(mode: AlertMode): void {
    this.mode = mode;
  }

  /** Drops any partial line (after a flush of the port, or a handshake). */
  reset(): void {
    this.line = [];
    this.skipping = false;
  }

  /** Bytes of the unfinished reply held over (for tests and diagnostics). */
  get pendingBytes(): number {
    return this.line.length;
  }

  push(chunk: Uint8Array): SmartChunk {
    const out: SmartChunk = { replies: [], alerts: [] };
    for (const byte of chunk) {
      if (this.mode === 'alerts' && ALERT_BYTES.has(byte)) {
        out.alerts.push(String.fromCharCode(byte) as AlertChar);
        continue;
      }
      if (byte === LF) {
        if (!this.skipping) out.replies.push(Buffer.from(this.line).toString('latin1'));
        this.line = [];
        this.skipping = false;
        this.mode = 'alerts';
        continue;
      }
      if (byte === CR || this.skipping) continue;
      if (this.line.length >= this.maxLineBytes) {
        out.overflow ??= new Ups2MqttError(
          'FRAME_TOO_LARGE',
          `UPS sent more than ${this.maxLineBytes} bytes without a line end`,
          { context: { maxLineBytes: this.maxLineBytes } },
        );
        this.line = [];
        this.skipping = true;
        continue;
      }
      this.line.push(byte);
    }
    return out;
  }
}
