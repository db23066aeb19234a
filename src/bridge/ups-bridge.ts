import type { Clock, TimerHandle } from '../core/clock.ts';
import { isUps2MqttError } from '../core/errors.ts';
import type { UpsEvent } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type { CommandArgs, SourceReading, UpsSource } from '../core/source.ts';
import { isUsableSerial, slugify, type UpsState, type UpsStateKey } from '../core/state.ts';
import type { PublishOptions } from '../mqtt/gateway.ts';
import type { Topics } from '../mqtt/topics.ts';
import { deriveEvents } from './derive-events.ts';
import { PollScheduler } from './scheduler.ts';
import { type SelfTestTrack, trackSelfTest } from './self-test.ts';
import { buildState, changeKey, reducedState } from './state.ts';

/** What the per-UPS bridge needs from the MQTT gateway. */
export interface Publisher {
  publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<boolean>;
}

/** Builds and publishes discovery for one UPS; implemented in src/ha/announcer.ts. */
export interface DiscoveryPublisher {
  /** Called after a good reading when the set of keys seen grew or the identity changed. */
  update(ups: UpsIdentityInfo, state: UpsState, keys: ReadonlySet<UpsStateKey>): Promise<void>;
}

export interface UpsIdentityInfo {
  upsId: string;
  /** Device identifier in Home Assistant: from the serial, else from the id. */
  deviceIdentifier: string;
  name: string;
}

export interface UpsBridgeOptions {
  /** Configured id, or undefined to use the slugified serial number. */
  id?: string;
  name?: string;
  pollIntervalMs: number;
  heartbeatIntervalMs: number;
  maxDataAgeS: number;
  maxBackoffMs?: number;
}

export interface UpsBridgeDeps {
  source: UpsSource;
  publisher: Publisher;
  topics: Topics;
  clock: Clock;
  logger: Logger;
  discovery?: DiscoveryPublisher;
}

type Availability = 'online' | 'offline';

/** Counters for /metrics and the status page. */
export interface UpsBridgeStats {
  polls: number;
  pollErrors: number;
  statePublishes: number;
  events: number;
  /** Duration of the last successful read, ms. */
  lastReadMs: number;
  /** Epoch ms of the last successful reading (0: none yet). */
  lastReadingAt: number;
}

/**
 * One UPS: polls its source, turns readings into the published state, availability and
 * events, and keeps them honest — a reading that cannot be had makes the UPS unavailable
 * within two missed polls, and the retained state then carries no measurements.
 */
