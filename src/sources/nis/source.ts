import type { Clock } from '../../core/clock.ts';
import { isUps2MqttError, Ups2MqttError } from '../../core/errors.ts';
import type { UpsEvent } from '../../core/events.ts';
import type { Logger } from '../../core/log.ts';
import type {
  CommandArgs,
  CommandOutcome,
  SourceCapabilities,
  SourceReading,
  UpsSource,
} from '../../core/source.ts';
import type { UpsData } from '../../core/state.ts';
import { KeptSignalLink } from '../../util/signals.ts';
import type { SourceSpec } from '../uri.ts';
import { type NisRequestOptions, nisRequest } from './client.ts';
import { EventLogTracker } from './events.ts';
import type { NisCommand } from './framing.ts';
import { mapNisStatus, remapStamps } from './map.ts';
import { parseStatusLines } from './parse.ts';
import { NisConnectionPool } from './pool.ts';
import { startupPlaceholder } from './startup.ts';

/** Options of {@link NisSource}. */
export interface NisSourceOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  /** Longest time between two `events` fetches when nothing hints at news (default 30 s). */
  eventsIntervalMs?: number;
  maxFrameBytes?: number;
  /**
   * Keep the connection open between polls (default true); false opens a fresh connection
   * for every request, as apcaccess does. See {@link NisConnectionPool}.
   */
  reuseConnection?: boolean;
  logger: Logger;
  clock: Clock;
  /** The NIS request function; injected by tests. */
  request?: typeof nisRequest;
}

const DEFAULT_EVENTS_INTERVAL_MS = 30_000;
/** Changed replies in a row after which a reply is remembered only every so often. */
const REMEMBER_CHANGED = 2;
/** While replies keep changing, every this many is remembered (see mapStatus). */
const PROBE_EVERY_CHANGED = 16;
/** A daemon without EVENTSFILE answers `Not available` (docs/protocols/nis.md#framing); asking often is pointless. */
const UNAVAILABLE_RETRY_MS = 10 * 60_000;

/**
 * Fields whose change means apcupsd has probably logged something: a status transition,
 * a self-test, a transfer. Their change triggers an `events` fetch before the interval.
 */
const EVENT_HINT_FIELDS = [
  'status_flags',
  'self_test_result',
  'last_self_test_at',
  'transfers',
  'last_on_battery_at',
] as const satisfies readonly (keyof UpsData)[];
type HintField = (typeof EVENT_HINT_FIELDS)[number];

/**
 * NIS cannot carry commands (docs/protocols/nis.md#running-apcupsd-without-a-ups), so nothing is advertised. The sticky
 * fields are the ones apcupsd drops after a restart or before the first test (docs/protocols/nis.md#status-fields).
 */
const CAPABILITIES: SourceCapabilities = {
  commands: [],
  stickyFields: [
    'last_on_battery_at',
    'last_off_battery_at',
    'last_self_test_at',
    'self_test_result',
    'last_transfer_reason',
    'time_on_battery_s',
    'cumulative_on_battery_s',
    'transfers',
  ],
};

/**
 * A UPS read through apcupsd's Network Information Server. `open()` connects nothing: the
 * first read does. By default one connection is kept open between polls and any failure
 * discards it, so `read()` recovers by itself on a fresh one. The `events` request, which
 * follows a `status` reply at once, always takes a fresh connection (see NisConnectionPool's
 * `minGapMs`). Event-log lines become events once each (see EventLogTracker).
 */
export class NisSource implements UpsSource {
  readonly description: string;
  private readonly opts: NisSourceOptions;
  private readonly tracker = new EventLogTracker();
  private lifetime = new AbortController();
  /** The hint fields' values at the last read (see EVENT_HINT_FIELDS), in their order. */
  private lastHints: (UpsData[HintField] | undefined)[] | undefined;
  private lastWarnings = '';
  private previousReadFailed = false;
  private haveEventsBaseline = false;
  private eventsRetryPending = false;
  private eventsUnavailable = false;
  private lastEventsFetchAt: number | undefined;
  private nativeEvents = false;
  /** A reply mapped in full without warnings, that the next ones are compared with. */
  private lastReply:
    | { lines: string[]; data: UpsData; unknown: Record<string, string> }
    | undefined;
  /** Replies in a row that had to be mapped in full. */
  private changedInARow = 0;
  private readonly pool: NisConnectionPool | undefined;
  /** The caller's signal linked with `lifetime`, kept across reads (see KeptSignalLink). */
  private readonly link = new KeptSignalLink();

