import type { UpsData, UpsState, UpsStateKey } from '../core/state.ts';
import { deriveStatus } from '../core/state.ts';
import { isoWithOffset } from '../core/time.ts';

/**
 * Keys that change on every poll without the UPS changing; they do not trigger a publish.
 * apcupsd re-stamps DATE (`sampled_at`) and END APC (`reported_at`) on every poll of its own.
 */
const VOLATILE_KEYS: ReadonlySet<UpsStateKey> = new Set<UpsStateKey>([
  'updated_at',
  'sampled_at',
  'reported_at',
  'data_age_s',
]);

/** Identity keys kept in the reduced state published while the UPS cannot be read. */
const IDENTITY_KEYS: readonly UpsStateKey[] = [
  'model',
  'serial_number',
  'firmware',
  'manufacturer',
  'ups_name',
];

/** The full published state of one good reading. */
export function buildState(data: UpsData, at: Date): UpsState {
  return { ...data, status: deriveStatus(data), updated_at: isoWithOffset(at) };
}

/**
 * The state published while the UPS cannot be read: status `comm_lost`, identity, and no
 * measurements at all, so no retained message claims a value that is no longer true.
 */
export function reducedState(last: UpsData | undefined, at: Date): UpsState {
  const out: UpsState = { status: 'comm_lost', comm_lost: true, updated_at: isoWithOffset(at) };
  if (last) {
    const src = last as Record<string, unknown>;
    const dst = out as unknown as Record<string, unknown>;
    for (const key of IDENTITY_KEYS) if (src[key] !== undefined) dst[key] = src[key];
  }
  return out;
}

/** A string that changes exactly when a publish-worthy part of the state changes. */
export function changeKey(state: UpsState): string {
  const entries = Object.entries(state)
    .filter(([k]) => !VOLATILE_KEYS.has(k as UpsStateKey))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}
