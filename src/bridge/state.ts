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
  // The keys and order of `{ ...data, status, updated_at }`, copied key by key: V8 then
  // follows the hidden-class transitions of the previous poll's state. A spread with keys
  // added after it built a new hidden class for every state (~10 µs a poll, with ~50 keys).
  const src = data as Record<string, unknown>;
  const state: Record<string, unknown> = {};
  for (const key of Object.keys(src)) state[key] = src[key];
  state.status = deriveStatus(data);
  state.updated_at = isoWithOffset(at);
  return state as unknown as UpsState;
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

/**
 * Whether two states agree on every publish-worthy part: the same keys besides the
 * volatile ones, each with the same JSON value (undefined counting as null). Compared key
 * by key, without building a string of either state: this runs on every poll.
 */
export function samePublishable(a: UpsState | undefined, b: UpsState): boolean {
  if (a === undefined) return false;
  const ra = a as unknown as Record<string, unknown>;
  const rb = b as unknown as Record<string, unknown>;
  let keys = 0;
  for (const key in rb) {
    if (!Object.hasOwn(rb, key) || VOLATILE_KEYS.has(key as UpsStateKey)) continue;
    if (!Object.hasOwn(ra, key)) return false;
    keys++;
    const va = ra[key];
    const vb = rb[key];
    if (va !== vb && JSON.stringify(va ?? null) !== JSON.stringify(vb ?? null)) return false;
  }
  for (const key in ra) {
    if (Object.hasOwn(ra, key) && !VOLATILE_KEYS.has(key as UpsStateKey)) keys--;
  }
  return keys === 0;
}
