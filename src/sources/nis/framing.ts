import { Ups2MqttError } from '../../core/errors.ts';

/**
 * apcupsd NIS framing (docs/protocols/nis.md#framing): every message in both directions is a 2-byte
 * unsigned big-endian length followed by that many payload bytes; a zero-length message
 * ends a reply. Pure: no sockets here.
 */

/** The only two commands apcupsd's NIS understands (docs/protocols/nis.md#framing, docs/protocols/nis.md#event-log). */
export type NisCommand = 'status' | 'events';

/** One decoded message: a payload line (verbatim, newline and NUL kept) or the end of a reply. */
export type NisFrame = { kind: 'line'; text: string } | { kind: 'end' };

/**
 * Default payload limit. apcupsd formats lines into a 256-byte buffer (≤ 255 bytes) and
 * apcaccess treats anything longer than 257 as an error (docs/protocols/nis.md#framing); 1024 leaves room for forks
 * while still refusing garbage such as a peer that is not NIS at all.
 */
export const DEFAULT_MAX_FRAME_BYTES = 1024;

const LENGTH_BYTES = 2;

/**
 * Encodes a command as one buffer (length prefix + ASCII, no newline, no NUL), so it goes out
 * in a single write: a split write costs a delayed-ACK round trip (measured: docs/benchmarks.md).
 */
export function encodeNisCommand(cmd: NisCommand): Buffer {
  const payload = Buffer.from(cmd, 'ascii');
  const out = Buffer.alloc(LENGTH_BYTES + payload.length);
  out.writeUInt16BE(payload.length, 0);
  payload.copy(out, LENGTH_BYTES);
  return out;
}

/** Options of {@link NisFrameDecoder}. */
export interface NisFrameDecoderOptions {
  /** Largest payload accepted, in bytes (default {@link DEFAULT_MAX_FRAME_BYTES}). */
  maxFrameBytes?: number;
}

/**
 * Reassembles NIS frames from arbitrary TCP chunks. Bytes of an incomplete frame (even half
 * of the length prefix) are carried over to the next `push`. After it has thrown, the
 * decoder's state is undefined: discard it with the connection.
 */
export class NisFrameDecoder {
  private readonly maxFrameBytes: number;
  private carry: Buffer = Buffer.alloc(0);

  constructor(options: NisFrameDecoderOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Bytes received but not yet part of a complete frame. */
  get pendingBytes(): number {
    return this.carry.length;
  }

  /**
   * Adds a chunk and returns every frame it completes, in order.
   * @throws Ups2MqttError FRAME_TOO_LARGE when a length prefix exceeds the limit.
   */
  push(chunk: Buffer): NisFrame[] {
    const buf = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    const frames: NisFrame[] = [];
    let offset = 0;
    while (buf.length - offset >= LENGTH_BYTES) {
      const length = buf.readUInt16BE(offset);
      if (length > this.maxFrameBytes) {
        throw new Ups2MqttError(
          'FRAME_TOO_LARGE',
          `NIS frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`,
          { context: { length, maxFrameBytes: this.maxFrameBytes } },
        );
      }
      if (buf.length - offset - LENGTH_BYTES < length) break;
      const start = offset + LENGTH_BYTES;
      frames.push(
        length === 0
          ? { kind: 'end' }
          : { kind: 'line', text: buf.toString('utf8', start, start + length) },
      );
      offset = start + length;
    }
    // Copy the remainder so the (possibly large) chunk it came from can be collected.
    this.carry = offset === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(offset));
    return frames;
  }
}
