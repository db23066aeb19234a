/**
 * The young generation of a small bridge. V8 doubles the new space (up to 16 MiB a
 * semi-space on 64-bit, 32 MiB resident) after scavenges in which many objects survive,
 * and a bridge with a few UPSes then keeps ~16 MiB more resident memory than it ever uses:
 * measured for one NIS UPS at 1 s, new space 16 MiB with 0.6 MiB live (bench/idle.ts,
 * docs/benchmarks.md). Keeping the growth factor at 1 holds it at its initial 1 MiB; a
 * scavenge then runs every few seconds instead of every minute, microseconds each.
 * Large fleets keep V8's default: their allocation rate is what the bigger space is for.
 */
import { setFlagsFromString } from 'node:v8';

/** Up to this many configured UPSes a bridge counts as small. */
export const SMALL_BRIDGE_UPSES = 16;

/**
 * Stops the new space from growing when at most {@link SMALL_BRIDGE_UPSES} UPSes are
 * configured. Returns whether it did. The flag is read at every scavenge, so setting it
 * after start-up works (node:v8 documents setFlagsFromString as best effort).
 */
export function keepYoungGenerationSmall(upsCount: number): boolean {
  if (upsCount > SMALL_BRIDGE_UPSES) return false;
  setFlagsFromString('--semi-space-growth-factor=1');
  return true;
}
