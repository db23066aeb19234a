import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';

/**
 * Most answers (result message, event, log line) per UPS and second for command messages
 * that ran nothing: refusals and arm/disarm. Executions are bounded by the per-command rate
 * limit; these are not, so a client sending thousands of messages a second would otherwise
 * get as many answers back, and as many log lines.
 */
export const UNANSWERED_REPORTS_PER_S = 10;

const WINDOW_MS = 1000;

interface Window {
  start: number;
  answered: number;
  silenced: number;
  timer: TimerHandle | undefined;
}

/**
 * Counts answers per UPS in one-second windows. Past the budget a message is still decided
 * (a refusal stays a refusal, an `arm` still arms) but not answered; at the end of such a
 * window one warning says how many went unanswered.
 */
export class ReportBudget {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly perSecond = UNANSWERED_REPORTS_PER_S,
  ) {}

  /** Whether this answer for `upsId` may go out now. */
  take(upsId: string): boolean {
    const now = this.clock.now();
    let w = this.windows.get(upsId);
    if (w === undefined || now - w.start >= WINDOW_MS) {
      if (w !== undefined) this.close(upsId, w);
      w = { start: now, answered: 0, silenced: 0, timer: undefined };
      this.windows.set(upsId, w);
    }
    if (w.answered < this.perSecond) {
      w.answered++;
      return true;
    }
    w.silenced++;
    if (w.timer === undefined) {
      const window = w;
      window.timer = this.clock.setTimeout(() => {
        window.timer = undefined;
        if (this.windows.get(upsId) === window) this.windows.delete(upsId);
        this.close(upsId, window);
      }, WINDOW_MS);
    }
    return false;
  }

  private close(upsId: string, w: Window): void {
    if (w.timer !== undefined) this.clock.clearTimeout(w.timer);
    w.timer = undefined;
    if (w.silenced === 0) return;
    this.logger.warn(
      { ups: upsId, unanswered: w.silenced, per_second: this.perSecond },
      'command messages refused without an answer: more than the answer budget in one second',
    );
    w.silenced = 0;
  }
}
