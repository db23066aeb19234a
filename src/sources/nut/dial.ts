/**
 * Reaching upsd: the TCP connect and, after a STARTTLS that upsd accepted, the TLS handshake
 * on the same stream. Both are bounded by the connect timeout and end in a coded error.
 * The NUT conversation itself is connection.ts.
 */
import { createConnection, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { type Clock, systemClock, type TimerHandle } from '../../core/clock.ts';
import { Ups2MqttError } from '../../core/errors.ts';
import type { NutTlsMode } from '../uri.ts';

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

/** What reaching upsd needs besides the endpoint. */
export interface NutDialOptions extends NutEndpoint {
  /** Time allowed for TCP connect plus STARTTLS (default 3000 ms; each step has it). */
  connectTimeoutMs?: number;
  clock?: Clock;
  connect?: NutConnector;
}

/** Default of {@link NutDialOptions.connectTimeoutMs} (also the NUT read timeout's default). */
export const DEFAULT_TIMEOUT_MS = 3000;

/** `host:port` (IPv6 hosts in brackets) for messages. */
export function whereOf(e: { host: string; port: number }): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/**
 * The connected TCP stream to upsd. Rejects with CONNECT_FAILED, CONNECT_TIMEOUT or ABORTED;
 * a stream that failed is destroyed.
 */
export function dialUpsd(opts: NutDialOptions, signal?: AbortSignal): Promise<Socket> {
  const clock = opts.clock ?? systemClock;
  const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const where = whereOf(opts);
  return new Promise<Socket>((resolve, reject) => {
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
}

/**
 * The TLS stream over `plain` once upsd said OK to STARTTLS (NUT developer guide, STARTTLS):
 * the server name is the host unless it is an address, the CA the endpoint's or Node's roots.
 * Rejects with TLS_FAILED (handshake error or none within the connect timeout).
 */
export function secureUpsdSocket(plain: Socket, opts: NutDialOptions): Promise<Socket> {
  const clock = opts.clock ?? systemClock;
  const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise<Socket>((resolve, reject) => {
    let timer: TimerHandle | undefined;
    const s = tlsConnect({
      socket: plain,
      servername: /^[\d.:]+$/.test(opts.host) ? undefined : opts.host,
      ...(opts.ca ? { ca: opts.ca } : {}),
    });
    const done = (err?: Error): void => {
      if (timer !== undefined) clock.clearTimeout(timer);
      s.off('secureConnect', onSecure);
      s.off('error', onError);
      if (err) {
        s.on('error', () => {});
        s.destroy();
        reject(
          new Ups2MqttError('TLS_FAILED', `TLS with upsd ${whereOf(opts)} failed: ${err.message}`, {
            cause: err,
            context: { host: opts.host, port: opts.port },
          }),
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
}
