import type { Socket } from 'node:net';
import { systemClock, type TimerHandle } from '../../core/clock.ts';
import { isUps2MqttError, Ups2MqttError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import {
  DEFAULT_TIMEOUT_MS,
  dialUpsd,
  type NutDialOptions,
  secureUpsdSocket,
  whereOf,
} from './dial.ts';
import {
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_MAX_LIST_ITEMS,
  NutLineDecoder,
  NutListCollector,
  nutServerError,
  replyWords,
  requestForLog,
} from './protocol.ts';

/** Options of {@link NutConnection} and {@link NutClient}. */
export interface NutConnectionOptions extends NutDialOptions {
  /** Time allowed for one complete reply (default 3000 ms). */
  readTimeoutMs?: number;
  maxLineBytes?: number;
  maxListItems?: number;
  logger: Logger;
}

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
    const socket = await dialUpsd(opts, signal);
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
    const secure = await secureUpsdSocket(plain, this.opts);
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
