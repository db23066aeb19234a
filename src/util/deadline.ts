import { type Clock, systemClock, type TimerHandle } from '../core/clock.ts';

/**
 * Waits for `promise`, but at most `ms` on `clock`: resolves `'timeout'` when the deadline
 * passes first. The timer is always cleared, and a late rejection of `promise` is swallowed.
 */
export async function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  clock: Clock = systemClock,
): Promise<T | 'timeout'> {
  let timer: TimerHandle | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = clock.setTimeout(() => resolve('timeout'), ms);
  });
  promise.catch(() => {});
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    if (timer) clock.clearTimeout(timer);
  }
}
