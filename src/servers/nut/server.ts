/**
 * The upsd-compatible NUT server: every UPS of the bridge under its ups id, for upsc,
 * upscmd, upsmon and the NUT integrations of Home Assistant, Synology, Proxmox or TrueNAS
 * (docs/security.md, "NUT server"). Sessions speak protocol.ts; this file owns the sockets
 * (through the shared BoundedListener), the FSD flags and the link to the command router.
 */
import type { Socket } from 'node:net';
import type { CommandRequest, CommandResult, CommandTarget } from '../../commands/router.ts';
import type { Logger } from '../../core/log.ts';
import type { ForcedShutdownNotifier, UpsFeed } from '../../core/ports.ts';
import type { UpsSource } from '../../core/source.ts';
import { BoundedListener, type ListenerStats } from '../listener.ts';
import { nutVariables } from './mapping.ts';
import {
  NUT_PROTOCOL_VERSION,
  type NutBackend,
  type NutInstcmdOutcome,
  NutSession,
  type NutUpsView,
  type NutUser,
} from './protocol.ts';

export interface NutServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  users: readonly NutUser[];
  /** ups2mqtt's version, for VER and `server.version`. */
  version: string;
  /** Clients at once (default 32). */
  maxClients?: number;
  /** upsd sheds a client silent for 60 s; so does this server (default 60 000). */
  idleTimeoutMs?: number;
  /** A request line longer than this gets `ERR TOO-LONG` and the connection closes (default 512 bytes). */
  maxLineBytes?: number;
  /** Reply bytes a client may leave unread before it is cut off (default 256 KiB). */
  maxPendingWriteBytes?: number;
}

/** What the server needs of the command framework (CommandRouter satisfies it). */
export interface NutCommandRouter {
  enabledCommands(source: UpsSource): string[];
  execute(target: CommandTarget, req: CommandRequest): Promise<CommandResult>;
}

export interface NutServerDeps {
  /** The UPSes served, in configuration order (BridgeApp.bridges). */
  feeds: () => readonly UpsFeed[];
  commands: NutCommandRouter;
  /** The command router's view of a UPS (BridgeApp.commandTarget). */
  commandTarget: (upsId: string) => CommandTarget | undefined;
  logger: Logger;
}

/** Request lines waiting for an answer before the connection is paused (flow control). */
const MAX_QUEUED_LINES = 64;

/**
 * How long a finished connection (LOGOUT, or a line over the bound) keeps reading and
 * dropping what the client still sends before it is closed. Closing a socket with unread
 * input makes the kernel send a reset, and a reset can discard the last replies before the
 * client has read them (a lingering close, as web servers do).
 */
const LINGER_MS = 1000;

/** The NUT server; start() binds, stop() closes every connection. */
export class NutServer implements ForcedShutdownNotifier {
  private listener: BoundedListener | undefined;
  private readonly sessions = new Set<NutSession>();
  private readonly fsd = new Set<string>();
  private boundPort = 0;
  private sharedBackend: NutBackend | undefined;

  constructor(
    private readonly opts: NutServerOptions,
    private readonly deps: NutServerDeps,
  ) {}

  /** Binds; resolves with the bound port. Rejects when the address cannot be bound. */
  async start(): Promise<number> {
    const listener = new BoundedListener(
      {
        name: 'nut',
        host: this.opts.host,
        port: this.opts.port,
        maxClients: this.opts.maxClients ?? 32,
        idleTimeoutMs: this.opts.idleTimeoutMs ?? 60_000,
        maxPendingWriteBytes: this.opts.maxPendingWriteBytes ?? 256 * 1024,
      },
      (socket) => this.serve(socket),
      this.deps.logger,
    );
    this.listener = listener;
    this.boundPort = await listener.start();
    return this.boundPort;
  }

  async stop(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    this.sessions.clear();
    await listener?.stop();
  }

  /** The bound port (0 before start). */
  get port(): number {
    return this.boundPort;
  }

  /** Connection and request counters for /metrics. */
  get stats(): Readonly<ListenerStats> {
    return this.listener?.stats ?? { connections: 0, rejected: 0, requests: 0, active: 0 };
  }

  /** ForcedShutdownNotifier: raises or clears FSD in this UPS's `ups.status`. */
  setForcedShutdown(upsId: string, on: boolean): void {
    if (on === this.fsd.has(upsId)) return;
    if (on) this.fsd.add(upsId);
    else this.fsd.delete(upsId);
    this.deps.logger.warn(
      { ups: upsId, fsd: on },
      on ? 'NUT forced shutdown (FSD) set' : 'NUT forced shutdown (FSD) cleared',
    );
  }

  /** ForcedShutdownNotifier: upsmon secondaries logged in to this UPS now. */
  secondaryLogins(upsId: string): number {
    let n = 0;
    for (const s of this.sessions) {
      if (s.loginUps === upsId && s.loginUser?.upsmon === 'secondary') n++;
    }
    return n;
  }

  /** Whether FSD is set for this UPS. */
  forcedShutdown(upsId: string): boolean {
    return this.fsd.has(upsId);
  }

