/**
 * V8's young generation, sized to the bridge. Imported by the CLI entry (main.ts) before the
 * program is loaded, like tiers.ts.
 *
 * V8 doubles the new space (two semi-spaces, from 1 up to 16 MiB each on 64-bit, so up to
 * 32 MiB resident) after scavenges in which many objects survive, and keeps it. A bridge
 * allocates in proportion to its polls, and the space it needs does too: one NIS UPS at 1 s
 * kept a 32 MiB new space with 0.6 MiB live; 100 UPSes at 1 s (100 polls a second) run in
 * 4 MiB semi-spaces at the same CPU as in 16 MiB ones and 12 MiB less RSS, while 1 MiB ones
 * cost them 1.2× the CPU (docs/benchmarks.md "The young generation sized to the polls").
 *
 * So the growth factor is 1 (no growth) from the start, and once the UPSes are known
 * ({@link settleYoungGeneration}) a semi-space may grow once to {@link semiSpaceCapMiB}: one
 * MiB per 25 polls a second, as a power of two; from 16 MiB on V8 is left alone. The growth
 * factor is read at every growth, so setting it at run time works (node:v8 documents
 * setFlagsFromString as best effort). Given on the command line instead, Node 20's V8 did not
 * hold the new space at all (measured: 32 MiB either way), and `--max-semi-space-size` set at
 * run time is ignored: V8 reads it once, when the heap is set up.
 *
 * A young-generation flag of the user's own (command line or NODE_OPTIONS) wins.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { nodeFlagGiven } from './node-flags.ts';

/** Polls a second that one MiB of semi-space serves. */
export const POLLS_PER_SEMI_SPACE_MIB = 25;

/** V8's largest semi-space on 64-bit, in MiB. */
const V8_MAX_SEMI_SPACE_MIB = 16;

/** V8's own growth factor. */
const V8_GROWTH_FACTOR = 2;

const MIB = 1024 * 1024;

const YOUNG_FLAG =
  /^--(max-semi-space-size|min-semi-space-size|semi-space-growth-factor|max-heap-size)(=|$)/;

/** True when `execArgv` or NODE_OPTIONS sizes the young generation (`_` spelled as `-` too). */
export function userSizedYoungGeneration(
  execArgv: readonly string[],
  nodeOptions: string,
): boolean {
  return nodeFlagGiven(YOUNG_FLAG, execArgv, nodeOptions);
}

const chosenByUser = userSizedYoungGeneration(process.execArgv, process.env.NODE_OPTIONS ?? '');
if (!chosenByUser) setFlagsFromString('--semi-space-growth-factor=1');

/**
 * The semi-space a bridge of `polls` polls a second may grow to, in MiB: a power of two from
 * 1 to 16, where 16 means V8's own sizing.
 */
export function semiSpaceCapMiB(polls: number): number {
  const wanted = Math.max(1, polls / POLLS_PER_SEMI_SPACE_MIB);
  const cap = 2 ** Math.round(Math.log2(wanted));
  return Math.min(V8_MAX_SEMI_SPACE_MIB, cap);
}

/** What {@link settleYoungGeneration} decided. */
export type YoungGeneration =
  | { kind: 'capped'; semiSpaceMiB: number }
  | { kind: 'v8' }
  | { kind: 'user' };

/** The size of one semi-space now, in MiB (the new space is two). */
function semiSpaceMiBNow(): number {
  const bytes = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
  return bytes / 2 / MIB;
}

let watcher: PerformanceObserver | undefined;

/**
 * Once the UPSes are known: lets a semi-space grow once to {@link semiSpaceCapMiB}, then holds
 * it there (a garbage-collection observer sets the factor back to 1 after the growth and
 * stops). Called again, the last call wins.
 */
export function settleYoungGeneration(polls: number): YoungGeneration {
  if (chosenByUser) return { kind: 'user' };
  watcher?.disconnect();
  watcher = undefined;
  const cap = semiSpaceCapMiB(polls);
  if (cap >= V8_MAX_SEMI_SPACE_MIB) {
    setFlagsFromString(`--semi-space-growth-factor=${V8_GROWTH_FACTOR}`);
    return { kind: 'v8' };
  }
  const semiSpaceNow = Math.max(1, semiSpaceMiBNow());
  if (cap <= semiSpaceNow) {
    setFlagsFromString('--semi-space-growth-factor=1');
    return { kind: 'capped', semiSpaceMiB: cap };
  }
  // One growth from the current size straight to the cap.
  setFlagsFromString(`--semi-space-growth-factor=${Math.ceil(cap / semiSpaceNow)}`);
  const observer = new PerformanceObserver(() => {
    if (semiSpaceMiBNow() < cap) return;
    setFlagsFromString('--semi-space-growth-factor=1');
    observer.disconnect();
    if (watcher === observer) watcher = undefined;
  });
  observer.observe({ entryTypes: ['gc'] });
  watcher = observer;
  return { kind: 'capped', semiSpaceMiB: cap };
}
