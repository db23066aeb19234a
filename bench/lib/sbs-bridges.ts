/**
 * The bridges bench/side-by-side.ts compares, each started the way its users start it and
 * pointed at the same apcupsd NIS port and mosquitto: how to spawn it, which MQTT topics are
 * its own, and which of its messages says "on battery" or "back on line".
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ManagedProcess, ProcessRegistry } from '../../test/helpers/process.ts';
import { cleanEnv } from './bridge-process.ts';
import { REPO_ROOT } from './results.ts';

export const BRIDGE_NAMES = [
  'ups2mqtt',
  'apcupsd2mqtt-default',
  'apcupsd2mqtt-1s',
  'python-ref',
  'python-published',
  'node-floor',
] as const;
export type BridgeName = (typeof BRIDGE_NAMES)[number];

/** The `apcupsd2mqtt` release measured (npm registry), installed outside the project. */
export const APCUPSD2MQTT_VERSION = '1.0.2';
export const DEFAULT_PEERS_DIR = join(homedir(), '.cache', 'ups2mqtt-bench', 'peers');

export type Power = 'battery' | 'line';

/** What a bridge needs to know about the run. */
export interface LaunchContext {
  readonly registry: ProcessRegistry;
  readonly nisPort: number;
  readonly mqttPort: number;
  /** A private folder of this run (wrapper scripts, ups2mqtt's data_dir). */
  readonly workDir: string;
  readonly ups2mqttDir: string;
  /** Settings added to ups2mqtt's environment (`--ups2mqtt-env`); the defaults otherwise. */
  readonly ups2mqttEnv?: Readonly<Record<string, string>>;
  readonly peersDir: string;
}

export interface BridgeSpec {
  readonly name: BridgeName;
  readonly label: string;
  /** Poll interval in seconds. */
  readonly intervalS: number;
  /** False for the floor, which publishes nothing. */
  readonly mqtt: boolean;
  ownsTopic(topic: string): boolean;
  /** What this message says about mains, if anything. */
  power(topic: string, payload: Buffer): Power | undefined;
  start(ctx: LaunchContext): Promise<ManagedProcess>;
}

function json(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** apcupsd's STATUS word → power; `ONBATT` and `ONLINE` may carry more flags after them. */
export function statusPower(status: unknown): Power | undefined {
  if (typeof status !== 'string') return undefined;
  if (/\bONBATT\b/.test(status)) return 'battery';
  if (/\bONLINE\b/.test(status)) return 'line';
  return undefined;
}

const ups2mqtt: BridgeSpec = {
  name: 'ups2mqtt',
  label: 'ups2mqtt (defaults, poll 1 s)',
  intervalS: 1,
  mqtt: true,
  ownsTopic: (t) => t.startsWith('ups2mqtt/') || t.startsWith('homeassistant/'),
  power(topic, payload) {
    if (!/^ups2mqtt\/[^/]+\/state$/.test(topic)) return undefined;
    const onBattery = json(payload)?.on_battery;
    return typeof onBattery === 'boolean' ? (onBattery ? 'battery' : 'line') : undefined;
  },
  async start(ctx) {
    const dataDir = join(ctx.workDir, 'ups2mqtt-data');
    await mkdir(dataDir, { recursive: true });
    return ctx.registry.spawn(
      'ups2mqtt',
      process.execPath,
      [join(ctx.ups2mqttDir, 'dist', 'cli', 'main.js'), 'run'],
      {
        cwd: dataDir,
        env: {
          ...cleanEnv(process.env),
          UPS2MQTT_SOURCE: `nis://127.0.0.1:${ctx.nisPort}`,
          UPS2MQTT_MQTT_URL: `mqtt://127.0.0.1:${ctx.mqttPort}`,
          UPS2MQTT_POLL_INTERVAL: '1',
          // Not defaults, but needed on a shared machine: the status page's usual port
          // 1551 may be taken, and ./data must not be the checkout's.
          UPS2MQTT_HTTP_PORT: '0',
          UPS2MQTT_DATA_DIR: dataDir,
          ...ctx.ups2mqttEnv,
        },
      },
    );
  },
};

/** `KEY=VALUE,...` → settings for ups2mqtt; only UPS2MQTT_ variables, so nothing else leaks in. */
export function parseUps2mqttEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of text.split(',').filter((x) => x.trim() !== '')) {
    const at = item.indexOf('=');
    const key = item.slice(0, at).trim();
    if (at <= 0 || !/^UPS2MQTT_[A-Z0-9_]+$/.test(key)) {
      throw new Error(`--ups2mqtt-env: "${item}" is not UPS2MQTT_NAME=value`);
    }
    out[key] = item.slice(at + 1).trim();
  }
  return out;
}

/** The absolute path of the real `apcaccess` (Debian's apcupsd package: /usr/sbin). */
export function realApcaccess(): string {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin']) {
    if (dir !== '' && existsSync(join(dir, 'apcaccess'))) return join(dir, 'apcaccess');
  }
  throw new Error('apcaccess not found (apt-get install apcupsd)');
}

/**
 * apcupsd2mqtt runs `apcaccess` with no arguments, which asks the NIS port named in
 * /etc/apcupsd/apcupsd.conf. Ours is private, so a wrapper named `apcaccess` first on
 * its PATH execs the real one with `-h 127.0.0.1:<port> status` (one extra `sh` start per
 * poll; side-by-side.ts measures that cost and reports it).
 */
