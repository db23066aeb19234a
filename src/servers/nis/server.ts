/**
 * An apcupsd-compatible NIS server for one UPS (apcupsd serves one UPS per port), so that
 * apcaccess, Home Assistant's apcupsd integration, NAS boxes and apcupsd slaves keep
 * working when ups2mqtt owns the UPS (docs/nis-server.md, docs/security.md "NIS server").
 * It reads the UPS through its UpsFeed only; the TCP bounds are BoundedListener's.
 */
import type { Socket } from 'node:net';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import type { Availability, ProtocolServerStats, UpsFeed } from '../../core/ports.ts';
import type { UpsState } from '../../core/state.ts';
import { isoWithOffset } from '../../core/time.ts';
import { BoundedListener } from '../listener.ts';
import { formatNisEventLine, formatNisStatus } from './format.ts';
import {
  encodeNisReply,
  NIS_INVALID_COMMAND_REPLY,
  NisRequestDecoder,
  nisCommandOf,
} from './protocol.ts';

/** Limits and address of one NIS server. */
export interface NisServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Clients served at once (default 32). */
  maxClients?: number;
  /** Silent clients are closed after this long (default 15 s, as apcupsd does). */
  idleTimeoutMs?: number;
  /** Unread reply bytes a client may leave before it is cut off (default 64 KiB). */
  maxPendingWriteBytes?: number;
  /** Event-log lines kept for `events` (default 50, as apcupsd sends). */
  maxEvents?: number;
}

/** What the server needs besides the UPS. */
export interface NisServerDeps {
  feed: UpsFeed;
  clock: Clock;
  logger: Logger;
  /** HOSTNAME in replies. */
  hostname: string;
  /** VERSION in replies (see {@link nisVersionText}). */
  version: string;
}

/** VERSION: the apcupsd release whose format is spoken, and who really answers. */
export function nisVersionText(ups2mqttVersion: string, platform: string): string {
  return `3.14.14 (ups2mqtt ${ups2mqttVersion}) ${platform}`;
}

/** The limits used when {@link NisServerOptions} leaves them out (docs/nis-server.md "Limits"). */
export const NIS_SERVER_DEFAULTS = {
  maxClients: 32,
  idleTimeoutMs: 15_000,
  maxPendingWriteBytes: 64 * 1024,
  maxEvents: 50,
} as const;

/** One UPS served over NIS. start() binds, stop() closes the port and every client. */
export class NisServer {
  private readonly listener: BoundedListener;
  private readonly events: string[] = [];
  private readonly maxEvents: number;
  private unsubscribe: (() => void)[] = [];
  private startedAt = '';
  private lastReadingAt: string | undefined;
  private boundPort = 0;
  private cache:
    | {
        second: number;
        state: UpsState | undefined;
        availability: Availability | undefined;
        reply: Buffer;
      }
    | undefined;

  constructor(
    opts: NisServerOptions,
    private readonly deps: NisServerDeps,
  ) {
    this.maxEvents = opts.maxEvents ?? NIS_SERVER_DEFAULTS.maxEvents;
    this.listener = new BoundedListener(
      {
        name: 'nis',
        host: opts.host,
        port: opts.port,
        maxClients: opts.maxClients ?? NIS_SERVER_DEFAULTS.maxClients,
        idleTimeoutMs: opts.idleTimeoutMs ?? NIS_SERVER_DEFAULTS.idleTimeoutMs,
        maxPendingWriteBytes: opts.maxPendingWriteBytes ?? NIS_SERVER_DEFAULTS.maxPendingWriteBytes,
      },
      (socket) => this.serve(socket),
      deps.logger,
    );
  }

  /** Connection and request counters (for /metrics). */
  get stats(): Readonly<ProtocolServerStats> {
    return this.listener.stats;
  }

  /** The bound port (after start()). */
  get port(): number {
    return this.boundPort;
  }

  /** Binds. Rejects when the address cannot be bound (port taken, address not local). */
  async start(): Promise<number> {
    const { feed } = this.deps;
    this.startedAt = isoWithOffset(new Date(this.deps.clock.now()));
    this.noteReading();
    this.unsubscribe = [
      feed.onChange(() => this.noteReading()),
      feed.onEvent((event) => {
        const line = formatNisEventLine(event);
        if (line === undefined) return;
        this.events.push(line);
        if (this.events.length > this.maxEvents) this.events.shift();
      }),
    ];
    try {
      this.boundPort = await this.listener.start();
    } catch (err) {
      this.dropSubscriptions();
      throw err;
    }
    return this.boundPort;
  }

  async stop(): Promise<void> {
    this.dropSubscriptions();
    await this.listener.stop();
  }

  /** The `status` reply's lines for the UPS as it is now. */
  statusLines(): string[] {
    const { feed } = this.deps;
    const now = isoWithOffset(new Date(this.deps.clock.now()));
    const available = feed.currentAvailability === 'online';
    this.noteReading();
    return formatNisStatus({
      state: feed.state,
      available,
      upsName: feed.id,
      hostname: this.deps.hostname,
      version: this.deps.version,
      startedAt: this.startedAt || now,
      // DATE freezes at the last good reading while the UPS cannot be read (as apcupsd's).
      readingAt: this.lastReadingAt ?? feed.state?.updated_at ?? now,
      now,
    });
  }

  /**
   * The framed `status` reply. Built once per state and second (END APC has whole seconds),
   * so a client that floods requests costs a copy per reply, not a formatting.
   */
  private statusReply(): Buffer {
    const { feed } = this.deps;
    const second = Math.floor(this.deps.clock.now() / 1000);
    const c = this.cache;
    if (
      c &&
      c.second === second &&
      c.state === feed.state &&
      c.availability === feed.currentAvailability
    ) {
      return c.reply;
    }
    const reply = encodeNisReply(this.statusLines());
    this.cache = { second, state: feed.state, availability: feed.currentAvailability, reply };
    return reply;
  }

  /** The `events` reply's lines, oldest first. */
  eventLines(): readonly string[] {
    return this.events;
  }

  /** Remembers when the UPS was last read well: DATE in replies. */
  private noteReading(): void {
    const { feed } = this.deps;
    const s = feed.state;
    if (feed.currentAvailability === 'online' && s && s.comm_lost !== true) {
      // A daemon's own poll time (NIS source) is the reading's real age.
      this.lastReadingAt = s.sampled_at ?? s.updated_at;
    }
  }

  private dropSubscriptions(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  private serve(socket: Socket): void {
    const decoder = new NisRequestDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const request of decoder.push(chunk)) {
        if (request.kind === 'close') {
          this.deps.logger.debug(
            { server: 'nis', client: socket.remoteAddress },
            'NIS request of length 0 or over 256 bytes: connection closed (as apcupsd does)',
          );
          socket.destroy();
          return;
        }
        if (!this.answer(socket, request.payload)) return;
      }
    });
  }

  /** Answers one request; false when the client is gone (the rest of its chunk is dropped). */
  private answer(socket: Socket, payload: Buffer): boolean {
    this.listener.countRequest();
    const command = nisCommandOf(payload);
    if (command === 'status') return this.listener.send(socket, this.statusReply());
    if (command === 'events') return this.listener.send(socket, encodeNisReply(this.events));
    return this.listener.send(socket, NIS_INVALID_COMMAND_REPLY);
  }
}