  /** The session's view of the bridge (one for all sessions). */
  private backend(): NutBackend {
    const logins = (ups: NutUpsView): NutSession[] =>
      [...this.sessions].filter((s) => s.loginUps === ups.name);
    return {
      findUps: (name) => {
        const lower = name.toLowerCase();
        const feed = this.deps.feeds().find((f) => f.id?.toLowerCase() === lower);
        return feed ? this.view(feed) : undefined;
      },
      listUps: () => this.deps.feeds().flatMap((f) => (f.id === undefined ? [] : [this.view(f)])),
      findUser: (name) => this.opts.users.find((u) => u.name === name),
      instcmd: (ups, command, user) => this.instcmd(ups, command, user),
      setFsd: (ups, user) => {
        this.deps.logger.warn({ ups: ups.name, user: user.name }, 'FSD set by a NUT primary');
        this.setForcedShutdown(ups.name, true);
      },
      numLogins: (ups) => logins(ups).length,
      loginClients: (ups) => logins(ups).map((s) => s.address),
      serverInfo: `ups2mqtt ${this.opts.version} - NUT upsd network protocol ${NUT_PROTOCOL_VERSION}`,
      serverVersion: this.opts.version,
    };
  }

  private view(feed: UpsFeed): NutUpsView {
    const name = feed.id as string;
    return {
      name,
      description: feed.name,
      variables: () => {
        const state = feed.state;
        // An unavailable UPS is served as upsd serves a stale driver: no old values.
        if (feed.currentAvailability !== 'online' || !state || state.comm_lost) return undefined;
        return nutVariables(state, this.fsd.has(name));
      },
      commands: () => {
        const target = this.deps.commandTarget(name);
        return target ? this.deps.commands.enabledCommands(target.source) : [];
      },
    };
  }

  private async instcmd(
    ups: NutUpsView,
    command: string,
    user: NutUser,
  ): Promise<NutInstcmdOutcome> {
    const target = this.deps.commandTarget(ups.name);
    if (!target) return 'failed';
    this.deps.logger.info({ ups: ups.name, user: user.name, command }, 'NUT instant command');
    const result = await this.deps.commands.execute(target, { name: command, origin: 'nut' });
    if (result.status === 'ok') return 'ok';
    return result.code === 'unsupported' ? 'unsupported' : 'failed';
  }

  private serve(socket: Socket): void {
    const listener = this.listener;
    if (!listener) {
      socket.destroy();
      return;
    }
    const address = socket.remoteAddress ?? '?';
    this.sharedBackend ??= this.backend();
    const session = new NutSession(this.sharedBackend, address);
    this.sessions.add(session);
    const maxLine = this.opts.maxLineBytes ?? 512;
    let buffered: Buffer = Buffer.alloc(0);
    let queued = 0;
    let loggedIn = false;
    /** Set by LOGOUT or the answer to a line over the bound: nothing more is answered. */
    let finished = false;
    /** Cleared at a line over the bound: what follows it is not read. */
    let reading = true;
    let chain: Promise<void> = Promise.resolve();
    const log = this.deps.logger;

    /** Sends the last reply, closes our side, and drops what still comes for a while. */
    const finish = (text: string): void => {
      finished = true;
      buffered = Buffer.alloc(0);
      if (!listener.send(socket, text)) return;
      socket.end();
      socket.resume();
      const linger = setTimeout(() => socket.destroy(), LINGER_MS);
      linger.unref();
      socket.once('close', () => clearTimeout(linger));
    };

    const answer = async (text: string): Promise<void> => {
      if (socket.destroyed || finished) return;
      listener.countRequest();
      let reply: Awaited<ReturnType<NutSession['handle']>>;
      try {
        reply = await session.handle(text);
      } catch (error) {
        log.error({ err: error, server: 'nut' }, 'NUT request failed');
        reply = { text: 'ERR INSTCMD-FAILED\n' };
      }
      if (reply.close) finish(reply.text);
      else if (!listener.send(socket, reply.text)) return;
      if (session.loginUps !== undefined && !loggedIn) {
        loggedIn = true;
        log.info(
          { ups: session.loginUps, user: session.username, client: address },
          'NUT client logged in',
        );
      }
    };

    // Lines are answered in order, one at a time (INSTCMD waits for the UPS). Past
    // MAX_QUEUED_LINES waiting lines the socket is paused until they are answered: TCP flow
    // control then holds the client back, and what it sent stays bounded by one read chunk.
    const pump = (): void => {
      while (queued < MAX_QUEUED_LINES && !socket.destroyed) {
        const nl = buffered.indexOf(0x0a);
        if (nl < 0 || nl > maxLine) break;
        let lineBytes = buffered.subarray(0, nl);
        buffered = buffered.subarray(nl + 1);
        if (lineBytes.at(-1) === 0x0d) lineBytes = lineBytes.subarray(0, -1);
        const text = lineBytes.toString('latin1');
        queued++;
        chain = chain.then(async () => {
          await answer(text);
          queued--;
          // Answers resolve as microtasks, which starve I/O: read the next batch only after
          // the event loop had a turn, so one busy client cannot hold up the others.
          if (queued === 0 && socket.isPaused() && !socket.destroyed && reading && !finished)
            setImmediate(() => {
              if (socket.destroyed) return;
              socket.resume();
              pump();
            });
        });
      }
      const nl = buffered.indexOf(0x0a);
      if (nl > maxLine || (nl < 0 && buffered.length > maxLine)) {
        reading = false;
        buffered = Buffer.alloc(0);
        socket.pause();
        log.warn(
          { server: 'nut', client: address, max_line_bytes: maxLine },
          'NUT request line too long: connection closed',
        );
        // The lines before it are answered first; then the client learns why it is cut off.
        chain = chain.then(() => {
          if (!socket.destroyed && !finished) finish('ERR TOO-LONG\n');
        });
        return;
      }
      if (queued >= MAX_QUEUED_LINES) socket.pause();
    };
    socket.on('data', (chunk: Buffer) => {
      if (!reading || finished) return;
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      pump();
    });
    socket.on('close', () => {
      this.sessions.delete(session);
      if (session.loginUps !== undefined)
        log.info(
          { ups: session.loginUps, user: session.username, client: address },
          'NUT client logged out',
        );
    });
  }
}
