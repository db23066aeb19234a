import type { Clock, TimerHandle } from '../core/clock.ts';
import type { PollTicker, TickEntry } from './ticker.ts';

export interface SchedulerOptions {
  intervalMs: number;
  /** Longest wait between attempts while the source keeps failing. */
  maxBackoffMs: number;
  clock: Clock;
  /** 0..1 random source for jitter (injected for tests). */
  random?: () => number;
  /**
   * Shared ticker for the regular polls (one wake-up per slot for the whole fleet). Not used
   * when the interval is under four slots: those polls keep a timer of their own.
   */
  ticker?: PollTicker;
}

/**
 * Runs `task` every interval, one at a time. After failures it backs off exponentially
 * (interval × 2^(n-1), capped, ±20 % jitter) so a dead peer is not hammered, and returns to
 * the interval on the first success. `wake()` runs the task at once (coalesced when one is
 * in flight), for alerts and commands.
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
  private readonly random: () => number;

  constructor(
    private readonly opts: SchedulerOptions,
    private readonly task: () => Promise<boolean>,
  ) {
    this.random = opts.random ?? Math.random;
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

  /** Delay before the next run given the current failure count. */
  nextDelayMs(): number {
    const { intervalMs, maxBackoffMs } = this.opts;
    if (this.failures === 0) return intervalMs;
    const base = Math.min(maxBackoffMs, intervalMs * 2 ** Math.min(this.failures - 1, 20));
    const jitter = 1 + (this.random() * 0.4 - 0.2);
    return Math.max(intervalMs, Math.round(base * jitter));
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
    // Keep a steady cadence: one interval after the time this run was due (a ticker slot
    // rounds each run, not the cadence); a run that overran its interval is followed at once.
    if (ok) this.scheduleAt(dueAt + this.opts.intervalMs);
    else this.schedule(this.nextDelayMs());
  }
}
