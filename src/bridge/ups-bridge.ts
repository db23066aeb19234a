import type { Clock, TimerHandle } from '../core/clock.ts';
import { isUps2MqttError } from '../core/errors.ts';
import type { UpsEvent } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type {
  Availability,
  DiscoveryPublisher,
  Publisher,
  StateExtension,
  UpsBridgeStats,
  UpsIdentityInfo,
} from '../core/ports.ts';
import type { SourceReading, UpsSource } from '../core/source.ts';
import type { UpsState, UpsStateKey } from '../core/state.ts';
import type { Topics } from '../mqtt/topics.ts';
import { withDeadline } from '../util/deadline.ts';
import { deriveEvents } from './derive-events.ts';
import { derivedUpsId, identityFor } from './identity.ts';
import { UpsOutbox } from './outbox.ts';
import { PollScheduler } from './scheduler.ts';
import { applySelfTest, canSelfTest, type SelfTestTrack } from './self-test.ts';
import { buildState, reducedState } from './state.ts';
import type { PollTicker } from './ticker.ts';

export interface UpsBridgeOptions {
  /** Configured id, or undefined to use the slugified serial number. */
  id?: string;
  name?: string;
  pollIntervalMs: number;
  heartbeatIntervalMs: number;
  maxDataAgeS: number;
  /** Delay of the first poll; the app spreads many UPSes across one interval. */
  startDelayMs?: number;
}

export interface UpsBridgeDeps {
  source: UpsSource;
  publisher: Publisher;
  topics: Topics;
  clock: Clock;
  logger: Logger;
  discovery?: DiscoveryPublisher;
  /** Bridge-owned keys added to every state before it is published (power policy, energy). */
  extensions?: readonly StateExtension[];
  /** Shared ticker of the fleet's polls (app.ts); without it the UPS keeps its own timer. */
  ticker?: PollTicker;
}

/**
 * One UPS: polls its source, turns readings into the published state, availability and
 * events, and keeps them honest — a reading that cannot be had makes the UPS unavailable
 * within two missed polls, and the retained state then carries no measurements.
 */
