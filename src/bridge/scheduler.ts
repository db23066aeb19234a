import type { Clock, TimerHandle } from '../core/clock.ts';

export interface SchedulerOptions {
  intervalMs: number;
  clock: Clock;
}

/**
 * Runs `task` every interval, one at a time, whether the last run succeeded or not: a source
 * that answers again is read within one interval (docs/reliability.md). There is no backoff
 * on purpose: with one attempt at a time, a dead peer sees at most one connection per
 * interval (or per timeout, when that is longer), and the exponential backoff this replaced
 * delayed recovery by up to 3 intervals after a short apcupsd restart. `wake()` runs the task
 * at once (coalesced when one is in flight), for alerts and commands.
 */
export class PollScheduler {
  private timer: TimerHandle | undefined;
  private running = false;
  private inFlight = false;
  private wakeRequested = false;
  private failures = 0;

  constructor(
    private readonly opts: SchedulerOptions,
    private readonly task: () => Promise<boolean>,
  ) {}

  /** Consecutive failed runs. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Starts; the first run comes after `initialDelayMs` (spreads many UPSes over the interval). */
  start(initialDelayMs = 0): void {
    if (this.running) return;
    this.running = true;
    this.schedule(initialDelayMs);
  }

  stop(): void {
    this.running = false;
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  wake(): void {
    if (!this.running) return;
    if (this.inFlight) {
      this.wakeRequested = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, delayMs);
  }

  private async run(): Promise<void> {
    if (!this.running || this.inFlight) return;
    this.inFlight = true;
    const started = this.opts.clock.now();
    let ok = false;
    try {
      ok = await this.task();
    } catch {
      ok = false;
    }
    this.inFlight = false;
    this.failures = ok ? 0 : this.failures + 1;
    if (!this.running) return;
    if (this.wakeRequested) {
      this.wakeRequested = false;
      this.schedule(0);
      return;
    }
    // Keep a steady cadence: the time the task took counts against the interval.
    const elapsed = this.opts.clock.now() - started;
    this.schedule(Math.max(0, this.opts.intervalMs - elapsed));
  }
}
