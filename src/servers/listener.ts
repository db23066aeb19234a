/**
 * The TCP side shared by the protocol servers (apcupsd NIS, NUT upsd): bind, a bound on
 * simultaneous clients, an idle timeout, a bound on what a client may leave unread, and
 * counters for /metrics. What a connection says is the protocol module's business: it gets
 * each accepted socket through `onConnection`.
 *
 * Neither protocol has real security (NIS none at all, NUT passwords in clear), so the
 * default address is loopback and any other address logs a warning (docs/security.md).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../core/log.ts';
import type { ProtocolServerStats } from '../core/ports.ts';

export interface ListenerOptions {
  /** Protocol name for logs and metrics (`nis`, `nut`). */
  name: string;
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Clients served at once; one more is closed at once with a log line. */
  maxClients: number;
  /** A client silent this long is disconnected. */
  idleTimeoutMs: number;
  /**
   * Bytes a client may leave unread in our send buffer; a slower client is disconnected
   * rather than let the bridge queue for it without bound.
   */
  maxPendingWriteBytes: number;
}

/** Counters per server, for /metrics (the shared contract in core/ports.ts). */
export type ListenerStats = ProtocolServerStats;

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** A bounded TCP listener; start() binds, stop() closes the port and every client. */
export class BoundedListener {
  readonly stats: ListenerStats = { connections: 0, rejected: 0, requests: 0, active: 0 };
  private server: Server | undefined;
  private readonly clients = new Set<Socket>();

  constructor(
    private readonly opts: ListenerOptions,
    private readonly onConnection: (socket: Socket) => void,
    private readonly logger: Logger,
  ) {}

  /** Binds; resolves with the bound port. Rejects when the address cannot be bound. */
  async start(): Promise<number> {
    const { host, port, name } = this.opts;
    if (!isLoopbackHost(host)) {
      this.logger.warn(
        { server: name, host, port },
        `the ${name.toUpperCase()} server listens on a non-loopback address: anyone who reaches it can read the UPS${name === 'nut' ? ' and NUT passwords cross the network in clear' : ' (NIS has no authentication)'}`,
      );
    }
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen({ host, port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err) => this.logger.error({ err, server: name }, 'server error'));
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    this.logger.info({ server: name, host, port: bound }, `${name.toUpperCase()} server listening`);
    return bound;
  }

  /** Closes the port and every client connection. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.clients) socket.destroy();
    this.clients.clear();
    this.stats.active = 0;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Counts one answered request (called by the protocol module). */
  countRequest(): void {
    this.stats.requests++;
  }

  /**
   * Writes to a client unless it already has too much unread; then it is disconnected.
   * Returns false when the client is gone.
   */
  send(socket: Socket, data: string | Buffer): boolean {
    if (socket.destroyed) return false;
    if (socket.writableLength > this.opts.maxPendingWriteBytes) {
      this.logger.warn(
        { server: this.opts.name, client: peer(socket), pending: socket.writableLength },
        'client does not read its replies: disconnected',
      );
      socket.destroy();
      return false;
    }
    socket.write(data);
    return true;
  }

  private accept(socket: Socket): void {
    const { name, maxClients, idleTimeoutMs } = this.opts;
    if (this.clients.size >= maxClients) {
      this.stats.rejected++;
      this.logger.warn(
        { server: name, client: peer(socket), max_clients: maxClients },
        'too many clients: connection closed',
      );
      socket.destroy();
      return;
    }
    this.stats.connections++;
    this.clients.add(socket);
    this.stats.active = this.clients.size;
    socket.setNoDelay(true);
    socket.setTimeout(idleTimeoutMs, () => {
      this.logger.debug({ server: name, client: peer(socket) }, 'idle client disconnected');
      socket.destroy();
    });
    socket.on('error', (err) =>
      this.logger.debug({ server: name, client: peer(socket), err }, 'client connection error'),
    );
    socket.on('close', () => {
      this.clients.delete(socket);
      this.stats.active = this.clients.size;
    });
    try {
      this.onConnection(socket);
    } catch (err) {
      this.logger.error({ err, server: name }, 'protocol handler failed: connection closed');
      socket.destroy();
    }
  }
}

function peer(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}
