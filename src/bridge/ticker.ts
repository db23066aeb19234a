import type { Clock, TimerHandle } from '../core/clock.ts';

export interface PollTickerOptions {
  /** Width of one slot: polls due within the same slot run on one wake-up of the process. */
  slotMs: number;
  /**
   * Most polls started in one slot; the rest wait for the next slot, oldest first. Keeps a
   * fleet whose polls bunched up (after a stall of the process) from being polled in one burst.
   */
  maxPerTick: number;
  clock: Clock;
}

/** A poll waiting in the ticker. */
export interface TickEntry {
  readonly fn: () => void;
  /** Index of the slot the entry waits in; undefined once run or cancelled. */
  slot: number | undefined;
}

/**
 * One timer for the polls of every UPS. Each poll is due at its own (ideal) time and runs in
 * the slot nearest that time, so N UPSes wake the process at most once per slot instead of
 * N times per interval, while each UPS keeps its own interval on average. Entries run
 * without waiting for each other: a slow UPS delays nobody.
 */
export class PollTicker {
  private readonly slots = new Map<number, Set<TickEntry>>();
  private timer: TimerHandle | undefined;
  /** Slot index the timer is armed for. */
  private armedSlot = Number.POSITIVE_INFINITY;

  constructor(private readonly opts: PollTickerOptions) {}

  get slotMs(): number {
    return this.opts.slotMs;
  }

  /** The ticker's time base (monotonic where the clock has one), in ms. */
  now(): number {
    const { clock } = this.opts;
    return clock.monotonicNow ? clock.monotonicNow() : clock.now();
  }

  /** Runs `fn` in the slot nearest `at` (ticker time); a past time runs in the next tick. */
  add(at: number, fn: () => void): TickEntry {
    const slot = Math.round(at / this.opts.slotMs);
    const entry: TickEntry = { fn, slot };
    this.slotSet(slot).add(entry);
    if (slot < this.armedSlot) this.arm();
    return entry;
  }

  cancel(entry: TickEntry): void {
    if (entry.slot === undefined) return;
    const set = this.slots.get(entry.slot);
    set?.delete(entry);
    if (set?.size === 0) this.slots.delete(entry.slot);
    entry.slot = undefined;
  }

  /** Entries waiting (for tests and diagnostics). */
  get pending(): number {
    let n = 0;
    for (const set of this.slots.values()) n += set.size;
    return n;
  }

  private slotSet(slot: number): Set<TickEntry> {
    let set = this.slots.get(slot);
    if (!set) {
      set = new Set();
      this.slots.set(slot, set);
    }
    return set;
  }

  private earliestSlot(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const slot of this.slots.keys()) if (slot < min) min = slot;
    return min;
  }

  private arm(): void {
    const { clock, slotMs } = this.opts;
    if (this.timer) clock.clearTimeout(this.timer);
    this.timer = undefined;
    const slot = this.earliestSlot();
    this.armedSlot = slot;
    if (slot === Number.POSITIVE_INFINITY) return;
    const delay = Math.max(0, Math.ceil(slot * slotMs - this.now()));
    this.timer = clock.setTimeout(() => this.tick(), delay);
  }

  private tick(): void {
    this.timer = undefined;
    this.armedSlot = Number.POSITIVE_INFINITY;
    const { slotMs, maxPerTick } = this.opts;
    // A timer may fire a fraction of a millisecond before the slot by this clock.
    const current = Math.floor((this.now() + 1) / slotMs);
    const due = [...this.slots.keys()].filter((s) => s <= current).sort((a, b) => a - b);
    const run: TickEntry[] = [];
    const late: TickEntry[] = [];
    for (const slot of due) {
      const set = this.slots.get(slot);
      this.slots.delete(slot);
      for (const entry of set ?? []) {
        if (run.length < maxPerTick) run.push(entry);
        else late.push(entry);
      }
    }
    if (late.length > 0) {
      // Over the bound: the rest go first in the next slot.
      const next = current + 1;
      const after = this.slots.get(next);
      const merged = new Set<TickEntry>(late);
      for (const entry of after ?? []) merged.add(entry);
      for (const entry of merged) entry.slot = next;
      this.slots.set(next, merged);
    }
    this.arm();
    for (const entry of run) {
      entry.slot = undefined;
      try {
        entry.fn();
      } catch {
        // A poll's own errors are its scheduler's business; the others still run.
      }
    }
  }
}
