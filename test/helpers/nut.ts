/**
 * A real NUT server for integration tests: Debian's `upsd` 2.8.0 and `dummy-ups` driver,
 * unpacked by scripts/ensure-nut.sh (never installed), run from a private folder:
 * NUT_CONFPATH holds ups.conf, upsd.conf (LISTEN on a free 127.0.0.1 port) and upsd.users;
 * NUT_STATEPATH holds the driver sockets. Both run as root in the foreground (`-u root
 * -F`): there is no `nut` user to drop to, and no PID files outside the folder. Processes
 * are stopped by PID only.
 *
 * `dummy-ups` replays a `.dev` file (upsc output) and reads it again when its mtime
 * changes, so a test changes the UPS by rewriting the file (see {@link NutHandle.writeDev}).
 */
import { execFileSync } from 'node:child_process';
import { access, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ups2MqttError } from '../../src/core/errors.ts';
import { freePort, LOOPBACK, pollUntil } from './ports.ts';
import { type ManagedProcess, type ProcessRegistry, spawnManaged } from './process.ts';

const ENSURE = fileURLToPath(new URL('../../scripts/ensure-nut.sh', import.meta.url));

/** One UPS served by the dummy-ups driver. */
export interface NutUpsSpec {
  /** upsd name (ups.conf section). */
  name: string;
  /** Content of its `.dev` file. */
  dev: string;
  desc?: string;
}

/** Users of upsd.users: `admin` may run every instant command, `viewer` none. */
export const NUT_USERS = {
  admin: { user: 'admin', password: 's3cret pass' },
  viewer: { user: 'viewer', password: 'v1ewer-pw' },
} as const;

export interface StartNutOptions {
  upses: readonly NutUpsSpec[];
  registry?: ProcessRegistry;
  /** dummy-ups poll interval in seconds (how soon a rewritten .dev is seen); default 1. */
  driverPollS?: number;
  startTimeoutMs?: number;
}

export interface NutHandle {
  readonly dir: string;
  readonly port: number;
  /** Folder of the unpacked NUT programs. */
  readonly root: string;
  /** Environment for NUT's programs (LD_LIBRARY_PATH, NUT_CONFPATH, NUT_STATEPATH). */
  readonly env: NodeJS.ProcessEnv;
  /** Rewrites a UPS's .dev file (and moves its mtime forward so dummy-ups reads it again). */
  writeDev(name: string, text: string): Promise<void>;
  /** Stops a driver: SIGTERM (then SIGKILL after a grace), or SIGKILL at once. */
  stopDriver(name: string, signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  startDriver(name: string): Promise<void>;
  /** Stops upsd: SIGTERM (then SIGKILL after a grace), or SIGKILL at once. */
  stopUpsd(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  startUpsd(): Promise<void>;
  /** upsd's output so far (stdout + stderr). */
  upsdOutput(): string;
  driverOutput(name: string): string;
  /** One request on a fresh connection; the reply's lines (up to END LIST for lists). */
  ask(request: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** The folder of NUT's programs (unpacks them on first use). */
export function nutRoot(): string {
  const out = execFileSync('bash', [ENSURE], { encoding: 'utf8' }).trim().split('\n');
  const root = out.at(-1);
  if (!root) throw new Ups2MqttError('CONNECT_FAILED', 'ensure-nut.sh printed no folder');
  return root;
}

export async function startNut(options: StartNutOptions): Promise<NutHandle> {
  // A free port can be taken by another test before upsd binds it ("not listening on ...
  // no listening interface available"): then all of it again on another port, twice at most.
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), 'ups2mqtt-nut-'));
    const handle = new Nut(dir, await freePort(), nutRoot(), options);
    try {
      await handle.prepare();
      // Each driver takes about a second to set up its socket: start them side by side.
      await Promise.all(options.upses.map((u) => handle.startDriver(u.name)));
      await handle.startUpsd();
      options.registry?.track(handle);
      return handle;
    } catch (err) {
      await handle.stop();
      const said = `${String(err)} ${JSON.stringify((err as { context?: unknown }).context ?? {})}`;
      const portTaken = said.includes('no listening interface available');
      if (!portTaken || attempt >= 3) throw err;
    }
  }
}

class Nut implements NutHandle {
  readonly env: NodeJS.ProcessEnv;
  private upsd: ManagedProcess | undefined;
  private readonly drivers = new Map<string, ManagedProcess>();
  private readonly outputs = new Map<string, string>();
  private upsdLog = '';
  private mtime = Math.floor(Date.now() / 1000);

  constructor(
    readonly dir: string,
    readonly port: number,
    readonly root: string,
    private readonly options: StartNutOptions,
  ) {
    this.env = {
      PATH: process.env.PATH,
      LD_LIBRARY_PATH: join(root, 'lib/x86_64-linux-gnu'),
      NUT_CONFPATH: dir,
      NUT_STATEPATH: join(dir, 'state'),
    };
  }

  private devPath(name: string): string {
    return join(this.dir, `${name}.dev`);
  }

