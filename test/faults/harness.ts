/**
 * The fault campaign's bridge: the real CLI (`src/cli/main.ts run`) as a child process with
 * a probe preloaded (probe.ts), so a test can count what the process holds before and after
 * a fault: open file descriptors and sockets from /proc/<pid>/fd, live timers and other
 * event-loop handles, and the heap after a full GC.
 *
 * Typical use:
 *
 *     const bridge = await BridgeUnderTest.start(registry, 'bridge', { UPS2MQTT_SOURCE: ... });
 *     const baseline = await bridge.settledSnapshot();
 *     ... fault, recovery ...
 *     assert.deepEqual(resourceGrowth(baseline, await bridge.settledSnapshot()), []);
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ups2MqttError } from '../../src/core/errors.ts';
import { freshDataDir } from '../helpers/data-dir.ts';
import type { ManagedProcess, ProcessRegistry } from '../helpers/process.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const PROBE = fileURLToPath(new URL('./probe.ts', import.meta.url));

/** What the bridge process holds at one moment. */
export interface ResourceSnapshot {
  /** Entries of /proc/<pid>/fd. */
  readonly fds: number;
  /** Of those, sockets (`socket:[inode]`). */
  readonly sockets: number;
  /** Live timers (`Timeout` among the active resources). */
  readonly timers: number;
  /** Every active resource by kind, e.g. `{ Timeout: 4, TCPSocketWrap: 2 }`. */
  readonly handles: Readonly<Record<string, number>>;
  /** V8 heap in use after two full GCs, bytes. */
  readonly heapUsed: number;
  readonly rss: number;
}

/** Allowed growth over a baseline in {@link resourceGrowth}. */
export interface GrowthAllowance {
  /** Extra descriptors allowed (default 0). */
  readonly fds?: number;
  /** Extra sockets allowed (default 0). */
  readonly sockets?: number;
  /** Extra timers allowed (default 0). */
  readonly timers?: number;
  /**
   * Extra heap bytes allowed (default 3 MiB): after a GC the heap still differs by what is
   * in flight (a reply being parsed, a buffered log line, V8's own caches); a leak of one
   * object per poll or per fault grows past it over a campaign.
   */
  readonly heapBytes?: number;
}

/**
 * Environment every bridge under test starts from: no inherited UPS2MQTT_* settings, its
 * own data folder, JSON logs at debug (kept in the output ring for failure messages), fast
 * MQTT reconnects, the status page off. `overrides` add or replace variables.
 */
export function bridgeEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    UPS2MQTT_DATA_DIR: freshDataDir(),
    UPS2MQTT_LOG_FORMAT: 'json',
    UPS2MQTT_LOG_LEVEL: 'debug',
    UPS2MQTT_MQTT_RECONNECT_PERIOD: '0.5',
    UPS2MQTT_HTTP_ENABLED: 'false',
    ...overrides,
  };
}

/** The bridge CLI with the probe preloaded. */
export class BridgeUnderTest {
  private nextId = 1;

  private constructor(readonly process: ManagedProcess) {}

  /**
   * Spawns `ups2mqtt run` with {@link bridgeEnv}(`env`) under `registry`; `ringChars` is how
   * much of stdout and of stderr is kept (default 256 KiB; more to scan a whole run's logs);
   * `preload` adds test modules imported before the CLI (after the probe), e.g. a fault
   * injector that answers its own IPC messages (hid-fault-preload.ts).
   */
  static async start(
    registry: ProcessRegistry,
    name: string,
    env: Record<string, string>,
    args: readonly string[] = [],
    options: { ringChars?: number; preload?: readonly string[] } = {},
  ): Promise<BridgeUnderTest> {
    const preloads = [PROBE, ...(options.preload ?? [])].flatMap((p) => ['--import', p]);
    const child = await registry.spawn(
      name,
      globalThis.process.execPath,
      ['--expose-gc', '--import', 'tsx', ...preloads, MAIN, 'run', ...args],
      { env: bridgeEnv(env), ipc: true, ringChars: options.ringChars ?? 256 * 1024 },
    );
    return new BridgeUnderTest(child);
  }

  get pid(): number {
    return this.process.pid;
  }

