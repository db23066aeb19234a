/**
 * Feeds each UPS's history from the bridge: a sample after every state publish (so a power
 * failure shows at once) and one per resolution step on the injected clock (so a quiet UPS,
 * whose state is only re-published by the heartbeat, still draws a continuous line).
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { type HistoryOptions, sampleOf, UpsHistory } from './history.ts';
import type { BridgeView, UpsView } from './view.ts';

/** Keeps a UpsHistory per UPS of a bridge view; start() subscribes, stop() releases. */
export class HistoryRecorder {
  private readonly histories = new Map<UpsView, UpsHistory>();
  private readonly unsubscribers: (() => void)[] = [];
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly view: BridgeView,
    private readonly opts: HistoryOptions,
    private readonly clock: Clock,
  ) {}

  /** Subscribes to every UPS of the view and starts the periodic sample. */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const ups of this.view.bridges) {
      this.histories.set(ups, new UpsHistory(this.opts));
      this.unsubscribers.push(ups.onChange(() => this.sample(ups)));
      this.sample(ups);
    }
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const off of this.unsubscribers.splice(0)) off();
  }

  /** The history of a UPS of the view (undefined before start()). */
  historyOf(ups: UpsView): UpsHistory | undefined {
    return this.histories.get(ups);
  }

  get windowMs(): number {
    return this.opts.windowMs;
  }

  get resolutionMs(): number {
    return this.opts.resolutionMs;
  }

  private sample(ups: UpsView): void {
    const available = ups.currentAvailability === 'online';
    this.histories.get(ups)?.record(this.clock.now(), sampleOf(ups.state, available));
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.clock.setTimeout(() => {
      for (const ups of this.histories.keys()) this.sample(ups);
      this.schedule();
    }, this.opts.resolutionMs);
  }
}