  async prepare(): Promise<void> {
    await mkdir(join(this.dir, 'state'), { mode: 0o700 });
    const poll = this.options.driverPollS ?? 1;
    let ups = '';
    for (const u of this.options.upses) {
      await writeFile(this.devPath(u.name), u.dev);
      ups += `[${u.name}]\n  driver = dummy-ups\n  port = ${this.devPath(u.name)}\n  pollinterval = ${poll}\n  desc = "${u.desc ?? u.name}"\n`;
    }
    await writeFile(join(this.dir, 'ups.conf'), ups);
    await writeFile(join(this.dir, 'upsd.conf'), `LISTEN ${LOOPBACK} ${this.port}\nMAXAGE 15\n`);
    const { admin, viewer } = NUT_USERS;
    await writeFile(
      join(this.dir, 'upsd.users'),
      `[${admin.user}]\n  password = "${admin.password}"\n  instcmds = ALL\n[${viewer.user}]\n  password = ${viewer.password}\n`,
      { mode: 0o600 },
    );
  }

  async writeDev(name: string, text: string): Promise<void> {
    await writeFile(this.devPath(name), text);
    // dummy-ups compares mtimes in whole seconds: make sure the new one is later.
    this.mtime = Math.max(this.mtime + 1, Math.floor(Date.now() / 1000));
    await utimes(this.devPath(name), this.mtime, this.mtime);
  }

  async startDriver(name: string): Promise<void> {
    const bin = join(this.root, 'lib/nut/dummy-ups');
    const args = ['-a', name, '-u', 'root', '-F'];
    const proc = this.options.registry
      ? await this.options.registry.spawn(`dummy-ups ${name}`, bin, args, { env: this.env })
      : await spawnManaged(`dummy-ups ${name}`, bin, args, { env: this.env });
    this.drivers.set(name, proc);
    const socket = join(this.dir, 'state', `dummy-ups-${name}`);
    // The socket file appears before the driver accepts on it: connect to be sure, or upsd's
    // first attempt fails and it waits before trying again.
    await pollUntil(
      async () => {
        if (!proc.running()) throw new Error(`dummy-ups exited: ${proc.output()}`);
        await access(socket);
        await new Promise<void>((resolve, reject) => {
          const c = createConnection({ path: socket });
          c.on('connect', () => {
            c.end();
            resolve();
          });
          c.on('error', reject);
        });
        return true;
      },
      this.options.startTimeoutMs ?? 10_000,
      { intervalMs: 50, what: `dummy-ups socket ${socket}` },
    );
  }

  async stopDriver(name: string, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const proc = this.drivers.get(name);
    if (!proc) return;
    this.drivers.delete(name);
    await halt(proc, signal);
    this.outputs.set(name, (this.outputs.get(name) ?? '') + proc.output());
  }

  async startUpsd(): Promise<void> {
    const bin = join(this.root, 'lib/nut/upsd');
    const args = ['-u', 'root', '-F'];
    const proc = this.options.registry
      ? await this.options.registry.spawn('upsd', bin, args, { env: this.env })
      : await spawnManaged('upsd', bin, args, { env: this.env });
    this.upsd = proc;
    // Ready when every UPS's driver is connected: upsd retries a driver it could not reach.
    await pollUntil(
      async () => {
        if (!proc.running()) throw new Error(`upsd exited: ${proc.output()}`);
        for (const u of this.options.upses) {
          if (!this.drivers.has(u.name)) continue;
          const [line] = await this.ask(`GET VAR ${u.name} ups.status`);
          if (!line?.startsWith('VAR ') || line.endsWith('"WAIT"')) return undefined;
        }
        return true;
      },
      this.options.startTimeoutMs ?? 15_000,
      { intervalMs: 100, what: `upsd on port ${this.port} with its drivers` },
    );
  }

  async stopUpsd(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const proc = this.upsd;
    this.upsd = undefined;
    if (!proc) return;
    await halt(proc, signal);
    this.upsdLog += proc.output();
  }

  upsdOutput(): string {
    return this.upsdLog + (this.upsd?.output() ?? '');
  }

  driverOutput(name: string): string {
    return (this.outputs.get(name) ?? '') + (this.drivers.get(name)?.output() ?? '');
  }

  ask(request: string): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const s = createConnection({ host: LOOPBACK, port: this.port });
      let text = '';
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Ups2MqttError('READ_TIMEOUT', `no reply to ${request}`));
      }, 3000);
      s.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      s.on('connect', () => s.write(`${request}\n`));
      s.on('data', (d) => {
        text += d.toString('utf8');
        const lines = text.split('\n');
        const done = lines[0]?.startsWith('BEGIN LIST')
          ? lines.some((l) => l.startsWith('END LIST'))
          : lines.length > 1;
        if (done) {
          clearTimeout(timer);
          s.end();
          resolve(lines.filter((l, i) => l !== '' || i < lines.length - 1));
        }
      });
    });
  }

  async stop(): Promise<void> {
    await this.stopUpsd();
    for (const name of [...this.drivers.keys()]) await this.stopDriver(name);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** SIGTERM with the registry's grace and SIGKILL after it, or SIGKILL at once. */
async function halt(proc: ManagedProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (signal === 'SIGTERM') {
    await proc.stop();
    return;
  }
  proc.kill('SIGKILL');
  await proc.exited;
}
