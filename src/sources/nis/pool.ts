import type { Clock } from '../../core/clock.ts';
import type { NisSocket } from './client.ts';
import { listenOn, type NisLinkSink } from './link.ts';

/** Options of {@link NisConnectionPool}. */
export interface NisConnectionPoolOptions {
  clock: Clock;
  /**
   * A connection is reused only when its last reply ended at least this long ago (default
   * 50 ms). A request sent sooner after a reply puts Linux's receiver into "ping-pong" mode:
   * it delays its ACK for the next reply, apcupsd's Nagle holds the rest of that reply back
   * for it, and the reply takes ~42 ms instead of ~0.5 ms (measured against apcupsd 3.14.14
   * for gaps of 5–30 ms; 40 ms and more were fast). A fresh connection has no such stall.
   */
  minGapMs?: number;
  /**
   * A connection idle longer than this is closed instead of reused (default 10 s), well
   * before apcupsd drops it at 15 s idle (docs/protocols/nis.md#connections-and-timeouts).
   */
  maxIdleMs?: number;
}

const DEFAULT_MIN_GAP_MS = 50;
const DEFAULT_MAX_IDLE_MS = 10_000;

type Refable = { ref?: () => unknown; unref?: () => unknown };

/**
 * Keeps at most one idle NIS connection of one endpoint for the next request. It saves the
 * TCP connect and close of every poll, the largest share of the bridge's CPU at many UPSes
 * (docs/benchmarks.md). An idle connection that the server closes, resets, or writes to
 * (nothing is owed) is dropped at once; one idle too long or too briefly is not handed out
 * (see the options). Idle connections do not keep the process alive.
 */
export class NisConnectionPool {
  private readonly clock: Clock;
  private readonly minGapMs: number;
  private readonly maxIdleMs: number;
  private idle: { socket: NisSocket; since: number } | undefined;
  /** Anything on an idle connection (bytes nobody asked for, end, close, error) drops it. */
  private readonly idleSink: NisLinkSink = {
    data: () => this.drop(),
    gone: () => this.drop(),
    error: () => this.drop(),
  };

  constructor(options: NisConnectionPoolOptions) {
    this.clock = options.clock;
    this.minGapMs = options.minGapMs ?? DEFAULT_MIN_GAP_MS;
    this.maxIdleMs = options.maxIdleMs ?? DEFAULT_MAX_IDLE_MS;
  }

  /** The idle connection when it may carry a request now; undefined means "open a fresh one". */
  take(): NisSocket | undefined {
    const idle = this.idle;
    if (idle === undefined) return undefined;
    const age = this.clock.now() - idle.since;
    if (idle.socket.destroyed || age > this.maxIdleMs) {
      this.drop();
      return undefined;
    }
    // Too soon after the last reply: this request goes on a fresh connection and the idle
    // one stays for the next poll.
    if (age < this.minGapMs) return undefined;
    this.idle = undefined;
    listenOn(idle.socket, undefined);
    (idle.socket as Refable).ref?.();
    return idle.socket;
  }

  /**
   * Takes back a connection whose reply ended cleanly. It is kept when no other connection is
   * idle, else destroyed. The caller must have stopped listening (listenOn with no sink).
   */
  keep(socket: NisSocket): void {
    if (this.idle !== undefined || socket.destroyed) {
      socket.destroy();
      return;
    }
    listenOn(socket, this.idleSink);
    (socket as Refable).unref?.();
    this.idle = { socket, since: this.clock.now() };
  }

  /** Whether a connection is idle (for tests and diagnostics). */
  hasIdle(): boolean {
    return this.idle !== undefined;
  }

  /** Closes the idle connection, if any. */
  drop(): void {
    const idle = this.idle;
    this.idle = undefined;
    if (idle === undefined) return;
    // Its permanent listeners now drop everything, a late 'error' after destroy() included.
    listenOn(idle.socket, undefined);
    idle.socket.destroy();
  }
}
