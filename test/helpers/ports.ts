/**
 * Loopback port and bounded-polling helpers for integration tests. Everything here talks to
 * 127.0.0.1 only, and every wait has a deadline.
 */
import { createConnection, createServer } from 'node:net';
import { Ups2MqttError } from '../../src/core/errors.ts';

/** The only address the harness ever binds or connects to. */
export const LOOPBACK = '127.0.0.1';

/**
 * A TCP port that was free a moment ago: binds 127.0.0.1:0, reads the port the kernel chose,
 * closes. Another process can take it before the caller binds it (unlikely on a test box,
 * because the kernel hands out ephemeral ports round-robin); callers that bind it themselves
 * should fail loudly rather than retry silently.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: LOOPBACK, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        if (port > 0) resolve(port);
        else reject(new Ups2MqttError('CONNECT_FAILED', 'could not obtain a free port'));
      });
    });
  });
}

/** Outcome of one connection attempt. */
export type ProbeResult = 'open' | 'refused' | 'error';

/**
 * One TCP connect to 127.0.0.1:port, closed at once. `refused` is ECONNREFUSED (nobody
 * listens); `error` is anything else, including no answer within `timeoutMs`.
 */
export function probePort(port: number, timeoutMs = 1000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: LOOPBACK });
    const done = (result: ProbeResult): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done('error'), timeoutMs);
    socket.once('connect', () => done('open'));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' ? 'refused' : 'error'),
    );
  });
}

/** Options of {@link pollUntil} and {@link waitForPort}. */
export interface PollOptions {
  /** Pause between attempts; default 50 ms. */
  intervalMs?: number;
  /** Gives up early (e.g. the daemon that should answer has exited). */
  signal?: AbortSignal;
  /** Names what is awaited, for the timeout message. */
  what?: string;
}

/**
 * Calls `attempt` until it returns something other than `undefined`, pausing `intervalMs`
 * between calls, and returns that value. A throwing attempt counts as "not yet" (daemons
 * refuse connections while they start). Rejects with `READ_TIMEOUT` after `timeoutMs`
 * (context.lastError = the last attempt's error), or `ABORTED` when `signal` aborts.
 */
export async function pollUntil<T>(
  attempt: () => Promise<T | undefined>,
  timeoutMs: number,
  options: PollOptions = {},
): Promise<T> {
  const interval = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (options.signal?.aborted === true) {
      throw new Ups2MqttError('ABORTED', `stopped waiting for ${options.what ?? 'condition'}`, {
        cause: options.signal.reason,
      });
    }
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await pause(Math.min(interval, left), options.signal);
  }
  throw new Ups2MqttError(
    'READ_TIMEOUT',
    `${options.what ?? 'condition'} not reached within ${timeoutMs} ms`,
    {
      context: { timeoutMs, lastError: lastError instanceof Error ? lastError.message : lastError },
    },
  );
}

/**
 * Polls 127.0.0.1:port until a TCP connect succeeds. Rejects like {@link pollUntil}
 * (`READ_TIMEOUT` after `timeoutMs`, `ABORTED` when the signal aborts).
 */
export function waitForPort(
  port: number,
  timeoutMs: number,
  options: PollOptions = {},
): Promise<void> {
  return pollUntil(
    async () => ((await probePort(port, Math.min(timeoutMs, 1000))) === 'open' ? true : undefined),
    timeoutMs,
    { what: `port ${port} accepting connections`, ...options },
  ).then(() => undefined);
}

/** A short, abortable pause between polling attempts (never a test-level wait). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(finish, ms);
    function finish(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      resolve();
    }
    signal?.addEventListener('abort', finish, { once: true });
  });
}
