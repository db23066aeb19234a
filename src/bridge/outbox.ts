import type { Clock } from '../core/clock.ts';
import type { UpsEvent } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type { Availability, Publisher, UpsBridgeStats } from '../core/ports.ts';
import type { UpsState } from '../core/state.ts';
import type { Topics } from '../mqtt/topics.ts';
import { samePublishable } from './state.ts';

export interface OutboxDeps {
  publisher: Publisher;
  topics: Topics;
  clock: Clock;
  logger: Logger;
  heartbeatIntervalMs: number;
  stats: UpsBridgeStats;
  /** Called after a publish that changed state or availability. */
  changed: () => void;
  /** Called with every event of this UPS as it is published. */
  emitted?: (event: UpsEvent) => void;
}

/**
 * The three outputs of one UPS and their rules: state retained and published on change
 * (volatile keys do not count) or on the heartbeat; availability retained and published
 * when it changes; events not retained, queued while the broker is away. Nothing is
 * published before the UPS id is known.
 */
export class UpsOutbox {
  upsId: string | undefined;
  /** The last published state (a copy: extensions edit states in place before publishing). */
  private published: UpsState | undefined;
  private statePayload: string | undefined;
  private publishedAt = 0;
  private avail: Availability | undefined;
  private latest: UpsState | undefined;

  constructor(private readonly deps: OutboxDeps) {}

  get availability(): Availability | undefined {
    return this.avail;
  }

  /** The state of the latest reading (published or not). */
  get state(): UpsState | undefined {
    return this.latest;
  }

  /**
   * Publishes `state` when a publish-worthy part changed, or — with `heartbeat` — when the
   * heartbeat interval has passed since the last publish.
   */
  async publishState(state: UpsState, heartbeat: boolean): Promise<void> {
    const upsId = this.upsId;
    if (!upsId) return;
    const now = this.deps.clock.now();
    this.latest = state;
    const due = heartbeat && now - this.publishedAt >= this.deps.heartbeatIntervalMs;
    if (!due && samePublishable(this.published, state)) return;
    this.published = { ...state };
    this.statePayload = JSON.stringify(state);
    this.publishedAt = now;
    this.deps.stats.statePublishes++;
    await this.deps.publisher.publish(this.deps.topics.state(upsId), this.statePayload, {
      retain: true,
    });
    this.deps.changed();
  }

  async setAvailability(value: Availability, force = false): Promise<void> {
    if (!this.upsId) return;
    if (!force && this.avail === value) return;
    const changed = this.avail !== value;
    this.avail = value;
    await this.deps.publisher.publish(this.deps.topics.availability(this.upsId), value, {
      retain: true,
    });
    if (changed) this.deps.changed();
  }

  async publishEvents(events: readonly UpsEvent[]): Promise<void> {
    if (!this.upsId || events.length === 0) return;
    const topic = this.deps.topics.event(this.upsId);
    for (const e of events) {
      this.deps.stats.events++;
      this.deps.emitted?.(e);
      this.deps.logger.info(
        { ups: this.upsId, event: e.event_type, at: e.at, message: e.message },
        'UPS event',
      );
      await this.deps.publisher.publish(topic, JSON.stringify(e), {
        retain: false,
        queueWhileOffline: true,
      });
    }
  }

  /**
   * Availability and the state of the latest reading again (reconnect, HA birth). The
   * latest reading, not the last publish: on a quiet UPS that publish may be a heartbeat
   * old, and a broker that lost its retained messages would get a state older than known.
   */
  async republish(): Promise<void> {
    if (!this.upsId) return;
    if (this.avail) await this.setAvailability(this.avail, true);
    const state = this.latest;
    if (state === undefined) return;
    this.published = { ...state };
    this.statePayload = JSON.stringify(state);
    this.publishedAt = this.deps.clock.now();
    await this.deps.publisher.publish(this.deps.topics.state(this.upsId), this.statePayload, {
      retain: true,
    });
  }
}