export class UpsBridge {
  private readonly scheduler: PollScheduler;
  private upsId: string | undefined;
  private identity: UpsIdentityInfo | undefined;
  private lastGood: UpsState | undefined;
  private lastState: UpsState | undefined;
  private lastStatePayload: string | undefined;
  private lastChangeKey: string | undefined;
  private lastPublishAt = 0;
  private availability: Availability | undefined;
  private readonly seenKeys = new Set<UpsStateKey>();
  private seenKeysAtDiscovery = -1;
  private lastSuccessAt = 0;
  private watchdog: TimerHandle | undefined;
  private linkDown = false;
  private abort: AbortController | undefined;
  private unwake: (() => void) | undefined;
  private stopped = false;
  private readonly changeListeners = new Set<() => void>();
  private selfTest: SelfTestTrack | undefined;
  readonly stats: UpsBridgeStats = {
    polls: 0,
    pollErrors: 0,
    statePublishes: 0,
    events: 0,
    lastReadMs: 0,
    lastReadingAt: 0,
  };
  /** Readings, failures and the watchdog change shared state one at a time, in order. */
  private exclusive: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: UpsBridgeOptions,
    private readonly deps: UpsBridgeDeps,
  ) {
    this.upsId = opts.id;
    for (const key of deps.source.capabilities().stickyFields) this.seenKeys.add(key);
    this.scheduler = new PollScheduler(
      {
        intervalMs: opts.pollIntervalMs,
        maxBackoffMs: opts.maxBackoffMs ?? 30_000,
        clock: deps.clock,
      },
      () => this.poll(),
    );
  }

  /** The UPS id once known (configured, or from the serial after the first reading). */
  get id(): string | undefined {
    return this.upsId;
  }

  get currentAvailability(): Availability | undefined {
    return this.availability;
  }

  get state(): UpsState | undefined {
    return this.lastState;
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
    this.scheduler.start();
  }

  /** Stops polling and publishes `offline` for this UPS. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.scheduler.stop();
    this.abort?.abort();
    this.unwake?.();
    if (this.watchdog) this.deps.clock.clearTimeout(this.watchdog);
    if (this.upsId) await this.setAvailability('offline', true);
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

  private notify(): void {
    for (const l of this.changeListeners) {
      try {
        l();
      } catch (err) {
        this.deps.logger.error({ err }, 'change listener failed');
      }
    }
  }

  /** Runs a source command directly (the demo's keys), then reads at once. */
  async command(name: string, args: CommandArgs = {}): Promise<string> {
    const outcome = await this.deps.source.command(name, args);
    this.scheduler.wake();
    return outcome.message ?? 'done';
  }

  /** Asks for an immediate reading (after a command). */
  wake(): void {
    this.scheduler.wake();
  }

  /** Re-publishes availability and the current state (after a reconnect or HA's birth). */
  async announce(): Promise<void> {
    if (!this.upsId) return;
    if (this.identity && this.lastGood && this.deps.discovery) {
      await this.deps.discovery.update(this.identity, this.lastGood, this.seenKeys);
    }
    if (this.availability) await this.setAvailability(this.availability, true);
    if (this.lastStatePayload !== undefined) {
      await this.deps.publisher.publish(this.deps.topics.state(this.upsId), this.lastStatePayload, {
        retain: true,
      });
    }
  }

  /** One poll; resolves true on a usable reading. Never throws. */
  private async poll(): Promise<boolean> {
    if (this.stopped) return false;
    const abort = new AbortController();
    this.abort = abort;
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
    } finally {
      this.abort = undefined;
    }
    if (this.stopped) return false;
    try {
      await this.serialized(() => this.onReading(reading));
    } catch (err) {
      this.deps.logger.error({ err }, 'could not process a reading');
      return false;
    }
    return true;
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
    if (!this.upsId) this.resolveId(state);
    const upsId = this.upsId as string;
    this.lastSuccessAt = clock.now();
    this.armWatchdog();
    if (this.linkDown) {
      this.linkDown = false;
      logger.info({ ups: upsId }, 'source answers again');
      await this.publishEvents([
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
    const prev = this.lastState;
    if (state.comm_lost === true || stale) {
      const reduced = reducedState(this.lastGood ?? state, now);
      await this.publishState(reduced, true);
      await this.setAvailability('offline');
      await this.publishEvents([
        ...reading.events,
        ...(reading.nativeEvents ? [] : deriveEvents(prev, reduced)),
      ]);
      return;
    }

    this.lastGood = state;
    for (const key of Object.keys(state) as UpsStateKey[]) this.seenKeys.add(key);
    this.ensureIdentity(state);
    if (this.deps.discovery && this.identity && this.seenKeys.size !== this.seenKeysAtDiscovery) {
      this.seenKeysAtDiscovery = this.seenKeys.size;
      await this.deps.discovery.update(this.identity, state, this.seenKeys);
    }
    const events = [...reading.events, ...(reading.nativeEvents ? [] : deriveEvents(prev, state))];
    await this.setAvailability('online');
    await this.publishState(state, false);
    await this.publishEvents(events);
  }

  private async onFailure(err: unknown): Promise<void> {
    const failures = this.scheduler.consecutiveFailures + 1;
    const info = errInfo(err);
    if (failures === 1)
      this.deps.logger.warn({ ups: this.upsId, err: info }, 'reading the UPS failed');
    else
      this.deps.logger.debug(
        { ups: this.upsId, err: info, failures },
        'reading the UPS failed again',
      );
    if (failures >= 2) await this.markUnreachable('source_failed');
  }

  /** The source has not answered for too long: unavailable, reduced state, one event. */
  private async markUnreachable(reason: string): Promise<void> {
    if (!this.upsId || this.stopped) return;
    if (!this.linkDown) {
      this.linkDown = true;
      this.deps.logger.warn({ ups: this.upsId, reason }, 'UPS unavailable: no reading');
      const reduced = reducedState(this.lastGood, new Date(this.deps.clock.now()));
      await this.publishState(reduced, true);
      await this.publishEvents([
        {
          event_type: 'comm_lost',
          at: reduced.updated_at,
          origin: 'bridge',
          message: 'The bridge cannot read the source',
        },
      ]);
    }
    await this.setAvailability('offline');
  }

  private armWatchdog(): void {
    const { clock } = this.deps;
    if (this.watchdog) clock.clearTimeout(this.watchdog);
    // Two missed polls plus half an interval of slack for a slow reply.
    const limit = Math.round(this.opts.pollIntervalMs * 2.5);
    this.watchdog = clock.setTimeout(() => {
      this.watchdog = undefined;
      void this.serialized(async () => {
        if (clock.now() - this.lastSuccessAt >= limit)
          await this.markUnreachable('no_reading_in_time');
      });
    }, limit);
  }

  private async publishState(state: UpsState, force: boolean): Promise<void> {
    const upsId = this.upsId;
    if (!upsId) return;
    const key = changeKey(state);
    const now = this.deps.clock.now();
    const heartbeatDue = now - this.lastPublishAt >= this.opts.heartbeatIntervalMs;
    this.lastState = state;
    if (!force && key === this.lastChangeKey && !heartbeatDue) return;
    if (force && key === this.lastChangeKey) return;
    const payload = JSON.stringify(state);
    this.lastChangeKey = key;
    this.lastStatePayload = payload;
    this.lastPublishAt = now;
    this.stats.statePublishes++;
    await this.deps.publisher.publish(this.deps.topics.state(upsId), payload, { retain: true });
    this.notify();
  }

  private async setAvailability(value: Availability, force = false): Promise<void> {
    if (!this.upsId) return;
    if (!force && this.availability === value) return;
    this.availability = value;
    await this.deps.publisher.publish(this.deps.topics.availability(this.upsId), value, {
      retain: true,
    });
  }

  private async publishEvents(events: UpsEvent[]): Promise<void> {
    if (!this.upsId || events.length === 0) return;
    const topic = this.deps.topics.event(this.upsId);
    for (const e of events) {
      this.stats.events++;
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

  /** Adds the self-test lifecycle where the UPS can test or reports test results. */
  private applySelfTest(state: UpsState): void {
    const canTest = this.deps.source
      .capabilities()
      .commands.some((c) => c.startsWith('test.battery.'));
    if (!canTest && state.self_test_result === undefined && state.test_in_progress === undefined)
      return;
    if (state.comm_lost === true) return;
    this.selfTest = trackSelfTest(this.selfTest, state);
    state.self_test_state = this.selfTest.state;
    if (this.selfTest.finishedAt) state.self_test_finished_at = this.selfTest.finishedAt;
  }

  private resolveId(state: UpsState): void {
    if (isUsableSerial(state.serial_number)) {
      this.upsId = slugify(state.serial_number);
    } else {
      this.upsId = slugify(this.deps.source.description) || 'ups';
      this.deps.logger.warn(
        { ups: this.upsId, source: this.deps.source.description },
        'the UPS reports no usable serial number; derived its id from the source. Set an id in the config to keep topics stable.',
      );
    }
    this.deps.logger.info({ ups: this.upsId }, 'UPS id resolved');
  }

  private ensureIdentity(state: UpsState): void {
    const upsId = this.upsId as string;
    const deviceIdentifier = `ups2mqtt_${isUsableSerial(state.serial_number) ? slugify(state.serial_number) : upsId}`;
    const name = this.opts.name ?? (state.ups_name?.trim() || state.model?.trim() || upsId);
    if (
      !this.identity ||
      this.identity.deviceIdentifier !== deviceIdentifier ||
      this.identity.name !== name
    ) {
      this.identity = { upsId, deviceIdentifier, name };
      this.seenKeysAtDiscovery = -1;
    }
  }
}

function errInfo(err: unknown): Record<string, unknown> {
  if (isUps2MqttError(err)) return { code: err.code, message: err.message, ...err.context };
  if (err instanceof Error) return { message: err.message };
  return { message: String(err) };
}
