/** Timing rules of the simulated Smart-UPS, and the real-time timers it runs on. */

/** Timing rules and durations; tests shorten the durations. */
export interface SimTiming {
  /** The second key of `K K`, `Z Z`, `^N ^N` counts only this long after the first (≥ 1.5 s, docs/protocols/apcsmart.md#actions). */
  doubleKeyMinGapMs: number;
  /** …and only within this window; later it starts over. */
  doubleKeyWindowMs: number;
  /** `@nnn`: a digit later than this after the previous byte abandons the command. */
  digitTimeoutMs: number;
  /** `@nnn`: bytes closer than this are a pacing violation (recorded). */
  minDigitGapMs: number;
  selfTestMs: number;
  failureTestMs: number;
  /** Delay of the `|` that confirms an EEPROM step (about 5 s on real units, docs/protocols/apcsmart.md#eeprom-settings). */
  eepromConfirmMs: number;
  /** `!` is repeated this often while on battery (30 s, docs/protocols/apcsmart.md#alert-characters). */
  onBatteryRepeatMs: number;
  /** Grace delay before the output goes off; default the `p` value in seconds. */
  graceMs?: number;
}

export const DEFAULT_SIM_TIMING: SimTiming = {
  doubleKeyMinGapMs: 1500,
  doubleKeyWindowMs: 10_000,
  digitTimeoutMs: 5000,
  minDigitGapMs: 40,
  selfTestMs: 8000,
  failureTestMs: 3000,
  eepromConfirmMs: 5000,
  onBatteryRepeatMs: 30_000,
};

/** setTimeout by name: starting a name again replaces its timer; clear() stops them all. */
export class NamedTimers {
  private readonly named = new Map<string, NodeJS.Timeout>();

  start(name: string, ms: number, fn: () => void): void {
    this.cancel(name);
    const t = setTimeout(() => {
      this.named.delete(name);
      fn();
    }, ms);
    this.named.set(name, t);
  }

  cancel(name: string): void {
    const t = this.named.get(name);
    if (t === undefined) return;
    clearTimeout(t);
    this.named.delete(name);
  }

  clear(): void {
    for (const t of this.named.values()) clearTimeout(t);
    this.named.clear();
  }
}
