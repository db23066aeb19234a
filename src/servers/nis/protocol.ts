/**
 * The request side of apcupsd's NIS as its server sees it (docs/nis-server.md): every
 * message is a 2-byte big-endian length and that many bytes. Behaviour measured on the real
 * apcupsd 3.14.14 (test/integration/nis-server.test.ts checks ours against it):
 * - exactly `status` or `events` is a command; anything else of 1-256 bytes (`status\n`,
 *   `STATUS`, binary) is answered `Invalid command\n\0` and the connection stays open;
 * - a zero-length message, or a length over 256, closes the connection without a reply.
 * Pure: no sockets here.
 */

/** apcupsd reads a request into a 256-byte buffer; a longer one ends the connection. */
export const NIS_MAX_REQUEST_BYTES = 256;

/** One decoded request: a command payload, or the end of the conversation. */
export type NisRequest = { kind: 'command'; payload: Buffer } | { kind: 'close' };

/**
 * Splits a client's byte stream into requests, carrying an incomplete one over to the next
 * chunk. Once it has returned `close`, it returns nothing more: the caller drops the client.
 */
export class NisRequestDecoder {
  private carry: Buffer = Buffer.alloc(0);
  private closed = false;

  /** Bytes received but not yet part of a complete request (at most 257). */
  get pendingBytes(): number {
    return this.carry.length;
  }

  push(chunk: Buffer): NisRequest[] {
    if (this.closed) return [];
    const buf = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    const out: NisRequest[] = [];
    let offset = 0;
    while (buf.length - offset >= 2) {
      const length = buf.readUInt16BE(offset);
      if (length === 0 || length > NIS_MAX_REQUEST_BYTES) {
        this.closed = true;
        this.carry = Buffer.alloc(0);
        out.push({ kind: 'close' });
        return out;
      }
      if (buf.length - offset - 2 < length) break;
      out.push({
        kind: 'command',
        payload: Buffer.from(buf.subarray(offset + 2, offset + 2 + length)),
      });
      offset += 2 + length;
    }
    // Copy so that a large chunk is not kept alive by a few carried bytes.
    this.carry = offset === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(offset));
    return out;
  }
}

/** The two commands apcupsd's NIS knows; undefined for anything else. */
export function nisCommandOf(payload: Buffer): 'status' | 'events' | undefined {
  const text = payload.toString('latin1');
  return text === 'status' || text === 'events' ? text : undefined;
}

/** The `00 00` message that ends every reply. */
const END = Buffer.from([0, 0]);

/** Frames lines (each with its `\n`) as one message each, then `00 00`: one buffer, one write. */
export function encodeNisReply(lines: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const line of lines) {
    const body = Buffer.from(line, 'utf8');
    const head = Buffer.alloc(2);
    head.writeUInt16BE(body.length);
    parts.push(head, body);
  }
  parts.push(END);
  return Buffer.concat(parts);
}

/** apcupsd's answer to an unknown command: the message with its NUL, then `00 00`. */
export const NIS_INVALID_COMMAND_REPLY = Buffer.concat([
  Buffer.from([0, 17]),
  Buffer.from('Invalid command\n\0', 'latin1'),
  END,
]);
