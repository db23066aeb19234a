/**
 * Tokenizer for HID report descriptors (HID 1.11 §6.2.2.2–6.2.2.3). Pure: bytes in, items
 * out. The parser (parser.ts) gives the items meaning; this file only frames them.
 *
 * A short item is one prefix byte `tag(4) | type(2) | size(2)` followed by 0, 1, 2 or 4 data
 * bytes (size code 3 means 4). A long item starts with 0xFE, then a data length and a tag;
 * no UPS uses them, but they must be skipped correctly.
 */

import { Ups2MqttError } from '../../../core/errors.ts';

/** Item type from bits 2–3 of the prefix. */
export type ItemType = 'main' | 'global' | 'local' | 'reserved';

/** One framed descriptor item. */
export interface DescriptorItem {
  /** Byte offset of the prefix in the descriptor, for error messages. */
  offset: number;
  type: ItemType;
  /** The 4-bit tag (for long items, the long-item tag byte). */
  tag: number;
  /** Number of data bytes (0, 1, 2 or 4 for short items). */
  size: number;
  /** Data as an unsigned little-endian number. */
  unsigned: number;
  /** Data sign-extended from its own size (what signed globals such as Logical Minimum use). */
  signed: number;
  long: boolean;
}

const TYPES: readonly ItemType[] = ['main', 'global', 'local', 'reserved'];
const SIZES = [0, 1, 2, 4] as const;
const LONG_ITEM_PREFIX = 0xfe;

/** Reads `size` bytes at `at` as an unsigned little-endian number (size ≤ 4). */
function readUnsigned(bytes: Uint8Array, at: number, size: number): number {
  let value = 0;
  for (let i = size - 1; i >= 0; i--) value = value * 256 + (bytes[at + i] ?? 0);
  return value;
}

/** Sign-extends an unsigned value of `size` bytes. */
export function signExtend(value: number, size: number): number {
  if (size === 0) return 0;
  const bits = size * 8;
  const half = 2 ** (bits - 1);
  return value >= half ? value - 2 ** bits : value;
}

/**
 * Splits a descriptor into items. Throws PROTOCOL_ERROR when an item runs past the end
 * (a truncated descriptor must not be half-parsed into wrong offsets).
 */
export function tokenizeDescriptor(bytes: Uint8Array): DescriptorItem[] {
  const items: DescriptorItem[] = [];
  let at = 0;
  while (at < bytes.length) {
    const prefix = bytes[at] ?? 0;
    if (prefix === LONG_ITEM_PREFIX) {
      const dataSize = bytes[at + 1];
      const longTag = bytes[at + 2];
      if (dataSize === undefined || longTag === undefined || at + 3 + dataSize > bytes.length) {
        throw truncated(at, bytes.length);
      }
      items.push({
        offset: at,
        type: 'reserved',
        tag: longTag,
        size: dataSize,
        unsigned: 0,
        signed: 0,
        long: true,
      });
      at += 3 + dataSize;
      continue;
    }
    const size = SIZES[prefix & 0x03] ?? 0;
    if (at + 1 + size > bytes.length) throw truncated(at, bytes.length);
    const unsigned = readUnsigned(bytes, at + 1, size);
    items.push({
      offset: at,
      type: TYPES[(prefix >> 2) & 0x03] ?? 'reserved',
      tag: prefix >> 4,
      size,
      unsigned,
      signed: signExtend(unsigned, size),
      long: false,
    });
    at += 1 + size;
  }
  return items;
}

function truncated(offset: number, length: number): Ups2MqttError {
  return new Ups2MqttError(
    'PROTOCOL_ERROR',
    `HID report descriptor is truncated: the item at byte ${offset} runs past its end (${length} bytes)`,
    { context: { offset, length } },
  );
}

/** Parses `"05 84 09 04"` (any whitespace, optional `0x`) into bytes; throws on bad hex. */
export function hexToBytes(text: string): Uint8Array {
  const clean = text.replace(/0x/gi, '').replace(/[\s,:]+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) {
    throw new Ups2MqttError('PROTOCOL_ERROR', 'hex text has an odd length or a non-hex character', {
      context: { sample: text.slice(0, 40) },
    });
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Formats bytes as lower-case space-separated hex, the capture files' notation. */
export function bytesToHex(bytes: Uint8Array | readonly number[]): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}
