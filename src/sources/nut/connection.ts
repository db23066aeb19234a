import { createConnection, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { type Clock, systemClock, type TimerHandle } from '../../core/clock.ts';
import { isUps2MqttError, Ups2MqttError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { NutTlsMode } from '../uri.ts';
import {
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_MAX_LIST_ITEMS,
  NutLineDecoder,
  NutListCollector,
  nutServerError,
  replyWords,
  requestForLog,
} from './protocol.ts';

/** Opens a TCP stream to host:port. Injected so tests can count or refuse connections. */
export type NutConnector = (host: string, port: number) => Socket;

/** Where and how to reach one upsd. */
export interface NutEndpoint {
  host: string;
  port: number;
  tls: NutTlsMode;
  /** PEM CA certificate(s) for STARTTLS; default: Node's trusted roots. */
  ca?: Buffer | undefined;
}

/** Options of {@link NutConnection} and {@link NutClient}. */
export interface NutConnectionOptions extends NutEndpoint {
  /** Time allowed for TCP connect plus STARTTLS (default 3000 ms). */
  connectTimeoutMs?: number;
  /** Time allowed for one complete reply (default 3000 ms). */
  readTimeoutMs?: number;
  maxLineBytes?: number;
  maxListItems?: number;
  clock?: Clock;
  logger: Logger;
  connect?: NutConnector;
}

const DEFAULT_TIMEOUT_MS = 3000;

/** Waits for the lines of one reply; `feed` returns true when the reply is complete. */
interface Pending {
  feed(line: string): boolean;
  fail(err: Ups2MqttError): void;
}

/**
 * One TCP (optionally TLS) connection to upsd carrying one request at a time. Any
 * transport failure, timeout or malformed reply destroys it; an `ERR` reply does not (upsd
 * keeps the session). Build with {@link NutConnection.open}.
 */
export class NutConnection {
  private socket: Socket;
  private decoder: NutLineDecoder;
  private pending: Pending | undefined;
  private closedError: Ups2MqttError | undefined;
  /** True when the connection runs over TLS (after STARTTLS). */
  secure = false;

  private constructor(
    private readonly opts: NutConnectionOptions,
    socket: Socket,
  ) {
    this.socket = socket;
    this.decoder = new NutLineDecoder(opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.attach(socket);
  }

  /** Connects, and runs STARTTLS when the endpoint asks for it. */
  static async open(opts: NutConnectionOptions, signal?: AbortSignal): Promise<NutConnection> {
    const clock = opts.clock ?? systemClock;
    const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const where = whereOf(opts);
    const socket = await new Promise<Socket>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const s = (opts.connect ?? ((h, p) => createConnection({ host: h, port: p })))(
        opts.host,
        opts.port,
      );
      const done = (err?: Ups2MqttError): void => {
        if (timer !== undefined) clock.clearTimeout(timer);
        s.off('connect', onConnect);
        s.off('error', onError);
        signal?.removeEventListener('abort', onAbort);
        if (err) {
          s.on('error', () => {});
          s.destroy();
          reject(err);
        } else resolve(s);
      };
      const onConnect = (): void => done();
      const onError = (err: Error): void =>
        done(
          new Ups2MqttError('CONNECT_FAILED', `cannot connect to upsd ${where}: ${err.message}`, {
            cause: err,
            context: { host: opts.host, port: opts.port },
          }),
        );
      const onAbort = (): void =>
        done(new Ups2MqttError('ABORTED', `connect to upsd ${where} aborted`, { context: {} }));
      timer = clock.setTimeout(
        () =>
          done(
            new Ups2MqttError(
              'CONNECT_TIMEOUT',
              `connect to upsd ${where} timed out after ${timeoutMs} ms`,
              { context: { host: opts.host, port: opts.port, timeoutMs } },
            ),
          ),
        timeoutMs,
      );
      s.once('connect', onConnect);
      s.once('error', onError);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
    socket.setNoDelay(true);
    const conn = new NutConnection(opts, socket);
    if (opts.tls !== 'off') {
      try {
        await conn.startTls(signal);
      } catch (err) {
        conn.close();
        throw err;
      }
    }
    return conn;
  }

  /** Whether the connection can carry another request. */
  get usable(): boolean {
    return this.closedError === undefined && !this.socket.destroyed;
  }

  /** One request with a one-line reply; its words. `ERR` rejects with the coded error. */
  async single(line: string, signal?: AbortSignal): Promise<string[]> {
    const words = line.trimEnd();
    let reply: string[] = [];
    await this.exchange(
      words,
      (line) => {
        reply = replyWords(line, words);
        if (reply[0] === 'ERR') throw nutServerError(reply, words);
        return true;
      },
      signal,
    );
    return reply;
  }

  /** One `LIST …` request; the item lines' words. */
  async list(request: string, signal?: AbortSignal): Promise<string[][]> {
    const collector = new NutListCollector(
      request,
      this.opts.maxListItems ?? DEFAULT_MAX_LIST_ITEMS,
    );
    let items: string[][] = [];
    await this.exchange(
      request,
      (line) => {
        const done = collector.push(line);
        if (done === undefined) return false;
        items = done;
        return true;
      },
      signal,
    );
    return items;
  }

  /** Says goodbye (best effort) and closes. */
  async logout(): Promise<void> {
    if (this.usable) {
      try {
        await this.single('LOGOUT');
      } catch {
        // Closing anyway.
      }
    }
    this.close();
  }

  /** Closes at once; a request in flight fails with PEER_CLOSED. */
  close(): void {
    this.shut(
      new Ups2MqttError('PEER_CLOSED', 'NUT connection closed', {
        context: { host: this.opts.host, port: this.opts.port },
      }),
    );
  }

  private async startTls(signal?: AbortSignal): Promise<void> {
    const mode = this.opts.tls;
    try {
      const reply = await this.single('STARTTLS', signal);
      if (reply[0] !== 'OK') throw this.protocol('STARTTLS', reply.join(' '));
    } catch (err) {
      // upsd without a certificate answers FEATURE-NOT-CONFIGURED; older ones UNKNOWN-COMMAND.
      if (mode === 'prefer' && isUps2MqttError(err, 'SOURCE_UNSUPPORTED')) {
        this.opts.logger.warn(
          { host: this.opts.host, port: this.opts.port, nutError: err.context.nutError },
          'upsd does not offer STARTTLS: reading it in clear (tls=prefer)',
        );
        return;
      }
      if (isUps2MqttError(err, 'SOURCE_UNSUPPORTED')) {
        throw new Ups2MqttError(
          'TLS_FAILED',
          `upsd ${whereOf(this.opts)} does not offer STARTTLS (tls=require): ${err.message}`,
          { cause: err, context: { host: this.opts.host, port: this.opts.port } },
        );
      }
      throw err;
    }
    // From here on the same TCP stream carries TLS (NUT developer guide, STARTTLS).
    const plain = this.socket;
    this.detach(plain);
    const clock = this.opts.clock ?? systemClock;
    const timeoutMs = this.opts.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const secure = await new Promise<Socket>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const s = tlsConnect({
        socket: plain,
        servername: /^[\d.:]+$/.test(this.opts.host) ? undefined : this.opts.host,
        ...(this.opts.ca ? { ca: this.opts.ca } : {}),
      });
      const done = (err?: Error): void => {
        if (timer !== undefined) clock.clearTimeout(timer);
        s.off('secureConnect', onSecure);
        s.off('error', onError);
        if (err) {
          s.on('error', () => {});
          s.destroy();
          reject(
            new Ups2MqttError(
              'TLS_FAILED',
              `TLS with upsd ${whereOf(this.opts)} failed: ${err.message}`,
              {
                cause: err,
                context: { host: this.opts.host, port: this.opts.port },
              },
            ),
          );
        } else resolve(s);
      };
      const onSecure = (): void => done();
      const onError = (err: Error): void => done(err);
      timer = clock.setTimeout(
        () => done(new Error(`no TLS handshake within ${timeoutMs} ms`)),
        timeoutMs,
      );
      s.once('secureConnect', onSecure);
      s.once('error', onError);
    });
    this.socket = secure;
    this.decoder = new NutLineDecoder(this.opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.attach(secure);
    this.secure = true;
  }

  private exchange(
    request: string,
    onLine: (line: string) => boolean,
    signal?: AbortSignal,
  ): Promise<void> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (this.pending) {
      return Promise.reject(
        new Ups2MqttError('PROTOCOL_ERROR', 'NUT connection is busy', {
          context: { request: requestForLog(request) },
        }),
      );
    }
    const clock = this.opts.clock ?? systemClock;
    const timeoutMs = this.opts.readTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<void>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const finish = (err?: Ups2MqttError): void => {
        if (timer !== undefined) clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending = undefined;
        if (err) reject(err);
        else resolve();
      };
      const onAbort = (): void => {
        // The reply may still come: this connection cannot be trusted for the next request.
        this.shut(
          new Ups2MqttError('ABORTED', `NUT request "${requestForLog(request)}" aborted`, {
            cause: signal?.reason,
            context: { request: requestForLog(request) },
          }),
        );
      };
      this.pending = {
        feed: (line) => {
          let complete: boolean;
          try {
            complete = onLine(line);
          } catch (err) {
            const e = isUps2MqttError(err)
              ? err
              : new Ups2MqttError('PROTOCOL_ERROR', 'cannot read the NUT reply', { cause: err });
            // An ERR reply leaves the session intact; anything else poisons it.
            const serverSaid = e.context.nutError !== undefined;
            if (!serverSaid) this.shut(e);
            finish(e);
            return true;
          }
          if (complete) finish();
          return complete;
        },
        fail: (err) => finish(err),
      };
      timer = clock.setTimeout(() => {
        this.shut(
          new Ups2MqttError('READ_TIMEOUT', `no complete NUT reply within ${timeoutMs} ms`, {
            context: { request: requestForLog(request), timeoutMs },
          }),
        );
      }, timeoutMs);
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.socket.write(request.endsWith('\n') ? request : `${request}\n`);
    });
  }

  private readonly onData = (chunk: Buffer): void => {
    let lines: string[];
    try {
      lines = this.decoder.push(chunk);
    } catch (err) {
      this.shut(isUps2MqttError(err) ? err : this.protocol('', String(err)));
      return;
    }
    for (const line of lines) {
      const p = this.pending;
      if (p === undefined) {
        this.shut(this.protocol('', `unsolicited line from upsd: ${line.slice(0, 80)}`));
        return;
      }
      p.feed(line);
    }
  };

  private readonly onGone = (): void => {
    this.shut(
      new Ups2MqttError('PEER_CLOSED', 'upsd closed the connection', {
        context: { host: this.opts.host, port: this.opts.port },
      }),
    );
  };

  private readonly onError = (err: Error): void => {
    this.shut(
      new Ups2MqttError('PEER_CLOSED', `NUT connection failed: ${err.message}`, {
        cause: err,
        context: { host: this.opts.host, port: this.opts.port },
      }),
    );
  };

  private attach(s: Socket): void {
    s.on('data', this.onData);
    s.on('end', this.onGone);
    s.on('close', this.onGone);
    s.on('error', this.onError);
  }

  private detach(s: Socket): void {
    s.off('data', this.onData);
    s.off('end', this.onGone);
    s.off('close', this.onGone);
    s.off('error', this.onError);
  }

  private shut(err: Ups2MqttError): void {
    if (this.closedError === undefined) this.closedError = err;
    this.detach(this.socket);
    // A late error on the destroyed socket must not crash the process.
    this.socket.on('error', () => {});
    this.socket.destroy();
    const p = this.pending;
    this.pending = undefined;
    p?.fail(err);
  }

  private protocol(request: string, detail: string): Ups2MqttError {
    return new Ups2MqttError('PROTOCOL_ERROR', `unexpected reply from upsd: ${detail}`, {
      context: { request: requestForLog(request) },
    });
  }
}

/** `host:port` (IPv6 hosts in brackets) for messages. */
export function whereOf(e: { host: string; port: number }): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}
