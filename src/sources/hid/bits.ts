/**
 * Bit packing of HID report data (HID 1.11 §5.8 and §8.4): little-endian, fields packed
 * LSB first in declaration order. Offsets count from the first data byte, i.e. after the
 * report-ID byte. Pure; values up to 32 bits (the widest any UPS uses).
 */

import type { HidField } from './descriptor/parser.ts';

/** Reads `bitSize` bits at `bitOffset` of `data` as an unsigned number. */
export function readBits(
  data: Uint8Array,
  start: number,
  bitOffset: number,
  bitSize: number,
): number {
  if (bitOffset % 8 === 0 && bitSize % 8 === 0) {
    const first = start + bitOffset / 8;
    let value = 0;
    for (let i = bitSize / 8 - 1; i >= 0; i--) value = value * 256 + (data[first + i] ?? 0);
    return value;
  }
  let value = 0;
  for (let i = 0; i < bitSize; i++) {
    const bit = bitOffset + i;
    const byte = data[start + (bit >> 3)] ?? 0;
    if ((byte >> (bit & 7)) & 1) value += 2 ** i;
  }
  return value;
}

/** Writes the low `bitSize` bits of the unsigned `value` at `bitOffset`, leaving other bits alone. */
export function writeBits(
  data: Uint8Array,
  start: number,
  bitOffset: number,
  bitSize: number,
  value: number,
): void {
  for (let i = 0; i < bitSize; i++) {
    const bit = bitOffset + i;
    const index = start + (bit >> 3);
    const mask = 1 << (bit & 7);
    const set = Math.floor(value / 2 ** i) % 2 === 1;
    data[index] = set ? (data[index] ?? 0) | mask : (data[index] ?? 0) & ~mask;
  }
}

/** Two's-complement reading of an unsigned `bits`-wide value. */
export function toSigned(value: number, bits: number): number {
  const half = 2 ** (bits - 1);
  return value >= half ? value - 2 ** bits : value;
}

/** The unsigned bit pattern of a (possibly negative) value `bits` wide. */
export function toUnsigned(value: number, bits: number): number {
  return value < 0 ? value + 2 ** bits : value;
}

/** Whether the field lies entirely inside a report of `reportLength` bytes (ID byte included). */
export function fieldFits(field: HidField, reportLength: number): boolean {
  return 1 + Math.ceil((field.bitOffset + field.bitSize) / 8) <= reportLength;
}

/**
 * The field's logical value from a report (`report[0]` is the report ID): sign-extended only
 * when the descriptor's Logical Minimum is negative, never clamped to the logical range
 * (Back-UPS XS 1400U declares 75…140 for a 230 V reading, NUT #1189).
 */
export function readField(field: HidField, report: Uint8Array): number {
  const raw = readBits(report, 1, field.bitOffset, field.bitSize);
  return field.signed ? toSigned(raw, field.bitSize) : raw;
}

/** Patches the field's logical value into a copy of the report, other fields untouched. */
export function writeField(field: HidField, report: Uint8Array, logical: number): Uint8Array {
  const copy = new Uint8Array(report);
  writeBits(copy, 1, field.bitOffset, field.bitSize, toUnsigned(logical, field.bitSize));
  return copy;
}
