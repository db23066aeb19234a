import type { Clock, TimerHandle } from '../core/clock.ts';
import type { PollTicker, TickEntry } from './ticker.ts';

export interface SchedulerOptions {
  intervalMs: number;
  clock: Clock;
  /**
   * Shared ticker for the regular polls (one wake-up per slot for the whole fleet). Not used
   * when the interval is under four slots: those polls keep a timer of their own.
   */
  ticker?: PollTicker;
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
  private entry: TickEntry | undefined;
  private readonly ticker: PollTicker | undefined;
  /** Ticker time the current or next run was due at (before rounding to a slot). */
  private dueAt = 0;
  private running = false;
  private inFlight = false;
  private wakeRequested = false;
  private failures = 0;

  constructor(
    private readonly opts: SchedulerOptions,
    private readonly task: () => Promise<boolean>,
  ) {
    const t = opts.ticker;
    this.ticker = t && opts.intervalMs >= 4 * t.slotMs ? t : undefined;
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
    this.cancel();
  }

  wake(): void {
    if (!this.running) return;
    if (this.inFlight) {
      this.wakeRequested = true;
      return;
    }
    this.schedule(0);
  }

  private cancel(): void {
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.entry) this.ticker?.cancel(this.entry);
    this.entry = undefined;
  }

  /** Time base of `dueAt`: the ticker's, else the clock's. */
  private now(): number {
    return this.ticker ? this.ticker.now() : this.opts.clock.now();
  }

  /** Runs after `delayMs`: at once for 0, else through the ticker when there is one. */
  private schedule(delayMs: number): void {
    this.scheduleAt(this.now() + delayMs);
  }

  private scheduleAt(at: number): void {
    this.cancel();
    const now = this.now();
    this.dueAt = Math.max(at, now);
    if (this.ticker && at > now) {
      this.entry = this.ticker.add(at, () => {
        this.entry = undefined;
        void this.run();
      });
      return;
    }
    this.timer = this.opts.clock.setTimeout(
      () => {
        this.timer = undefined;
        void this.run();
      },
      Math.max(0, at - now),
    );
  }

  private async run(): Promise<void> {
    if (!this.running || this.inFlight) return;
    this.inFlight = true;
    const dueAt = this.dueAt;
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
    // Keep a steady cadence, failed or not: one interval after the time this run was due (a
    // ticker slot rounds each run, not the cadence); a run that overran its interval (a
    // timeout longer than the interval) is followed at once.
    this.scheduleAt(dueAt + this.opts.intervalMs);
  }
}
