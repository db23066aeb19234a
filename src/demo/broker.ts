/**
 * An embedded MQTT broker (aedes 1.x over node:net) so that `ups2mqtt demo` works on a
 * machine without mosquitto. It is a demo convenience, not a production broker: anonymous,
 * in-memory, MQTT 3.1/3.1.1 only (aedes does not speak MQTT 5), and bound to loopback
 * unless told otherwise.
 */

import type { AddressInfo, Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import { Ups2MqttError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';

/** Where and how to listen. */
export interface EmbeddedBrokerOptions {
  /** Interface to bind; default 127.0.0.1 (servers we open bind to loopback unless told). */
  host?: string;
  /** Default 1883; 0 lets the OS pick a free port. */
  port?: number;
  /** When the port is taken (EADDRINUSE), listen on a free port instead. Default true. */
  fallbackToFreePort?: boolean;
  logger: Logger;
}

/** A running embedded broker. */
export interface EmbeddedBroker {
  /** `mqtt://host:port`, ready for mqtt.js. */
  readonly url: string;
  readonly host: string;
  /** The port actually bound (differs from the requested one after a fallback). */
  readonly port: number;
  /** Stops listening, disconnects every client and closes the broker. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 1883;
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return undefined;
}

/** Starts the broker; rejects with CONFIG_INVALID when it cannot listen. */
export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const host = opts.host ?? DEFAULT_HOST;
  const requestedPort = opts.port ?? DEFAULT_PORT;
  const fallback = opts.fallbackToFreePort ?? true;
  const log = opts.logger;

  const aedes = await Aedes.createBroker();
  aedes.on('client', (client) =>
    log.debug({ clientId: client.id }, 'demo broker: client connected'),
  );
  aedes.on('clientDisconnect', (client) =>
    log.debug({ clientId: client.id }, 'demo broker: client disconnected'),
  );
  aedes.on('clientError', (client, err) =>
    log.debug({ clientId: client.id, err }, 'demo broker: client error'),
  );
  // Refused connections (e.g. an MQTT 5 client, which aedes 1.x does not speak) deserve a warning.
  aedes.on('connectionError', (_client, err) =>
    log.warn({ err }, 'demo broker: connection refused'),
  );

  // Sockets that never sent CONNECT are not aedes clients; track them to close them too.
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  const closeAedes = (): Promise<void> => new Promise((resolve) => aedes.close(() => resolve()));

  try {
    await listen(server, requestedPort, host);
  } catch (err) {
    if (!(fallback && errnoCode(err) === 'EADDRINUSE')) {
      await closeAedes();
      throw listenError(host, requestedPort, err, fallback);
    }
    log.warn({ host, port: requestedPort }, 'demo broker: port in use, using a free port instead');
    try {
      await listen(server, 0, host);
    } catch (err2) {
      await closeAedes();
      throw listenError(host, 0, err2, fallback);
    }
  }

  const port = (server.address() as AddressInfo).port;
  const url = `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!isLoopback(host)) {
    log.warn({ host, port }, 'demo broker accepts anonymous clients on a non-loopback address');
  }
  log.info({ url }, 'demo broker listening');

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await closeAedes();
      for (const socket of sockets) socket.destroy();
      await serverClosed;
      log.info({ url }, 'demo broker closed');
    })();
    return closing;
  };
  return { url, host, port, close };
}

function listenError(host: string, port: number, err: unknown, fallback: boolean): Ups2MqttError {
  const code = errnoCode(err);
  const hint =
    code === 'EADDRINUSE'
      ? fallback
        ? ''
        : ' (another MQTT broker?); choose another port or allow the fallback to a free port'
      : '';
  const what = code === 'EADDRINUSE' ? 'is already in use' : `cannot be opened (${code ?? err})`;
  return new Ups2MqttError('CONFIG_INVALID', `demo broker: ${host}:${port} ${what}${hint}`, {
    cause: err,
    context: { host, port, code },
  });
}
