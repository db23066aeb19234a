import { createConnection } from 'node:net';
import type { Duplex } from 'node:stream';
import { type Clock, systemClock, type TimerHandle } from '../../core/clock.ts';
import { isUps2MqttError, Ups2MqttError } from '../../core/errors.ts';
import { unwatchAbort, watchAbort } from '../../util/signals.ts';
import {
  DEFAULT_MAX_FRAME_BYTES,
  encodeNisCommand,
  type NisCommand,
  NisFrameDecoder,
} from './framing.ts';
import { listenOn } from './link.ts';
import type { NisConnectionPool } from './pool.ts';

/**
 * A connected (or connecting) byte stream to an NIS server. A `net.Socket` qualifies; so does
 * any Duplex, which tests use to feed exact byte streams. When `connecting` is true the client
 * waits for the `connect` event; otherwise the stream counts as connected at once.
 */
export type NisSocket = Duplex & { readonly connecting?: boolean };

/** Opens a stream to host:port. Injected so tests need no network. */
export type NisConnector = (host: string, port: number) => NisSocket;

/** Options of {@link nisRequest}. */
export interface NisRequestOptions {
  host: string;
  port: number;
  command: NisCommand;
  /** Time allowed for the TCP connect (default 3000 ms). */
  connectTimeoutMs?: number;
  /** Time allowed for the whole reply, counted from the connect (default 3000 ms). */
  readTimeoutMs?: number;
  /** Largest frame payload accepted (default {@link DEFAULT_MAX_FRAME_BYTES}). */
  maxFrameBytes?: number;
  /** Most lines accepted in one reply (default 512; apcupsd sends ≤ ~60 status, ≤ 50 events). */
  maxLines?: number;
  signal?: AbortSignal;
  connect?: NisConnector;
  /** Timer source (default the system clock). */
  clock?: Clock;
  /**
   * Where a connection may be reused from and handed back to after a clean reply. Without
   * one, every request opens a fresh connection and closes it.
   */
  pool?: NisConnectionPool;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
const DEFAULT_READ_TIMEOUT_MS = 3000;
const DEFAULT_MAX_LINES = 512;

const defaultConnector: NisConnector = (host, port) => createConnection({ host, port });

/**
 * Sends one NIS command and returns the reply's lines (one per frame, the trailing `\n`
 * removed, other trailing blanks kept).
 *
 * Without `pool` the request opens a fresh connection and closes it afterwards, as apcaccess
 * does (docs/protocols/nis.md#connections-and-timeouts). With a pool, an idle connection is reused when the pool offers one
 * and the connection is handed back after a clean reply; a reused connection that turns out
 * to be closed before any byte of the reply arrived (apcupsd's idle close racing the request)
 * is retried once on a fresh connection.
 *
 * Rejects with an {@link Ups2MqttError}: CONNECT_FAILED, CONNECT_TIMEOUT, READ_TIMEOUT,
 * PEER_CLOSED, FRAME_TOO_LARGE, PROTOCOL_ERROR, SERVER_ERROR (apcupsd's NUL-terminated error
 * replies, text in `context.reply`) or ABORTED. On failure the socket is destroyed; every
 * timer and listener is released on every path (the connection's own listeners, installed once
 * by listenOn, stay with it and drop what comes after the request).
 */
export async function nisRequest(opts: NisRequestOptions): Promise<string[]> {
  const reused = opts.pool?.take();
  if (reused === undefined) return exchange(opts, undefined);
  try {
    return await exchange(opts, reused);
  } catch (err) {
    if (!isUps2MqttError(err, 'PEER_CLOSED') || err.context.bytesReceived !== 0) throw err;
    if (opts.signal?.aborted === true) throw err;
    return exchange(opts, undefined);
  }
}

/** One request on `reused`, or on a fresh connection when it is undefined. */
function exchange(opts: NisRequestOptions, reused: NisSocket | undefined): Promise<string[]> {
  const context = { host: opts.host, port: opts.port, command: opts.command };
  const signal = opts.signal;
  if (signal?.aborted) {
    if (reused !== undefined) opts.pool?.keep(reused);
    return Promise.reject(abortedError(context, signal.reason));
  }

  return new Promise<string[]>((resolve, reject) => {
    const clock = opts.clock ?? systemClock;
    const maxLines = opts.maxLines ?? DEFAULT_MAX_LINES;
    const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const readTimeoutMs = opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    const decoder = new NisFrameDecoder({
      maxFrameBytes: opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    });
    const lines: string[] = [];
    let timer: TimerHandle | undefined;
    let connected = false;
    let settled = false;
    let bytesReceived = 0;
    let socket: NisSocket | undefined;

    const release = (reusable: boolean): void => {
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      if (signal !== undefined) unwatchAbort(signal, onAbort);
      if (socket === undefined) return;
      socket.off('connect', onConnect);
      // The connection's permanent listeners stay (see listenOn), a late error included.
      listenOn(socket, undefined);
      if (reusable && opts.pool !== undefined) {
        opts.pool.keep(socket);
        return;
      }
      socket.destroy();
    };
    const fail = (err: Ups2MqttError): void => {
      if (settled) return;
      settled = true;
      release(false);
      reject(err);
    };
    const succeed = (clean: boolean): void => {
      if (settled) return;
      settled = true;
      release(clean);
      resolve(lines);
    };

    function onAbort(): void {
      fail(abortedError(context, signal?.reason));
    }

    function onConnect(): void {
      connected = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = clock.setTimeout(() => {
        fail(
          new Ups2MqttError('READ_TIMEOUT', `no complete NIS reply within ${readTimeoutMs} ms`, {
            context: { ...context, timeoutMs: readTimeoutMs, linesReceived: lines.length },
          }),
        );
      }, readTimeoutMs);
      socket?.write(encodeNisCommand(opts.command));
    }

    function onData(chunk: Buffer): void {
      if (settled) return;
      bytesReceived += chunk.length;
      let frames: ReturnType<NisFrameDecoder['push']>;
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        fail(withContext(err, context));
        return;
      }
      for (let i = 0; i < frames.length; i++) {
        const frame = frames[i] as (typeof frames)[number];
        if (frame.kind === 'end') {
          // Bytes after the terminator belong to no request: that connection is not reused.
          succeed(i === frames.length - 1 && decoder.pendingBytes === 0);
          return;
        }
        const problem = checkLine(frame.text, lines.length, maxLines, context);
        if (problem !== undefined) {
          fail(problem);
          return;
        }
        lines.push(frame.text.endsWith('\n') ? frame.text.slice(0, -1) : frame.text);
      }
    }

    function onPeerGone(): void {
      fail(
        new Ups2MqttError(
          'PEER_CLOSED',
          'NIS server closed the connection before the end of the reply',
          {
            context: { ...context, linesReceived: lines.length, bytesReceived },
          },
        ),
      );
    }

    function onError(err: Error): void {
      if (connected) {
        fail(
          new Ups2MqttError('PEER_CLOSED', `NIS connection failed: ${err.message}`, {
            cause: err,
            context: { ...context, linesReceived: lines.length, bytesReceived },
          }),
        );
        return;
      }
      fail(
        new Ups2MqttError(
          'CONNECT_FAILED',
          `cannot connect to NIS ${where(context)}: ${err.message}`,
          {
            cause: err,
            context,
          },
        ),
      );
    }

    if (signal !== undefined) watchAbort(signal, onAbort);
    try {
      socket = reused ?? (opts.connect ?? defaultConnector)(opts.host, opts.port);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      fail(
        new Ups2MqttError('CONNECT_FAILED', `cannot connect to NIS ${where(context)}: ${message}`, {
          cause: err,
          context,
        }),
      );
      return;
    }
    if (reused !== undefined) connected = true;
    listenOn(socket, { data: onData, gone: onPeerGone, error: onError });
    if (socket.connecting === true) {
      timer = clock.setTimeout(() => {
        fail(
          new Ups2MqttError(
            'CONNECT_TIMEOUT',
            `connect to NIS ${where(context)} timed out after ${connectTimeoutMs} ms`,
            {
              context: { ...context, timeoutMs: connectTimeoutMs },
            },
          ),
        );
      }, connectTimeoutMs);
      socket.once('connect', onConnect);
    } else {
      onConnect();
    }
  });
}