  constructor(opts: NisSourceOptions) {
    this.opts = opts;
    if (opts.reuseConnection !== false) this.pool = new NisConnectionPool({ clock: opts.clock });
    this.description = `nis://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`;
  }

  capabilities(): SourceCapabilities {
    return CAPABILITIES;
  }

  /** Nothing to open: the first read connects. Re-arms a closed source. */
  async open(): Promise<void> {
    if (this.lifetime.signal.aborted) this.lifetime = new AbortController();
  }

  /** One `status` request, plus an `events` request when one is due (see eventsDue). */
  async read(signal: AbortSignal): Promise<SourceReading> {
    const use = this.link.acquire(signal, this.lifetime.signal);
    const linked = use.signal;
    try {
      if (linked.aborted) {
        throw new Ups2MqttError('ABORTED', 'NIS read aborted before it started', {
          cause: linked.reason,
          context: { source: this.description },
        });
      }
      let data: UpsData;
      let unknown: Record<string, string>;
      try {
        ({ data, unknown } = this.mapStatus(await this.request('status', linked)));
      } catch (err) {
        this.previousReadFailed = true;
        throw err;
      }
      const events = await this.fetchEventsIfDue(data, linked);
      this.previousReadFailed = false;
      return { data, events, nativeEvents: this.nativeEvents, unknown };
    } finally {
      use.release();
    }
  }

  /** Whether a reply is remembered to compare the next one with (for tests). */
  remembersReply(): boolean {
    return this.lastReply !== undefined;
  }

  /** NIS is read-only. */
  async command(name: string, _args?: CommandArgs): Promise<CommandOutcome> {
    throw new Ups2MqttError(
      'SOURCE_UNSUPPORTED',
      `apcupsd NIS is read-only: command "${name}" cannot be sent`,
      { context: { command: name, source: this.description } },
    );
  }

  /** NIS has no push channel: changes are seen by polling only. */
  onWake(_listener: () => void): () => void {
    return () => {};
  }

  /** Aborts any request in flight and closes the kept connection. */
  async close(): Promise<void> {
    this.lifetime.abort(
      new Ups2MqttError('ABORTED', 'NIS source closed', { context: { source: this.description } }),
    );
    this.pool?.drop();
    this.link.drop();
  }

  private mapStatus(lines: string[]): { data: UpsData; unknown: Record<string, string> } {
    // An unchanged UPS: the remembered reply again with new time stamps (see remapStamps).
    // The remembered one stays: keeping each new reply instead would keep every poll's lines
    // alive for a poll interval, long enough for V8 to move them to the old generation.
    const last = this.lastReply;
    if (last !== undefined) {
      const data = remapStamps(last.lines, last.data, lines);
      if (data !== undefined) {
        this.changedInARow = 0;
        return { data, unknown: last.unknown };
      }
    }
    this.lastReply = undefined;
    this.changedInARow++;
    const warnings: string[] = [];
    const records = parseStatusLines(lines, warnings);
    if (records.length === 0) {
      throw new Ups2MqttError('PROTOCOL_ERROR', 'NIS status reply holds no records', {
        context: { source: this.description, lines: lines.length },
      });
    }
    // apcupsd's first second: placeholders, not a reading (see startupPlaceholder).
    const placeholder = startupPlaceholder(records);
    if (placeholder !== undefined) {
      throw new Ups2MqttError('NOT_READY', `apcupsd has not read the UPS yet (${placeholder})`, {
        context: { source: this.description },
      });
    }
    const mapped = mapNisStatus(records);
    warnings.push(...mapped.warnings);
    // The same odd value comes back every poll: log it when the set changes, not each time.
    const key = warnings.join('\n');
    if (key !== this.lastWarnings && warnings.length > 0) {
      this.opts.logger.debug({ warnings }, 'NIS status has values that were left out');
    }
    this.lastWarnings = key;
    // A UPS whose values change on every poll gains nothing from the comparison and pays for
    // the remembered reply in GC: after two changed replies in a row only every 16th is
    // remembered, to notice when the UPS settles.
    const remember =
      this.changedInARow <= REMEMBER_CHANGED || this.changedInARow % PROBE_EVERY_CHANGED === 0;
    if (warnings.length === 0 && remember) {
      this.lastReply = { lines, data: mapped.data, unknown: mapped.unknown };
    }
    return { data: mapped.data, unknown: mapped.unknown };
  }

