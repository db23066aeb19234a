/**
 * The helper's fake NIS master with two benchmark hooks: every `status` reply can carry its
 * own build time in LINEV (so a subscriber can measure poll-to-publish without any shared
 * state), and a listener learns the moment each reply is built.
 */
import { FakeNisMaster, type FakeNisMasterOptions } from '../../test/helpers/fake-nis-master.ts';
import { monoMs, stampValue } from './clock.ts';

/** Options of {@link TimedNisMaster}. */
export interface TimedNisMasterOptions extends FakeNisMasterOptions {
  /**
   * Put the reply's build time in LINEV (see `stampValue`). The value then changes on every
   * poll, so every poll also exercises the bridge's publish path.
   */
  stampLineV?: boolean;
  /**
   * With `stampLineV`, stamp only every Nth `status` reply (default 1: every reply); the
   * others repeat the previous LINEV, so only DATE changes on them.
   */
  stampEvery?: number;
}

/** A {@link FakeNisMaster} that timestamps its `status` replies. */
export class TimedNisMaster extends FakeNisMaster {
  /** Monotonic ms of the last `status` reply built, if any. */
  lastStatusAt: number | undefined;
  /** Called with the monotonic ms of every `status` reply, just before it is written. */
  onStatusReply: ((atMs: number) => void) | undefined;
  private readonly stampLineV: boolean;
  private readonly stampEvery: number;
  private replies = 0;

  constructor(options: TimedNisMasterOptions = {}) {
    const { stampLineV, stampEvery, ...rest } = options;
    super(rest);
    this.stampLineV = stampLineV ?? false;
    this.stampEvery = Math.max(1, Math.round(stampEvery ?? 1));
  }

  override statusReply(): Buffer {
    const at = monoMs();
    if (this.stampLineV && this.replies++ % this.stampEvery === 0)
      this.setRecord('LINEV', stampValue(at));
    this.lastStatusAt = at;
    this.onStatusReply?.(at);
    return super.statusReply();
  }
}
