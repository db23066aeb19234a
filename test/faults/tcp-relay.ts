/**
 * A TCP relay on 127.0.0.1 that can blackhole what it carries: `freeze()` stops forwarding
 * in both directions without closing anything (as a link that drops every packet: both ends
 * keep their sockets and hear nothing), `unfreeze()` forwards again what was held, and
 * `killAll()` closes every connection it carries. Connections made while frozen are
 * accepted and held the same way.
 *
 * Freezing pauses reading on both sockets of every pair: what either end writes stays in the
 * kernel's buffers (as in TCP retransmission queues), and an end that closes is not seen by
 * the other until the relay reads again.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { freePort, LOOPBACK } from '../helpers/ports.ts';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

export class TcpRelay {
  private readonly pairs = new Set<Pair>();
  private frozen = false;
  private pingWaiters: (() => void)[] = [];
  /** Connections accepted so far. */
  accepted = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  /** Listens on a free port and relays every connection to `targetPort` on 127.0.0.1. */
  static async start(targetPort: number): Promise<TcpRelay> {
    const port = await freePort();
    const server = createServer({ pauseOnConnect: true });
    const relay = new TcpRelay(server, port, targetPort);
    server.on('connection', (socket) => relay.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, LOOPBACK, () => resolve());
    });
    return relay;
  }

  get url(): string {
    return `mqtt://${LOOPBACK}:${this.port}`;
  }

  /** Connection pairs open now. */
  get open(): number {
    return this.pairs.size;
  }

  /**
   * Resolves when the broker's next PINGRESP (`d0 00`) has been passed on: freezing then
   * leaves the client a whole keepalive and a half to notice, the longest it can take.
   */
  nextPingResponse(): Promise<void> {
    return new Promise((resolve) => this.pingWaiters.push(resolve));
  }

  freeze(): void {
    this.frozen = true;
    for (const p of this.pairs) {
      p.client.pause();
      p.upstream.pause();
    }
  }

  unfreeze(): void {
    this.frozen = false;
    for (const p of this.pairs) {
      p.client.resume();
      p.upstream.resume();
    }
  }

  /** Closes both ends of every connection carried now (new ones are still accepted). */
  killAll(): void {
    for (const p of [...this.pairs]) {
      p.client.destroy();
      p.upstream.destroy();
      this.pairs.delete(p);
    }
  }

  /** Closes everything and stops listening. */
  async close(): Promise<void> {
    this.killAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Same as close(), so a ProcessRegistry can track the relay. */
  stop(): Promise<void> {
    return this.close();
  }

  private accept(client: Socket): void {
    this.accepted++;
    const upstream = tcpConnect({ host: LOOPBACK, port: this.targetPort });
    upstream.pause();
    const pair: Pair = { client, upstream };
    this.pairs.add(pair);
    const forward = (from: Socket, to: Socket): void => {
      from.on('data', (chunk) => {
        if (!to.destroyed) to.write(chunk);
      });
      // An end that finishes or fails is passed on when the relay reads it, so never while
      // frozen (a paused socket reports neither data nor its end).
      from.on('end', () => to.end());
      from.on('error', () => undefined);
      from.on('close', () => {
        this.pairs.delete(pair);
        to.destroy();
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    upstream.on('data', (chunk: Buffer) => {
      if (chunk.length === 2 && chunk[0] === 0xd0 && chunk[1] === 0) {
        for (const w of this.pingWaiters.splice(0)) w();
      }
    });
    if (!this.frozen) {
      client.resume();
      upstream.resume();
    }
  }
}