export class UpsBridge {
  private readonly scheduler: PollScheduler;
  private readonly out: UpsOutbox;
  private identity: UpsIdentityInfo | undefined;
  private lastGood: UpsState | undefined;
  private readonly seenKeys = new Set<UpsStateKey>();
  private seenKeysAtDiscovery = -1;
  private lastSuccessAt = 0;
  private watchdog: TimerHandle | undefined;
  private linkDown = false;
  private abort: AbortController | undefined;
  private unwake: (() => void) | undefined;
  private stopped = false;
  private readonly changeListeners = new Set<() => void>();
  private readonly eventListeners = new Set<(event: UpsEvent) => void>();
  private selfTest: SelfTestTrack | undefined;
  /** The last state handed to publishState before extensions, and whether it was a good reading. */
  private lastBase: { state: UpsState; good: boolean } | undefined;
  readonly stats: UpsBridgeStats = {
    polls: 0,
    pollErrors: 0,
    statePublishes: 0,
    events: 0,
    lastReadMs: 0,
    lastReadingAt: 0,
  };
  /** A reading waiting for the one being published (see handOver). */
  private waiting: SourceReading | undefined;
  /** Readings, failures and the watchdog change shared state one at a time, in order. */
  private exclusive: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: UpsBridgeOptions,
    private readonly deps: UpsBridgeDeps,
  ) {
    this.out = new UpsOutbox({
      publisher: deps.publisher,
      topics: deps.topics,
      clock: deps.clock,
      logger: deps.logger,
      heartbeatIntervalMs: opts.heartbeatIntervalMs,
      stats: this.stats,
      changed: () => this.notify(),
      emitted: (e) => this.emitEvent(e),
    });
    this.out.upsId = opts.id;
    for (const key of deps.source.capabilities().stickyFields) this.seenKeys.add(key);
    for (const ext of deps.extensions ?? [])
      for (const key of ext.stickyKeys ?? []) this.seenKeys.add(key);
    this.scheduler = new PollScheduler(
      {
        intervalMs: opts.pollIntervalMs,
        clock: deps.clock,
        ...(deps.ticker ? { ticker: deps.ticker } : {}),
      },
      () => this.poll(),
    );
  }

  /** The UPS id once known (configured, or from the serial after the first reading). */
  get id(): string | undefined {
    return this.out.upsId;
  }

  get currentAvailability(): Availability | undefined {
    return this.out.availability;
  }

  get state(): UpsState | undefined {
    return this.out.state;
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.unwake = this.deps.source.onWake(() => this.scheduler.wake());
    try {
      await this.deps.source.open();
    } catch (err) {
      this.deps.logger.warn({ err: errInfo(err) }, 'source not ready yet; will keep trying');
    }
    this.lastSuccessAt = this.deps.clock.now();
    this.armWatchdog();
    this.scheduler.start(this.opts.startDelayMs ?? 0);
  }

  /** Stops polling and publishes `offline` for this UPS. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.scheduler.stop();
    this.abort?.abort();
    this.unwake?.();
    if (this.watchdog) this.deps.clock.clearTimeout(this.watchdog);
    await this.out.setAvailability('offline', true);
    for (const ext of this.deps.extensions ?? []) {
      try {
        ext.stop?.();
      } catch (err) {
        this.deps.logger.error({ err }, 'a state extension failed to stop');
      }
    }
    await this.deps.source.close();
  }

  /** Home Assistant device identifier once the UPS has been read. */
  get deviceIdentifier(): string | undefined {
    return this.identity?.deviceIdentifier;
  }

  /** The source's description (URI without secrets). */
  get sourceDescription(): string {
    return this.deps.source.description;
  }

  /** Display name once the UPS has been read. */
  get name(): string | undefined {
    return this.identity?.name ?? this.opts.name;
  }

  /** Called after every change of published state or availability. Returns unsubscribe. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Called with every event of this UPS as it is published. Returns unsubscribe. */
  onEvent(listener: (event: UpsEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  private emitEvent(event: UpsEvent): void {
    for (const l of this.eventListeners) {
      try {
        l(event);
      } catch (err) {
        this.deps.logger.error({ err }, 'event listener failed');
      }
    }
  }

  private notify(): void {
    for (const l of this.changeListeners) {
      try {
        l();
      } catch (err) {
        this.deps.logger.error({ err }, 'change listener failed');
      }
    }
  }

  /** Asks for an immediate reading (after a command). */
  wake(): void {
    this.scheduler.wake();
  }

  /** Re-publishes availability and the current state (after a reconnect or HA's birth). */
  async announce(): Promise<void> {
    if (!this.out.upsId) return;
    if (this.identity && this.lastGood && this.deps.discovery) {
      await this.deps.discovery.update(this.identity, this.lastGood, this.seenKeys);
    }
    await this.out.republish();
  }

  /** One poll; resolves true on a usable reading. Never throws. */
  private async poll(): Promise<boolean> {
    if (this.stopped) return false;
    // One controller for all polls until stop() aborts it: a source may then keep what it
    // derives from the signal (NisSource's link to its own lifetime) instead of rebuilding it.
    if (this.abort === undefined || this.abort.signal.aborted) this.abort = new AbortController();
    const abort = this.abort;
    let reading: SourceReading;
    const started = this.deps.clock.now();
    this.stats.polls++;
    try {
      reading = await this.deps.source.read(abort.signal);
      this.stats.lastReadMs = this.deps.clock.now() - started;
      this.stats.lastReadingAt = this.deps.clock.now();
    } catch (err) {
      this.stats.pollErrors++;
      if (!this.stopped) await this.serialized(() => this.onFailure(err));
      return false;
    }
    if (this.stopped) return false;
    // The source answered: that is all the watchdog waits for, whatever the broker does.
    this.lastSuccessAt = this.deps.clock.now();
    this.armWatchdog();
    return this.handOver(reading);
  }

  /**
   * Publishes a reading, waiting for that at most one interval: a broker that went silent
   * holds publishes until mqtt.js's keepalive gives up (1.5 keepalives), and polling goes on
   * meanwhile (the UPS is not unreachable because the broker is). At most one reading waits
   * behind the one being published; a newer one replaces it (the native events of both
   * kept), so a stalled broker makes nothing pile up.
   */
  private async handOver(reading: SourceReading): Promise<boolean> {
    if (this.waiting) {
      this.waiting = { ...reading, events: [...this.waiting.events, ...reading.events] };
      return true;
    }
    this.waiting = reading;
    const done = this.serialized(async () => {
      const next = this.waiting;
      this.waiting = undefined;
      if (next) await this.onReading(next);
    }).then(
      () => true,
      (err: unknown) => {
        this.deps.logger.error({ err }, 'could not process a reading');
        return false;
      },
    );
    const outcome = await withDeadline(done, this.opts.pollIntervalMs, this.deps.clock);
    return outcome === 'timeout' ? true : outcome;
  }

  private serialized(fn: () => Promise<void>): Promise<void> {
    const run = this.exclusive.then(fn);
    this.exclusive = run.catch(() => {});
    return run;
  }

  private async onReading(reading: SourceReading): Promise<void> {
    const { clock, logger } = this.deps;
    const now = new Date(clock.now());
    const state = buildState(reading.data, now);
    this.applySelfTest(state);
    if (reading.unknown && Object.keys(reading.unknown).length > 0) {
      logger.trace({ unknown: reading.unknown }, 'fields not recognised (kept raw, ignored)');
    }
    // lastSuccessAt and the watchdog were set by poll() when the source answered.
    const upsId = this.out.upsId ?? this.resolveId(state);
    if (this.linkDown) {
      this.linkDown = false;
      logger.info({ ups: upsId }, 'source answers again');
      await this.out.publishEvents([
        {
          event_type: 'comm_restored',
          at: state.updated_at,
          origin: 'bridge',
          message: 'The bridge reaches the source again',
        },
      ]);
    }

    const stale = state.data_age_s !== undefined && state.data_age_s > this.opts.maxDataAgeS;
    if (stale && state.comm_lost !== true) {
      logger.warn(
        { ups: upsId, data_age_s: state.data_age_s },
        'the source reports data older than state.max_data_age: treating the UPS as unreachable',
      );
    }
    const prev = this.out.state;
    if (state.comm_lost === true || stale) {
      const reduced = reducedState(this.lastGood ?? state, now);
      const added = await this.publishState(reduced, false);
      await this.out.setAvailability('offline');
      await this.out.publishEvents([
        ...reading.events,
        ...(reading.nativeEvents ? [] : deriveEvents(prev, reduced)),
        ...added,
      ]);
      return;
    }

    this.lastGood = state;
    // Extensions first, so the keys they add are discovered like the source's own.
    const added = this.extend(state, true);
    for (const key of Object.keys(state) as UpsStateKey[]) this.seenKeys.add(key);
    this.ensureIdentity(upsId, state);
    if (this.deps.discovery && this.identity && this.seenKeys.size !== this.seenKeysAtDiscovery) {
      this.seenKeysAtDiscovery = this.seenKeys.size;
      await this.deps.discovery.update(this.identity, state, this.seenKeys);
    }
    const events = [
      ...reading.events,
      ...(reading.nativeEvents ? [] : deriveEvents(prev, state)),
      ...added,
    ];
    // State before availability: whoever sees `online` finds this reading retained, never
    // the `comm_lost` state of an outage that just ended.
    await this.out.publishState(state, true);
    await this.out.setAvailability('online');
    await this.out.publishEvents(events);
  }

  /**
   * Re-publishes the current state with the extensions applied again, for bridge-owned
   * keys that change between readings (the power policy's countdown). Never throws.
   */
  refresh(): Promise<void> {
    return this.serialized(async () => {
      const base = this.lastBase;
      if (!base || this.stopped) return;
      await this.out.publishEvents(await this.publishState({ ...base.state }, base.good));
    }).catch((err: unknown) => this.deps.logger.error({ err }, 'could not refresh the state'));
  }

  /**
   * Applies the state extensions, then hands the state to the outbox. Returns the events
   * the extensions raised, for the caller to publish after its own.
   */
  private async publishState(state: UpsState, good: boolean): Promise<UpsEvent[]> {
    const added = this.extend(state, good);
    await this.out.publishState(state, good);
    return added;
  }

  /** Applies the state extensions to `state` in place; returns the events they raised. */
  private extend(state: UpsState, good: boolean): UpsEvent[] {
    this.lastBase = { state: { ...state }, good };
    const upsId = this.out.upsId;
    const added: UpsEvent[] = [];
    // Nothing is published before the id is known, so there is nothing to extend either.
    if (upsId === undefined) return added;
    for (const ext of this.deps.extensions ?? []) {
      try {
        ext.extend(state, good, { upsId });
        if (ext.events) added.push(...ext.events());
      } catch (err) {
        this.deps.logger.error({ err }, 'a state extension failed');
      }
    }
    return added;
  }

  private async onFailure(err: unknown): Promise<void> {
    const failures = this.scheduler.consecutiveFailures + 1;
    const info = errInfo(err);
    if (failures === 1)
      this.deps.logger.warn({ ups: this.out.upsId, err: info }, 'reading the UPS failed');
    else
      this.deps.logger.debug(
        { ups: this.out.upsId, err: info, failures },
        'reading the UPS failed again',
      );
    if (failures >= 2) await this.markUnreachable('source_failed');
  }

  /** The source has not answered for too long: unavailable, reduced state, one event. */
  private async markUnreachable(reason: string): Promise<void> {
    if (!this.out.upsId || this.stopped) return;
    if (!this.linkDown) {
      this.linkDown = true;
      this.deps.logger.warn({ ups: this.out.upsId, reason }, 'UPS unavailable: no reading');
      const reduced = reducedState(this.lastGood, new Date(this.deps.clock.now()));
      const added = await this.publishState(reduced, false);
      await this.out.publishEvents([
        {
          event_type: 'comm_lost',
          at: reduced.updated_at,
          origin: 'bridge',
          message: 'The bridge cannot read the source',
        },
        ...added,
      ]);
    }
    await this.out.setAvailability('offline');
  }

  private armWatchdog(): void {
    const { clock } = this.deps;
    if (this.watchdog) clock.clearTimeout(this.watchdog);
    // Two polls' time without a reading: the same promise as two failed polls, for a request
    // that hangs (one poll at a time, so the second poll never starts). The reading that
    // re-arms this arrives at the end of a poll, so on a healthy peer the next deadline is
    // always about one interval away.
    const limit = this.opts.pollIntervalMs * 2;
    const check = (wait: number): void => {
      this.watchdog = clock.setTimeout(() => {
        this.watchdog = undefined;
        void this.serialized(async () => {
          const quiet = clock.now() - this.lastSuccessAt;
          if (quiet >= limit) await this.markUnreachable('no_reading_in_time');
          // Node runs timers on the event loop's cached time, which can be a few ms behind
          // Date.now() when armed: a timer then fires before its deadline by the wall clock.
          // Wait out the rest; giving up left a hanging read online until it timed out twice.
          else if (!this.watchdog && !this.stopped) check(limit - quiet);
        });
      }, wait);
    };
    check(limit);
  }

  /** Adds the self-test lifecycle where the UPS can test or reports test results. */
  private applySelfTest(state: UpsState): void {
    this.selfTest = applySelfTest(this.selfTest, state, canSelfTest(this.deps.source));
  }

  /** Fixes the UPS id from the first reading when none is configured. */
  private resolveId(state: UpsState): string {
    const { id, fromSerial } = derivedUpsId(state.serial_number, this.deps.source.description);
    if (!fromSerial) {
      this.deps.logger.warn(
        { ups: id, source: this.deps.source.description },
        'the UPS reports no usable serial number; derived its id from the source. Set an id in the config to keep topics stable.',
      );
    }
    this.deps.logger.info({ ups: id }, 'UPS id resolved');
    this.out.upsId = id;
    return id;
  }

  private ensureIdentity(upsId: string, state: UpsState): void {
    const next = identityFor(upsId, state, this.opts.name);
    const cur = this.identity;
    if (!cur || cur.deviceIdentifier !== next.deviceIdentifier || cur.name !== next.name) {
      this.identity = next;
      this.seenKeysAtDiscovery = -1;
    }
  }
}

function errInfo(err: unknown): Record<string, unknown> {
  if (isUps2MqttError(err)) return { code: err.code, message: err.message, ...err.context };
  if (err instanceof Error) return { message: err.message };
  return { message: String(err) };
}
