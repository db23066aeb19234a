/**
 * Runs the real CLI (`node --import tsx src/cli/main.ts --config FILE`) as a child process,
 * the way a user runs it, with a generated JSON config. The child gets a clean environment:
 * no `UPS2MQTT_*` or `NODE_OPTIONS` from the caller's shell can change what is measured.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManagedProcess, ProcessRegistry } from '../../test/helpers/process.ts';
import { monoMs } from './clock.ts';
import { REPO_ROOT } from './results.ts';

/** One UPS entry of the generated config. */
export interface BridgeUps {
  readonly id: string;
  readonly port: number;
  readonly pollIntervalS: number;
}

/** How to start the bridge. */
export interface BridgeLaunchOptions {
  readonly upses: readonly BridgeUps[];
  readonly mqttUrl: string;
  readonly registry: ProcessRegistry;
  /** Node flags placed before the script (e.g. `--cpu-prof`, `--trace-gc`). */
  readonly nodeArgs?: readonly string[];
  /** Default `warn`: a benchmark should not measure log formatting. */
  readonly logLevel?: string;
  /** Home Assistant discovery (default on, as shipped). */
  readonly homeassistant?: boolean;
  /** The HTTP status endpoint and its chart history (default on, as shipped). */
  readonly http?: boolean;
  /** Config settings by dotted path (e.g. `nis.reuse_connection: false`), set last. */
  readonly overrides?: Readonly<Record<string, unknown>>;
  /**
   * The entry script; default the TypeScript source through tsx. A compiled `dist/cli/main.js`
   * can be given instead (then no `--import tsx`).
   */
  readonly entry?: { readonly kind: 'tsx' } | { readonly kind: 'js'; readonly path: string };
}

/** A started bridge. */
export interface RunningBridge {
  readonly proc: ManagedProcess;
  /** Monotonic ms just before `spawn()` was called. */
  readonly spawnedAt: number;
  readonly configFile: string;
  /** Stops the process (see {@link stopPolitely}) and removes the config folder. Idempotent. */
  stop(): Promise<void>;
}

/** The config file the bridge is given: the documented `upses` list (docs/configuration.md#upses). */
export function bridgeConfig(
  options: Pick<
    BridgeLaunchOptions,
    'upses' | 'mqttUrl' | 'logLevel' | 'homeassistant' | 'http' | 'overrides'
  >,
): object {
  const config: Record<string, unknown> = {
    upses: options.upses.map((u) => ({
      id: u.id,
      source: `nis://127.0.0.1:${u.port}`,
      poll_interval: u.pollIntervalS,
    })),
    mqtt: { url: options.mqttUrl },
    homeassistant: { enabled: options.homeassistant ?? true },
    // The status endpoint stays on, as shipped, but on a free port: the default 1551 may be
    // taken by another bridge on this shared machine.
    http: { enabled: options.http ?? true, port: 0 },
    log: { level: options.logLevel ?? 'warn', format: 'json' },
  };
  for (const [path, value] of Object.entries(options.overrides ?? {})) {
    const keys = path.split('.');
    const last = keys.pop() as string;
    let node = config;
    for (const key of keys) {
      const next = node[key];
      node[key] = typeof next === 'object' && next !== null ? next : {};
      node = node[key] as Record<string, unknown>;
    }
    node[last] = value;
  }
  return config;
}

/**
 * Parses a variant: `default`, or `key=value` settings joined by `,` (values as JSON when
 * they parse, else strings), e.g. `nis.reuse_connection=false,poll_interval=2`. Parts that
 * start with `--` are Node flags of the bridge process ({@link variantNodeArgs}), not settings.
 */
export function parseVariant(text: string): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  if (text.trim() === 'default') return overrides;
  for (const part of text.split(',')) {
    if (part.trim().startsWith('--')) continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`variant setting "${part}" is not key=value`);
    const raw = part.slice(eq + 1).trim();
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    overrides[part.slice(0, eq).trim()] = value;
  }
  return overrides;
}

/** The Node flags of a variant (its parts starting with `--`), e.g. `--max-semi-space-size=1`. */
export function variantNodeArgs(text: string): string[] {
  return text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.startsWith('--'));
}

/** The caller's environment minus everything that could configure the bridge or Node. */
export function cleanEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith('UPS2MQTT_') || key === 'NODE_OPTIONS') continue;
    out[key] = value;
  }
  return out;
}

/** Writes the config and spawns the CLI, registered with `registry` for clean-up. */
export async function spawnBridge(options: BridgeLaunchOptions): Promise<RunningBridge> {
  const dir = await mkdtemp(join(tmpdir(), 'ups2mqtt-bench-'));
  const configFile = join(dir, 'config.json');
  await writeFile(configFile, JSON.stringify(bridgeConfig(options)));
  const entry = options.entry ?? { kind: 'tsx' };
  const script = entry.kind === 'tsx' ? ['--import', 'tsx', 'src/cli/main.ts'] : [entry.path];
  const args = [...(options.nodeArgs ?? []), ...script, '--config', configFile];
  const spawnedAt = monoMs();
  const proc = await options.registry.spawn('ups2mqtt', process.execPath, args, {
    cwd: REPO_ROOT,
    env: cleanEnv(process.env),
    ringChars: 256 * 1024,
  });
  let stopped = false;
  return {
    proc,
    spawnedAt,
    configFile,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await stopPolitely(proc);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * SIGTERM (the CLI publishes `offline` and disconnects), then — if it has not exited after
 * `graceMs` — a second SIGTERM, which the CLI turns into an immediate `process.exit` (so a
 * `--cpu-prof` profile is still written), and only then SIGKILL via `ManagedProcess.stop`.
 * A bridge serving 1,000 UPSes publishes 1,000 `offline` messages on the way out.
 */
export async function stopPolitely(proc: ManagedProcess, graceMs = 10_000): Promise<void> {
  if (!proc.running()) return;
  proc.kill('SIGTERM');
  if (await exitsWithin(proc, graceMs)) return;
  proc.kill('SIGTERM');
  if (await exitsWithin(proc, 5000)) return;
  await proc.stop(0);
}

async function exitsWithin(proc: ManagedProcess, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const exited = await Promise.race([proc.exited.then(() => true), timeout]);
  clearTimeout(timer);
  return exited;
}