  /** One snapshot of what the process holds now. */
  async snapshot(timeoutMs = 5000): Promise<ResourceSnapshot> {
    const reply = await this.ask(timeoutMs);
    const { fds, sockets } = countDescriptors(this.process.pid);
    const handles: Record<string, number> = {};
    for (const kind of reply.resources) handles[kind] = (handles[kind] ?? 0) + 1;
    return {
      fds,
      sockets,
      timers: handles.Timeout ?? 0,
      handles,
      heapUsed: reply.heapUsed,
      rss: reply.rss,
    };
  }

  /**
   * The smallest of `samples` snapshots taken `gapMs` apart (field by field): a poll or a
   * publish in flight at one instant holds a socket, a timer or some heap for a moment; the
   * minimum is what the process keeps.
   */
  async settledSnapshot(samples = 3, gapMs = 150): Promise<ResourceSnapshot> {
    let low = await this.snapshot();
    for (let i = 1; i < samples; i++) {
      await new Promise((resolve) => setTimeout(resolve, gapMs));
      const next = await this.snapshot();
      low = {
        fds: Math.min(low.fds, next.fds),
        sockets: Math.min(low.sockets, next.sockets),
        timers: Math.min(low.timers, next.timers),
        handles: low.fds <= next.fds ? low.handles : next.handles,
        heapUsed: Math.min(low.heapUsed, next.heapUsed),
        rss: Math.min(low.rss, next.rss),
      };
    }
    return low;
  }

  private ask(timeoutMs: number): Promise<ProbeReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(
          new Ups2MqttError('READ_TIMEOUT', `probe of ${this.process.name} did not answer`, {
            context: { output: this.process.output() },
          }),
        );
      }, timeoutMs);
      const off = this.process.onMessage((message) => {
        if (!isReply(message) || message.id !== id) return;
        clearTimeout(timer);
        off();
        if (!message.gcAvailable) {
          reject(new Ups2MqttError('CONFIG_INVALID', 'bridge started without --expose-gc'));
          return;
        }
        resolve(message);
      });
      if (!this.process.send({ type: 'ups2mqtt-probe', id })) {
        clearTimeout(timer);
        off();
        reject(new Ups2MqttError('CONNECT_FAILED', `${this.process.name} is not running`));
      }
    });
  }
}

interface ProbeReply {
  readonly type: 'ups2mqtt-probe-reply';
  readonly id: number;
  readonly gcAvailable: boolean;
  readonly heapUsed: number;
  readonly rss: number;
  readonly resources: readonly string[];
}

function isReply(message: unknown): message is ProbeReply {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'ups2mqtt-probe-reply'
  );
}

/** Open descriptors of `pid` and how many of them are sockets, from /proc/<pid>/fd. */
export function countDescriptors(pid: number): { fds: number; sockets: number } {
  const dir = `/proc/${pid}/fd`;
  let fds = 0;
  let sockets = 0;
  for (const name of readdirSync(dir)) {
    let target: string;
    try {
      target = readlinkSync(`${dir}/${name}`);
    } catch {
      continue; // closed between the listing and the readlink
    }
    fds++;
    if (target.startsWith('socket:')) sockets++;
  }
  return { fds, sockets };
}

/**
 * What grew past the allowance between `baseline` and `now`, one line each (empty when
 * nothing did): the form a test asserts with `deepEqual(..., [])`, so a failure names the
 * resource and both figures.
 */
export function resourceGrowth(
  baseline: ResourceSnapshot,
  now: ResourceSnapshot,
  allow: GrowthAllowance = {},
): string[] {
  const problems: string[] = [];
  const check = (what: string, before: number, after: number, slack: number): void => {
    if (after > before + slack) problems.push(`${what}: ${before} -> ${after} (allowed +${slack})`);
  };
  check('file descriptors', baseline.fds, now.fds, allow.fds ?? 0);
  check('sockets', baseline.sockets, now.sockets, allow.sockets ?? 0);
  check('timers', baseline.timers, now.timers, allow.timers ?? 0);
  check('heap bytes after GC', baseline.heapUsed, now.heapUsed, allow.heapBytes ?? 3 * 1024 * 1024);
  if (problems.length > 0) {
    problems.push(
      `handles then ${JSON.stringify(baseline.handles)}, now ${JSON.stringify(now.handles)}`,
    );
  }
  return problems;
}
