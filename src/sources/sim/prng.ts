/**
 * Deterministic randomness for the simulator. The generator state is a plain number kept
 * inside the model state, so a model step stays a pure function and a seed replays the
 * same run byte for byte (no Math.random anywhere in the simulator).
 */

/** One draw: a uniform number in [0, 1) and the generator state to use next. */
export interface Draw {
  value: number;
  next: number;
}

/**
 * Mulberry32 (a 32-bit state, public-domain generator): small, fast and good enough for
 * noise on a demo UPS. Not for anything that needs unpredictability.
 */
export function drawUniform(state: number): Draw {
  const next = (state + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { value: ((t ^ (t >>> 14)) >>> 0) / 4294967296, next };
}

/**
 * An approximately standard-normal draw (mean 0, variance 1) from the sum of three
 * uniforms (Irwin-Hall). Bounded to ±3, which keeps the simulated drift from ever
 * producing a wild outlier.
 */
export function drawNormal(state: number): Draw {
  const a = drawUniform(state);
  const b = drawUniform(a.next);
  const c = drawUniform(b.next);
  return { value: (a.value + b.value + c.value - 1.5) * 2, next: c.next };
}

/** 32-bit FNV-1a hash of a string: stable default seeds and serials derived from names. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
