/**
 * Driver side of the fake-NIS fleet: forks `fleet-main.ts` and talks to it over IPC.
 * Construct, `start()`, use, `stop()`; the child is stopped by its PID only.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { Ups2MqttError } from '../../src/core/errors.ts';
import { ManagedProcess, type Stoppable } from '../../test/helpers/process.ts';
import {
  type FleetCounts,
  type FleetReply,
  type FleetRequest,
  isFleetReply,
} from './fleet-protocol.ts';
import { REPO_ROOT } from './results.ts';

type Pending = { resolve: (reply: FleetReply) => void; reject: (err: Error) => void };
/** A request without its id (the client numbers them); distributes over the union. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type FleetCall = WithoutId<FleetRequest>;

/** Options of {@link FakeFleet}. */
export interface FakeFleetOptions {
  count: number;
  /** Stamp LINEV with the reply time (values then change every poll). */
  stampLineV: boolean;
  /** With `stampLineV`: stamp every Nth status reply only (default 1). */
  stampEvery?: number;
  /**
   * Re-stamp DATE and END APC on every reply (default true, like a busy apcupsd). DATE maps to
   * `sampled_at`, which the bridge publishes, so with it every poll publishes.
   */
  liveTimestamps?: boolean;
  /** Bound on every IPC round trip; default 60 s (starting 1,000 servers takes a moment). */
  timeoutMs?: number;
}

/** N fake NIS servers in their own process. */
export class FakeFleet implements Stoppable {
  private proc: ManagedProcess | undefined;
  /** Kept for its IPC channel; signals go through {@link ManagedProcess} only. */
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private serverPorts: readonly number[] = [];

  constructor(private readonly options: FakeFleetOptions) {}

  /** The fleet process (after `start()`), e.g. for its CPU time. */
  get process(): ManagedProcess | undefined {
    return this.proc;
  }

  get ports(): readonly number[] {
    return this.serverPorts;
  }

  /** Forks the fleet and starts the servers; resolves with their ports. */
  async start(): Promise<readonly number[]> {
    const child = fork(join(REPO_ROOT, 'bench', 'lib', 'fleet-main.ts'), [], {
      cwd: REPO_ROOT,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    if (child.pid === undefined) throw new Ups2MqttError('CONNECT_FAILED', 'fleet has no pid');
    this.child = child;
    this.proc = new ManagedProcess('nis-fleet', child.pid, child, 16 * 1024);
    child.on('message', (message: unknown) => {
      if (!isFleetReply(message)) return;
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      waiter?.resolve(message);
    });
    void this.proc.exited.then(() => {
      for (const waiter of this.pending.values()) {
        waiter.reject(new Ups2MqttError('PEER_CLOSED', 'fleet process exited'));
      }
      this.pending.clear();
    });
    const reply = await this.call({
      type: 'start',
      count: this.options.count,
      stampLineV: this.options.stampLineV,
      liveTimestamps: this.options.liveTimestamps ?? true,
      stampEvery: this.options.stampEvery ?? 1,
    });
    if (reply.type !== 'started') throw this.unexpected(reply);
    this.serverPorts = reply.ports;
    return reply.ports;
  }

  /** Requests served so far, summed over the servers. */
  async counts(): Promise<FleetCounts> {
    const reply = await this.call({ type: 'counts' });
    if (reply.type !== 'counts') throw this.unexpected(reply);
    return reply.counts;
  }

  /** Stops the servers, then the process (by its PID). Idempotent. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc === undefined) return;
    if (proc.running()) await this.call({ type: 'stop' }).catch(() => undefined);
    this.proc = undefined;
    this.child = undefined;
    await proc.stop();
  }

  private call(request: FleetCall): Promise<FleetReply> {
    const proc = this.proc;
    if (proc === undefined || !proc.running()) {
      return Promise.reject(new Ups2MqttError('ABORTED', 'fleet not running'));
    }
    const id = this.nextId++;
    const timeoutMs = this.options.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Ups2MqttError('READ_TIMEOUT', `fleet did not answer ${request.type}`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      this.child?.send({ ...request, id } as FleetRequest);
    });
  }

  private unexpected(reply: FleetReply): Error {
    const detail = reply.type === 'error' ? reply.message : reply.type;
    return new Ups2MqttError('PROTOCOL_ERROR', `fleet answered ${detail}`);
  }
}
