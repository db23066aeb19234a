/**
 * Feeds each UPS's history from the bridge: a sample after every state publish (so a power
 * failure shows at once) and one per resolution step on the injected clock (so a quiet UPS,
 * whose state is only re-published by the heartbeat, still draws a continuous line).
 *
 * The charted values change only with a publish or an availability change, both of which
 * notify, so the per-step samples between two notifications all repeat the sample taken at
 * the first. They are therefore written when they are next needed — at the next
 * notification or when the history is read — instead of by a timer that would wake an idle
 * bridge every resolution step, whether anybody looks at the page or not.
 */
import type { Clock } from '../core/clock.ts';
import { type HistoryOptions, sampleOf, UpsHistory } from './history.ts';
import type { BridgeView, UpsView } from './view.ts';

/** Keeps a UpsHistory per UPS of a bridge view; start() subscribes, stop() releases. */
export class HistoryRecorder {
  private readonly histories = new Map<UpsView, UpsHistory>();
  /** The sample of the latest notification (or of start()), per UPS. */
  private readonly current = new Map<UpsView, (number | null)[]>();
  private readonly unsubscribers: (() => void)[] = [];
  /** Time of the next per-step sample not yet written. */
  private nextStepAt = 0;
  private running = false;

  constructor(
    private readonly view: BridgeView,
    private readonly opts: HistoryOptions,
    private readonly clock: Clock,
  ) {}

  /** Subscribes to every UPS of the view; the per-step samples count from now. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.nextStepAt = this.clock.now() + this.opts.resolutionMs;
    for (const ups of this.view.bridges) {
      this.histories.set(ups, new UpsHistory(this.opts));
      this.unsubscribers.push(ups.onChange(() => this.sample(ups)));
      this.sample(ups);
    }
  }

  stop(): void {
    this.catchUp();
    this.running = false;
    for (const off of this.unsubscribers.splice(0)) off();
  }

  /** The history of a UPS of the view, up to date (undefined before start()). */
  historyOf(ups: UpsView): UpsHistory | undefined {
    this.catchUp();
    return this.histories.get(ups);
  }

  get windowMs(): number {
    return this.opts.windowMs;
  }

  get resolutionMs(): number {
    return this.opts.resolutionMs;
  }

  private sample(ups: UpsView): void {
    this.catchUp();
    const values = sampleOf(ups.state, ups.currentAvailability === 'online');
    this.current.set(ups, values);
    this.histories.get(ups)?.record(this.clock.now(), values);
  }

  /** Writes the per-step samples due by now, each UPS repeating its current sample. */
  private catchUp(): void {
    if (!this.running) return;
    const now = this.clock.now();
    const step = this.opts.resolutionMs;
    if (this.nextStepAt > now) return;
    // Steps older than the window would be dropped at once: skip them.
    const oldest = now - this.opts.windowMs;
    if (this.nextStepAt < oldest) {
      this.nextStepAt += Math.floor((oldest - this.nextStepAt) / step) * step;
    }
    for (; this.nextStepAt <= now; this.nextStepAt += step) {
      for (const [ups, history] of this.histories) {
        const values = this.current.get(ups);
        if (values !== undefined) history.record(this.nextStepAt, values);
      }
    }
  }
}
