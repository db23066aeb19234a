import type { UpsSource } from '../core/source.ts';
import type { SelfTestState, UpsState } from '../core/state.ts';

/** What the bridge remembers about self-tests between readings. */
export interface SelfTestTrack {
  state: SelfTestState;
  finishedAt?: string;
  /** The source's result at the previous reading, to see it change. */
  lastResult?: string;
}

/** Outcome of a finished test from the source's result code. */
function outcome(result: UpsState['self_test_result']): SelfTestState | undefined {
  switch (result) {
    case 'passed':
    case 'warning':
      return 'passed';
    case 'failed':
    case 'failed_capacity':
    case 'failed_load':
      return 'failed';
    case 'aborted':
      return 'aborted';
    default:
      return undefined;
  }
}

/**
 * Advances the self-test lifecycle with a new reading. Pure. `running` while the source says
 * a test runs; the outcome once it ends, kept until the next test (apcupsd forgets its
 * result after five minutes; the lifecycle does not). The first reading starts from what the
 * source reports, so a restart does not invent a test.
 */
export function trackSelfTest(prev: SelfTestTrack | undefined, s: UpsState): SelfTestTrack {
  const running = s.test_in_progress === true || s.self_test_result === 'in_progress';
  const result = s.self_test_result;
  if (running)
    return {
      state: 'running',
      ...(prev?.finishedAt ? { finishedAt: prev.finishedAt } : {}),
      ...(result ? { lastResult: result } : {}),
    };
  const done = outcome(result);
  if (!prev) {
    const at = done ? s.last_self_test_at : undefined;
    return {
      state: done ?? 'idle',
      ...(at ? { finishedAt: at } : {}),
      ...(result ? { lastResult: result } : {}),
    };
  }
  const base = { ...(result ? { lastResult: result } : {}) };
  if (prev.state === 'running') {
    // The test ended: its result, or aborted when the source gives none.
    return { ...base, state: done ?? 'aborted', finishedAt: s.updated_at };
  }
  if (done && result !== prev.lastResult) {
    return { ...base, state: done, finishedAt: s.last_self_test_at ?? s.updated_at };
  }
  return {
    ...base,
    state: prev.state,
    ...(prev.finishedAt ? { finishedAt: prev.finishedAt } : {}),
  };
}

/**
 * Adds `self_test_state` (and `self_test_finished_at`) to a state about to be published,
 * where the UPS can test or reports test results; returns the track to keep for the next
 * reading (unchanged when nothing applies). Shared by the bridge and `ups2mqtt status`, so
 * a one-shot reading carries exactly what the first state message would.
 */
export function applySelfTest(
  prev: SelfTestTrack | undefined,
  state: UpsState,
  canTest: boolean,
): SelfTestTrack | undefined {
  if (!canTest && state.self_test_result === undefined && state.test_in_progress === undefined) {
    return prev;
  }
  if (state.comm_lost === true) return prev;
  const next = trackSelfTest(prev, state);
  state.self_test_state = next.state;
  if (next.finishedAt) state.self_test_finished_at = next.finishedAt;
  return next;
}

/** Whether the source offers a battery self-test command. */
export function canSelfTest(source: Pick<UpsSource, 'capabilities'>): boolean {
  return source.capabilities().commands.some((c) => c.startsWith('test.battery.'));
}