  /**
   * Records the hint fields of `data`; true when one differs from the last read's (the first
   * read has nothing to differ from). Compared in place: this runs on every poll.
   */
  private noteHints(data: UpsData): boolean {
    const last = this.lastHints;
    if (last === undefined) {
      this.lastHints = EVENT_HINT_FIELDS.map((k) => data[k]);
      return false;
    }
    let changed = false;
    for (let i = 0; i < EVENT_HINT_FIELDS.length; i++) {
      const value = data[EVENT_HINT_FIELDS[i] as HintField];
      if (value !== last[i]) {
        last[i] = value;
        changed = true;
      }
    }
    return changed;
  }

  private async fetchEventsIfDue(data: UpsData, signal: AbortSignal): Promise<UpsEvent[]> {
    const now = this.opts.clock.now();
    const hinted = this.noteHints(data);
    if (!this.eventsDue(now, hinted)) return [];

    this.lastEventsFetchAt = now;
    try {
      const lines = await this.request('events', signal);
      if (this.eventsUnavailable) this.opts.logger.info('apcupsd event log is available again');
      const events = this.tracker.ingest(lines, { initial: !this.haveEventsBaseline });
      this.haveEventsBaseline = true;
      this.eventsUnavailable = false;
      this.eventsRetryPending = false;
      this.nativeEvents = true;
      return events;
    } catch (err) {
      if (signal.aborted) {
        this.eventsRetryPending = true;
        throw err;
      }
      if (isNotAvailable(err)) {
        if (!this.eventsUnavailable) {
          this.opts.logger.info(
            { retryMs: UNAVAILABLE_RETRY_MS },
            'apcupsd has no event log (no EVENTSFILE): events are derived from state changes',
          );
        }
        this.eventsUnavailable = true;
        this.eventsRetryPending = false;
        this.nativeEvents = false;
        return [];
      }
      // The status reading stands; the next read asks again (catch-up).
      this.eventsRetryPending = true;
      this.opts.logger.debug({ err }, 'NIS events request failed');
      return [];
    }
  }

  /**
   * An `events` request is due on the first read, after a failed read or events request
   * (catch-up), when a field hints at a logged transition, or when the interval elapsed.
   * Without an event log it is retried every 10 minutes only.
   */
  private eventsDue(now: number, hinted: boolean): boolean {
    const last = this.lastEventsFetchAt;
    if (this.eventsUnavailable) return last === undefined || now - last >= UNAVAILABLE_RETRY_MS;
    const interval = this.opts.eventsIntervalMs ?? DEFAULT_EVENTS_INTERVAL_MS;
    return (
      !this.haveEventsBaseline ||
      this.previousReadFailed ||
      this.eventsRetryPending ||
      hinted ||
      last === undefined ||
      now - last >= interval
    );
  }

  private request(command: NisCommand, signal: AbortSignal): Promise<string[]> {
    const { host, port, connectTimeoutMs, readTimeoutMs, maxFrameBytes } = this.opts;
    const options: NisRequestOptions = {
      host,
      port,
      command,
      connectTimeoutMs,
      readTimeoutMs,
      signal,
    };
    if (maxFrameBytes !== undefined) options.maxFrameBytes = maxFrameBytes;
    if (this.pool !== undefined) options.pool = this.pool;
    return (this.opts.request ?? nisRequest)(options);
  }
}

function isNotAvailable(err: unknown): boolean {
  if (!isUps2MqttError(err, 'SERVER_ERROR')) return false;
  const reply = err.context.reply;
  return typeof reply === 'string' && /^not available\b/i.test(reply.trim());
}

/** What {@link createNisSource} needs besides the URI. */
export interface NisSourceDeps {
  logger: Logger;
  clock: Clock;
  connectTimeoutMs?: number;
  readTimeoutMs?: number;
  eventsIntervalMs?: number;
  maxFrameBytes?: number;
  reuseConnection?: boolean;
  request?: typeof nisRequest;
}

/** Builds a {@link NisSource} from a parsed `nis://host[:port]` URI. */
export function createNisSource(
  spec: Extract<SourceSpec, { kind: 'nis' }>,
  deps: NisSourceDeps,
): NisSource {
  const { connectTimeoutMs = 3000, readTimeoutMs = 3000, ...rest } = deps;
  return new NisSource({
    host: spec.host,
    port: spec.port,
    connectTimeoutMs,
    readTimeoutMs,
    ...rest,
  });
}