type RequestContext = { host: string; port: number; command: NisCommand };

/**
 * apcupsd answers a bad command, a missing event log or a broken daemon with a single
 * NUL-terminated message instead of the reply (docs/protocols/nis.md#framing "Error replies"); status lines never end
 * in NUL. Returns the error to fail with, or undefined when the line is acceptable.
 */
function checkLine(
  text: string,
  received: number,
  maxLines: number,
  context: RequestContext,
): Ups2MqttError | undefined {
  if (received === 0 && text.endsWith('\0')) {
    const reply = text.replace(/\0+$/, '').replace(/\r?\n$/, '');
    return new Ups2MqttError('SERVER_ERROR', `NIS server refused "${context.command}": ${reply}`, {
      context: { ...context, reply },
    });
  }
  if (received >= maxLines) {
    return new Ups2MqttError('PROTOCOL_ERROR', `NIS reply has more than ${maxLines} lines`, {
      context: { ...context, maxLines },
    });
  }
  return undefined;
}

function where(context: RequestContext): string {
  return context.host.includes(':')
    ? `[${context.host}]:${context.port}`
    : `${context.host}:${context.port}`;
}

function abortedError(context: RequestContext, reason: unknown): Ups2MqttError {
  return new Ups2MqttError('ABORTED', `NIS "${context.command}" request aborted`, {
    cause: reason,
    context,
  });
}

/** Adds the request's context to a decoder error (FRAME_TOO_LARGE) without losing its code. */
function withContext(err: unknown, context: RequestContext): Ups2MqttError {
  if (isUps2MqttError(err)) {
    return new Ups2MqttError(err.code, err.message, {
      cause: err,
      context: { ...context, ...err.context },
    });
  }
  return new Ups2MqttError('PROTOCOL_ERROR', 'cannot decode NIS reply', { cause: err, context });
}
