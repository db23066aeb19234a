import type { Clock, TimerHandle } from '../core/clock.ts';

export interface SchedulerOptions {
  intervalMs: number;
  /** Longest wait between attempts while the source keeps failing. */
  maxBackoffMs: number;
  clock: Clock;
  /** 0..1 random source for jitter (injected for tests). */
  random?: () => number;
}

/**
 * Runs `task` every interval, one at a time. After failures it backs off exponentially
 * (interval × 2^(n-1), capped, ±20 % jitter) so a dead peer is not hammered, and returns to
 * the interval on the first success. `wake()` runs the task at once (coalesced when one is
 * in flight), for alerts and commands.
 */
export class PollScheduler {
  private timer: TimerHandle | undefined;
  private running = false;
  private inFlight = false;
  private wakeRequested = false;
  private failures = 0;
  private readonly random: () => number;

  constructor(
    private readonly opts: SchedulerOptions,
    private readonly task: () => Promise<boolean>,
  ) {
    this.random = opts.random ?? Math.random;
  }

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

  /** Delay before the next run given the current failure count. */
  nextDelayMs(): number {
    const { intervalMs, maxBackoffMs } = this.opts;
    if (this.failures === 0) return intervalMs;
    const base = Math.min(maxBackoffMs, intervalMs * 2 ** Math.min(this.failures - 1, 20));
    const jitter = 1 + (this.random() * 0.4 - 0.2);
    return Math.max(intervalMs, Math.round(base * jitter));
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
    const delay = ok ? Math.max(0, this.opts.intervalMs - elapsed) : this.nextDelayMs();
    this.schedule(delay);
  }
}
