/**
 * Child processes for integration tests: spawn, remember the PID, keep the last output for
 * failure messages, stop by PID (SIGTERM, then SIGKILL after a grace period).
 *
 * Only PIDs this module spawned are ever signalled, and only while Node has not yet reaped
 * them: Node emits `exit` after waitpid(), so before that event the PID cannot have been
 * reused by another process, and after it we never signal again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Ups2MqttError } from '../../src/core/errors.ts';

/** How a process ended. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Anything a test's `after()` must stop. */
export interface Stoppable {
  stop(): Promise<unknown>;
}

/** Keeps only the last `capacity` characters of a stream. */
export class OutputRing {
  private text = '';
  private dropped = 0;

  constructor(private readonly capacity: number) {}

  append(chunk: string): void {
    const joined = this.text + chunk;
    const excess = joined.length - this.capacity;
    if (excess > 0) this.dropped += excess;
    this.text = excess > 0 ? joined.slice(excess) : joined;
  }

  /** The retained text, prefixed by a marker when older output was dropped. */
  toString(): string {
    return this.dropped > 0 ? `[... ${this.dropped} chars dropped]\n${this.text}` : this.text;
  }
}

/** Options of {@link spawnManaged}. */
export interface SpawnManagedOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Characters of stdout and of stderr kept for failure messages; default 64 KiB each. */
  ringChars?: number;
  /** Open a Node IPC channel to the child (for a preloaded probe, see test/faults/). */
  ipc?: boolean;
}

/** Default grace between SIGTERM and SIGKILL in {@link ManagedProcess.stop}. */
export const DEFAULT_STOP_GRACE_MS = 3000;

/** A spawned child with a known PID. Build it with {@link spawnManaged}. */
export class ManagedProcess implements Stoppable {
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  private exit: ExitInfo | undefined;
  private readonly stdout: OutputRing;
  private readonly stderr: OutputRing;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly name: string,
    readonly pid: number,
    private readonly child: ChildProcess,
    ringChars: number,
  ) {
    this.stdout = new OutputRing(ringChars);
    this.stderr = new OutputRing(ringChars);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => this.onData(this.stdout, d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => this.onData(this.stderr, d));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  /** Undefined while running. */
  exitInfo(): ExitInfo | undefined {
    return this.exit;
  }

  running(): boolean {
    return this.exit === undefined;
  }

  /** Last stdout and stderr, for assertion messages. */
  output(): string {
    const status =
      this.exit === undefined
        ? 'running'
        : `exited code=${this.exit.code} signal=${this.exit.signal}`;
    return `${this.name} pid ${this.pid} (${status})\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`;
  }

  /** Sends `message` over the IPC channel (spawned with `ipc: true`); false when closed. */
  send(message: unknown): boolean {
    if (this.exit !== undefined || !this.child.connected) return false;
    return this.child.send(message as object);
  }

  /** Calls `listener` for every IPC message from the child; returns an unsubscribe. */
  onMessage(listener: (message: unknown) => void): () => void {
    this.child.on('message', listener);
    return () => this.child.off('message', listener);
  }

  /** Sends `signal` to this PID if it is still running; returns whether it was sent. */
  kill(signal: NodeJS.Signals): boolean {
    if (this.exit !== undefined) return false;
    return this.child.kill(signal);
  }

  /**
   * SIGTERM, then SIGKILL if still running after `graceMs`; resolves with the exit. Rejects
   * with `READ_TIMEOUT` if even SIGKILL does not end it within 5 s (a stuck zombie).
   */
  async stop(graceMs = DEFAULT_STOP_GRACE_MS): Promise<ExitInfo> {
    if (this.exit !== undefined) return this.exit;
    this.kill('SIGTERM');
    if (await this.exitsWithin(graceMs)) return this.exited;
    this.kill('SIGKILL');
    if (await this.exitsWithin(5000)) return this.exited;
    throw new Ups2MqttError('READ_TIMEOUT', `${this.name} (pid ${this.pid}) did not exit`, {
      context: { output: this.output() },
    });
  }

  /** Resolves with the combined output once `pattern` matches it (bounded by `timeoutMs`). */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const text = `${this.stdout}\n${this.stderr}`;
        if (!pattern.test(text)) return;
        cleanup();
        resolve(text);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Ups2MqttError('READ_TIMEOUT', `${this.name}: no output matching ${pattern}`, {
            context: { output: this.output() },
          }),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  private onData(ring: OutputRing, chunk: string): void {
    ring.append(chunk);
    for (const listener of [...this.listeners]) listener();
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const result = await Promise.race([this.exited.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }
}

/**
 * Spawns `command` with stdin closed and stdout/stderr captured. Resolves once the OS has
 * started it (so `pid` is known); rejects with `CONNECT_FAILED` when it cannot be started
 * (e.g. ENOENT: the package is not installed; run scripts/ensure-test-deps.sh).
 */
export function spawnManaged(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnManagedOptions = {},
): Promise<ManagedProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    });
    child.once('error', (err) => {
      reject(
        new Ups2MqttError('CONNECT_FAILED', `cannot start ${name} (${command})`, {
          cause: err,
          context: { command, args },
        }),
      );
    });
    child.once('spawn', () => {
      const pid = child.pid;
      if (pid === undefined) {
        reject(new Ups2MqttError('CONNECT_FAILED', `${name} started without a pid`));
        return;
      }
      resolve(new ManagedProcess(name, pid, child, options.ringChars ?? 64 * 1024));
    });
  });
}

/**
 * Everything a test started, so that `after(() => registry.stopAll())` cleans up even when
 * the test failed half-way. Stops in reverse start order (a bridge before its broker).
 * While it holds running processes it also installs a synchronous `exit` hook that SIGKILLs
 * them, so a crashing test file leaves no daemons behind on the CI machine.
 */
export class ProcessRegistry {
  private readonly items: Stoppable[] = [];
  private readonly processes = new Set<ManagedProcess>();
  private readonly onExit = (): void => {
    for (const p of this.processes) p.kill('SIGKILL');
  };

  /** Spawns through {@link spawnManaged} and registers the process. */
  async spawn(
    name: string,
    command: string,
    args: readonly string[],
    options: SpawnManagedOptions = {},
  ): Promise<ManagedProcess> {
    const proc = await spawnManaged(name, command, args, options);
    this.adopt(proc);
    return proc;
  }

  /** Registers an already spawned process (its exit hook included). */
  adopt(proc: ManagedProcess): ManagedProcess {
    if (this.processes.size === 0) process.on('exit', this.onExit);
    this.processes.add(proc);
    void proc.exited.then(() => this.forget(proc));
    return this.track(proc);
  }

  /** Registers anything with a `stop()` (a broker handle, a fake server, an MQTT recorder). */
  track<T extends Stoppable>(item: T): T {
    this.items.push(item);
    return item;
  }

  /**
   * Stops everything registered, newest first, and forgets it. Every item is tried even if
   * one fails; the first failure is rethrown afterwards.
   */
  async stopAll(): Promise<void> {
    const errors: unknown[] = [];
    for (let item = this.items.pop(); item !== undefined; item = this.items.pop()) {
      try {
        await item.stop();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  }

  private forget(proc: ManagedProcess): void {
    this.processes.delete(proc);
    if (this.processes.size === 0) process.off('exit', this.onExit);
    const index = this.items.indexOf(proc);
    if (index >= 0) this.items.splice(index, 1);
  }
}
