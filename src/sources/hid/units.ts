/**
 * HID units and unit exponents (HID 1.11 §6.2.2.7; docs/protocols/hid.md#units-and-exponents), scaled the way NUT's
 * drivers/libhid.c does it: logical → physical by the physical range when one is declared,
 * then × 10^(exponent − bias). The HID unit system is CGS-based, so the SI volt and watt
 * carry a built-in 10^7 (bias 7); every other unit has bias 0. Pure.
 */

import type { HidField } from './descriptor/parser.ts';

/** Volt: length² · mass · time⁻³ · current⁻¹ in the HID unit system. */
export const UNIT_VOLT = 0x00f0d121;
/** Watt, also used for VA. */
export const UNIT_WATT = 0x0000d121;
/** Ampere. */
export const UNIT_AMPERE = 0x00100001;
/** Second. */
export const UNIT_SECOND = 0x00001001;
/** Kelvin. */
export const UNIT_KELVIN = 0x00010001;
/** Hertz. */
export const UNIT_HERTZ = 0x0000f001;

/** Power of ten built into the CGS unit (7 for volt and watt/VA, else 0). */
export function unitBias(unit: number): number {
  return unit === UNIT_VOLT || unit === UNIT_WATT ? 7 : 0;
}

/**
 * A physical range is used only when it is declared and not degenerate (HID 1.11 §6.2.2.7:
 * min = max = 0 means "same as logical"). CyberPower timers declare −60…1966020 over
 * −1…32767, so a logical minute reads as seconds.
 */
function physicalScale(field: HidField): { k: number; off: number } | undefined {
  const { physicalMin: pMin, physicalMax: pMax, logicalMin: lMin, logicalMax: lMax } = field;
  if ((pMin === 0 && pMax === 0) || pMin === pMax || lMin === lMax) return undefined;
  return { k: (pMax - pMin) / (lMax - lMin), off: pMin - lMin * ((pMax - pMin) / (lMax - lMin)) };
}

/** Multiplies by 10^e, dividing for negative e so 1343 × 10^−2 prints as 13.43. */
function pow10(value: number, e: number): number {
  return e < 0 ? value / 10 ** -e : value * 10 ** e;
}

/** The physical value (in the SI unit: V, W, A, s, K, Hz, or plain) of a logical value. */
export function toPhysical(field: HidField, logical: number): number {
  const scale = physicalScale(field);
  const linear = scale === undefined ? logical : logical * scale.k + scale.off;
  return pow10(linear, field.unitExponent - unitBias(field.unit));
}

/**
 * The logical value to write for a physical value. `up` rounds towards the next
 * representable value, so a shutdown delay is never shortened by a coarse unit (a 20 s
 * request on a CyberPower minute timer becomes 1 minute, not 0).
 */
export function toLogical(field: HidField, physical: number, rounding: 'nearest' | 'up'): number {
  const unscaled = pow10(physical, unitBias(field.unit) - field.unitExponent);
  const scale = physicalScale(field);
  const logical = scale === undefined ? unscaled : (unscaled - scale.off) / scale.k;
  // Float noise (59.999999) must not round a value up by a whole step.
  const cleaned = Math.round(logical * 1e6) / 1e6;
  return rounding === 'up' ? Math.ceil(cleaned) : Math.round(cleaned);
}

/** Whether a logical value fits the field's bit width (with its signedness). */
export function fitsField(field: HidField, logical: number): boolean {
  if (!Number.isInteger(logical)) return false;
  if (field.signed) {
    const half = 2 ** (field.bitSize - 1);
    return logical >= -half && logical < half;
  }
  return logical >= 0 && logical < 2 ** field.bitSize;
}