export async function apcaccessWrapper(workDir: string, nisPort: number): Promise<string> {
  const dir = join(workDir, 'bin');
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'apcaccess');
  await writeFile(file, `#!/bin/sh\nexec ${realApcaccess()} -h 127.0.0.1:${nisPort} status\n`);
  await chmod(file, 0o755);
  return dir;
}

/** Installs apcupsd2mqtt into `peersDir` with npm unless that exact version is there. */
export function ensureApcupsd2mqtt(peersDir: string): string {
  const pkgDir = join(peersDir, 'node_modules', 'apcupsd2mqtt');
  const installed = (): string | undefined => {
    try {
      return (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string })
        .version;
    } catch {
      return undefined;
    }
  };
  if (installed() !== APCUPSD2MQTT_VERSION) {
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        peersDir,
        '--no-audit',
        '--no-fund',
        `apcupsd2mqtt@${APCUPSD2MQTT_VERSION}`,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
  }
  if (installed() !== APCUPSD2MQTT_VERSION)
    throw new Error(`apcupsd2mqtt not installed in ${peersDir}`);
  return join(pkgDir, 'index.js');
}

function apcupsd2mqtt(intervalS: number, isDefault: boolean): BridgeSpec {
  return {
    name: isDefault ? 'apcupsd2mqtt-default' : 'apcupsd2mqtt-1s',
    label: isDefault
      ? `apcupsd2mqtt ${APCUPSD2MQTT_VERSION} (default, poll ${intervalS} s)`
      : `apcupsd2mqtt ${APCUPSD2MQTT_VERSION} (--interval 1)`,
    intervalS,
    mqtt: true,
    ownsTopic: (t) => t.startsWith('ups/'),
    power(topic, payload) {
      if (!/^ups\/status\/[^/]+\/status$/.test(topic)) return undefined;
      return statusPower(json(payload)?.val);
    },
    async start(ctx) {
      const main = ensureApcupsd2mqtt(ctx.peersDir);
      const bin = await apcaccessWrapper(ctx.workDir, ctx.nisPort);
      const url = `mqtt://127.0.0.1:${ctx.mqttPort}`;
      // 1.0.2 documents --mqtt-url but connects to `config.url` (index.js), which only
      // `--url` sets; without it, it would connect to 127.0.0.1:1883, someone else's broker.
      const args = [main, '--url', url, '--mqtt-url', url];
      if (!isDefault) args.push('--interval', String(intervalS));
      return ctx.registry.spawn('apcupsd2mqtt', process.execPath, args, {
        cwd: ctx.workDir,
        env: { ...cleanEnv(process.env), PATH: `${bin}:${process.env.PATH ?? ''}` },
      });
    },
  };
}

/**
 * One of our Python programs in bench/peers/, polling every second: `prefix/<UPSNAME>/state`
 * carries apcupsd's fields as JSON, STATUS under `statusKey`.
 */
function pythonBridge(
  name: BridgeName,
  label: string,
  script: string,
  prefix: string,
  statusKey: string,
): BridgeSpec {
  const stateTopic = new RegExp(`^${prefix}/.+/state$`);
  return {
    name,
    label,
    intervalS: 1,
    mqtt: true,
    ownsTopic: (t) => t.startsWith(`${prefix}/`),
    power(topic, payload) {
      if (!stateTopic.test(topic)) return undefined;
      return statusPower(json(payload)?.[statusKey]);
    },
    start: (ctx) =>
      ctx.registry.spawn(
        name,
        // Debian's interpreter: python3-paho-mqtt is installed for it, not for a pyenv one.
        '/usr/bin/python3',
        [
          join(REPO_ROOT, 'bench', 'peers', script),
          '--nis-port',
          String(ctx.nisPort),
          '--mqtt-port',
          String(ctx.mqttPort),
          '--interval',
          '1',
        ],
        { cwd: ctx.workDir, env: cleanEnv(process.env) },
      ),
  };
}

const pythonRef = pythonBridge(
  'python-ref',
  'Python stand-in (ours, new TCP connection per 1 s poll)',
  'pyref_bridge.py',
  'pyref',
  'STATUS',
);

/**
 * Our model of the usual published Python bridge (peers/pyref_published.py): apcaccess-style
 * reads on a new connection, and a new MQTT connection for every publish.
 */
const pythonPublished = pythonBridge(
  'python-published',
  'Python model of the published bridges (ours: new NIS and MQTT connection per 1 s poll)',
  'pyref_published.py',
  'pypub',
  'status',
);

const nodeFloor: BridgeSpec = {
  name: 'node-floor',
  label: 'bare Node 20 floor (1 s timer + NIS request, no MQTT)',
  intervalS: 1,
  mqtt: false,
  ownsTopic: () => false,
  power: () => undefined,
  start: (ctx) =>
    ctx.registry.spawn(
      'node-floor',
      process.execPath,
      [join(REPO_ROOT, 'bench', 'lib', 'nis-floor.mjs'), String(ctx.nisPort), '1'],
      { cwd: ctx.workDir, env: cleanEnv(process.env) },
    ),
};

export const BRIDGES: Readonly<Record<BridgeName, BridgeSpec>> = {
  ups2mqtt,
  'apcupsd2mqtt-default': apcupsd2mqtt(10, true),
  'apcupsd2mqtt-1s': apcupsd2mqtt(1, false),
  'python-ref': pythonRef,
  'python-published': pythonPublished,
  'node-floor': nodeFloor,
};
