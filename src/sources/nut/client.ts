import { systemClock } from '../../core/clock.ts';
import { isUps2MqttError, Ups2MqttError } from '../../core/errors.ts';
import { Listeners } from '../../util/listeners.ts';
import { NutConnection, type NutConnectionOptions } from './connection.ts';
import { whereOf } from './dial.ts';

/** Options of {@link NutClient}: a connection's, plus the least gap between connect attempts. */
export interface NutClientOptions extends NutConnectionOptions {
  /** Initial {@link NutClient.retryGapMs} (default 750 ms: ¾ of the default poll interval). */
  retryGapMs?: number;
}

/** Gap between connect attempts when nobody says otherwise (¾ of the default 1 s poll). */
export const DEFAULT_NUT_RETRY_GAP_MS = 750;

/**
 * The kept connection to one upsd, shared by every UPS read from it. Requests queue and go
 * one at a time. A broken connection is replaced at the next request. After a failed
 * connect, the next attempt is made by the first request asked at least `retryGapMs` after
 * the one that failed, however many failures came before (no backoff: upsd is read again
 * within one poll interval of answering, docs/reliability.md); requests asked in between
 * fail at once (the connect error, with `retryInMs`), so the UPSes of one upsd make one
 * attempt per gap between them, not one each. Whoever registered with {@link onConnect} is
 * told when a connection opens, so a UPS refused in the gap can be read at once.
 */
export class NutClient {
  private conn: NutConnection | undefined;
  private connecting: Promise<NutConnection> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** When the request that made the last failed connect attempt was asked. */
  private lastAttemptAt = 0;
  private lastConnectError: Ups2MqttError | undefined;
  private readonly connectListeners: Listeners<[]>;
  private closed = false;
  /** Times a connection was opened (for tests and metrics). */
  connects = 0;
  /** Times a connection was tried (for tests and metrics). */
  attempts = 0;
  /**
   * Least time between the requests that may try to connect (the registry sets ¾ of the
   * shortest poll interval of the UPSes sharing this client).
   */
  retryGapMs: number;

  constructor(private readonly opts: NutClientOptions) {
    this.retryGapMs = opts.retryGapMs ?? DEFAULT_NUT_RETRY_GAP_MS;
    this.connectListeners = new Listeners(opts.logger, 'NUT connect');
  }

  /** `host:port` for messages. */
  get where(): string {
    return whereOf(this.opts);
  }

  /** `LIST <query>`: the items' words. */
  list(query: string, signal?: AbortSignal): Promise<string[][]> {
    return this.run((c) => c.list(`LIST ${query}`, signal), signal);
  }

  /** A request with a one-line reply. */
  single(request: string, signal?: AbortSignal): Promise<string[]> {
    return this.run((c) => c.single(request, signal), signal);
  }

  /** Calls `listener` each time a connection to upsd opens; returns the unsubscribe. */
  onConnect(listener: () => void): () => void {
    return this.connectListeners.add(listener);
  }

  /** Closes the kept connection; later requests open a new one (unless closed for good). */
  close(): void {
    this.closed = true;
    const c = this.conn;
    this.conn = undefined;
    if (c) void c.logout();
  }

  /** Re-arms a closed client. */
  reopen(): void {
    this.closed = false;
  }

  private run<T>(fn: (c: NutConnection) => Promise<T>, signal?: AbortSignal): Promise<T> {
    // The gap is measured between the times requests are asked, not the times they reach
    // the head of the queue: a UPS's polls are one interval apart however long the
    // requests queued before them took. On the monotonic clock: a wall clock set back must
    // not hold the next attempt off by as much.
    const clock = this.opts.clock ?? systemClock;
    const askedAt = clock.monotonicNow ? clock.monotonicNow() : clock.now();
    const task = this.queue.then(async () => {
      const conn = await this.connection(askedAt, signal);
      return fn(conn);
    });
    this.queue = task.catch(() => {});
    return task;
  }

  private async connection(askedAt: number, signal?: AbortSignal): Promise<NutConnection> {
    if (this.closed) {
      throw new Ups2MqttError('ABORTED', `NUT client of ${this.where} is closed`, {
        context: { host: this.opts.host, port: this.opts.port },
      });
    }
    if (this.conn?.usable) return this.conn;
    this.conn = undefined;
    const last = this.lastConnectError;
    const wait = this.lastAttemptAt + this.retryGapMs - askedAt;
    if (last && wait > 0) {
      throw new Ups2MqttError(last.code, `${last.message} (next attempt in ${wait} ms)`, {
        cause: last,
        context: { ...last.context, retryInMs: wait },
      });
    }
    this.attempts++;
    this.connecting ??= NutConnection.open(this.opts, signal);
    let conn: NutConnection;
    try {
      conn = await this.connecting;
    } catch (err) {
      if (!isUps2MqttError(err, 'ABORTED')) {
        this.lastAttemptAt = askedAt;
        this.lastConnectError = isUps2MqttError(err)
          ? err
          : new Ups2MqttError('CONNECT_FAILED', String(err));
      }
      throw err;
    } finally {
      this.connecting = undefined;
    }
    this.connects++;
    this.lastConnectError = undefined;
    this.conn = conn;
    this.connectListeners.emit();
    return conn;
  }
}
