/**
 * A REAL apcupsd for integration tests, running as an NIS slave of a {@link FakeNisMaster}
 * (docs/protocols/nis.md#running-apcupsd-without-a-ups).
 *
 * Safety: everything it may write or execute lives in a private temporary folder: its
 * config (never /etc/apcupsd), PID file, lock, events and status files, the power-fail and
 * nologin flag folders, and SCRIPTDIR, whose `apccontrol` only appends its arguments to a
 * log. apcupsd runs every action (shutdown included) through SCRIPTDIR/apccontrol, so no
 * event can reach the host. It is started in the foreground and stopped by its PID.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ups2MqttError } from '../../src/core/errors.ts';
import { parseStatusLines } from '../../src/sources/nis/parse.ts';
import { startupPlaceholder } from '../../src/sources/nis/startup.ts';
import { encodeNisFrame, NisFrameReader } from './fake-nis-master.ts';
import { freePort, LOOPBACK, pollUntil } from './ports.ts';
import { type ManagedProcess, type ProcessRegistry, spawnManaged } from './process.ts';

/** Options of {@link startApcupsd}. */
export interface StartApcupsdOptions {
  /** Port of the NIS master to poll (`DEVICE 127.0.0.1:<masterPort>`). */
  masterPort: number;
  /** Its own NIS port; default a free one. */
  nisPort?: number;
  /** `POLLTIME` in seconds; default 1. */
  pollTime?: number;
  /**
   * `UPSNAME` in the config; default `harness-ups`. Observed on 3.14.14: a slave shows the
   * master's UPSNAME instead (and passes it to apccontrol), or `Not found` when the master
   * sends none, so this setting is only written for completeness.
   */
  upsName?: string;
  /** `ONBATTERYDELAY` in seconds; default 1. */
  onBatteryDelay?: number;
  registry?: ProcessRegistry;
  /** Bound on the wait for the first `status` answer; default 15 s. */
  startTimeoutMs?: number;
  /** Binary; default `apcupsd` from PATH (Debian: /usr/sbin/apcupsd). */
  binary?: string;
}

/** A running apcupsd. */
export interface ApcupsdHandle {
  readonly nisPort: number;
  /** The private folder (config, logs, scripts). */
  readonly dir: string;
  /** apcupsd's EVENTSFILE. */
  readonly eventsFile: string;
  /** Where the stand-in apccontrol logs one line per call: its arguments. */
  readonly apccontrolLog: string;
  /** The current process; replaced by {@link restart}. */
  readonly proc: ManagedProcess;
  /** Stops it by PID (SIGTERM, SIGKILL after a grace) and removes the folder. Idempotent. */
  stop(): Promise<void>;
  /** Sends a signal to its PID (e.g. SIGKILL to simulate a crash); false if not running. */
  kill(signal: NodeJS.Signals): boolean;
  /** Stops and starts it again with the same config and ports (keeps the folder). */
  restart(): Promise<void>;
  /** The stand-in apccontrol's calls so far, one string of arguments each. */
  apccontrolCalls(): Promise<string[]>;
  /** The events file's lines so far. */
  events(): Promise<string[]>;
}

/** The config file apcupsd reads; see {@link startApcupsd} for why each line is there. */
export function apcupsdConfig(settings: {
  dir: string;
  masterPort: number;
  nisPort: number;
  pollTime: number;
  upsName: string;
  onBatteryDelay: number;
}): string {
  const { dir } = settings;
  const lines = [
    // apcupsd warns unless the first line is its version header.
    '## apcupsd.conf v1.1 ##',
    `UPSNAME ${settings.upsName}`,
    'UPSCABLE ether',
    'UPSTYPE net',
    `DEVICE ${LOOPBACK}:${settings.masterPort}`,
    `POLLTIME ${settings.pollTime}`,
    `LOCKFILE ${dir}`,
    `SCRIPTDIR ${join(dir, 'scripts')}`,
    `PWRFAILDIR ${dir}`,
    `NOLOGINDIR ${dir}`,
    `ONBATTERYDELAY ${settings.onBatteryDelay}`,
    // Shutdown thresholds apcupsd never reaches while the master reports charge > 0 and
    // runtime > 0 (`<=` comparisons); TIMEOUT 0 disables the time-on-battery limit.
    'BATTERYLEVEL 0',
    'MINUTES 0',
    'TIMEOUT 0',
    'ANNOY 0',
    'ANNOYDELAY 0',
    'NOLOGON disable',
    'KILLDELAY 0',
    'NETSERVER on',
    `NISIP ${LOOPBACK}`,
    `NISPORT ${settings.nisPort}`,
    `EVENTSFILE ${join(dir, 'events')}`,
    'EVENTSFILEMAX 0',
    'UPSCLASS standalone',
    'UPSMODE disable',
    'STATTIME 0',
    `STATFILE ${join(dir, 'status')}`,
    'LOGSTATS off',
    'DATATIME 0',
  ];
  return `${lines.join('\n')}\n`;
}

/** The stand-in apccontrol: logs its arguments, does nothing else, exits 0. */
export function apccontrolScript(logFile: string): string {
  return `#!/bin/sh\n# ups2mqtt test stand-in: log only, never act.\nprintf '%s\\n' "$*" >> '${logFile}'\nexit 0\n`;
}

/**
 * Starts apcupsd (`apcupsd -b -f CONF -P PIDFILE`) and waits until its NIS port answers a
 * real `status` request (a reading, not a start-up placeholder). The master should already
 * be listening: apcupsd reads the UPS's capabilities from it at start.
 */
export async function startApcupsd(options: StartApcupsdOptions): Promise<ApcupsdHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'ups2mqtt-apcupsd-'));
  try {
    const handle = new Apcupsd(dir, options.nisPort ?? (await freePort()), options);
    await handle.prepare();
    await handle.launch();
    options.registry?.track(handle);
    return handle;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

class Apcupsd implements ApcupsdHandle {
  readonly eventsFile: string;
  readonly apccontrolLog: string;
  private readonly configFile: string;
  private current: ManagedProcess | undefined;
  private stopped = false;

  constructor(
    readonly dir: string,
    readonly nisPort: number,
    private readonly options: StartApcupsdOptions,
  ) {
    this.eventsFile = join(dir, 'events');
    this.apccontrolLog = join(dir, 'apccontrol.log');
    this.configFile = join(dir, 'apcupsd.conf');
  }

  get proc(): ManagedProcess {
    if (this.current === undefined) throw new Ups2MqttError('ABORTED', 'apcupsd not started');
    return this.current;
  }

  async prepare(): Promise<void> {
    const scripts = join(this.dir, 'scripts');
    await mkdir(scripts);
    await writeFile(join(scripts, 'apccontrol'), apccontrolScript(this.apccontrolLog));
    await chmod(join(scripts, 'apccontrol'), 0o755);
    const config = apcupsdConfig({
      dir: this.dir,
      masterPort: this.options.masterPort,
      nisPort: this.nisPort,
      pollTime: this.options.pollTime ?? 1,
      upsName: this.options.upsName ?? 'harness-ups',
      onBatteryDelay: this.options.onBatteryDelay ?? 1,
    });
    await writeFile(this.configFile, config);
  }

  async launch(): Promise<void> {
    // -b: stay in the foreground; -P: PID file in our folder, not /run/apcupsd.pid.
    const args = ['-b', '-f', this.configFile, '-P', join(this.dir, 'apcupsd.pid')];
    const binary = this.options.binary ?? 'apcupsd';
    const proc =
      this.options.registry === undefined
        ? await spawnManaged('apcupsd', binary, args)
        : await this.options.registry.spawn('apcupsd', binary, args);
    this.current = proc;
    const gaveUp = new AbortController();
    void proc.exited.then(() => gaveUp.abort());
    try {
      // A reply is not enough: for a moment after it starts, apcupsd answers placeholders
      // (docs/protocols/nis.md#status-fields); wait for what the NIS source takes as a reading.
      await pollUntil(
        async () => {
          const lines = await nisRequest(this.nisPort, 'status', 2000);
          const records = parseStatusLines(lines.map((l) => l.replace(/\n$/, '')));
          return records.length > 0 && startupPlaceholder(records) === undefined ? true : undefined;
        },
        this.options.startTimeoutMs ?? 15_000,
        { signal: gaveUp.signal, intervalMs: 100, what: `apcupsd NIS on port ${this.nisPort}` },
      );
    } catch (err) {
      await proc.stop();
      throw new Ups2MqttError('CONNECT_FAILED', 'apcupsd did not start', {
        cause: err,
        context: { output: proc.output() },
      });
    }
  }

  kill(signal: NodeJS.Signals): boolean {
    return this.current?.kill(signal) ?? false;
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Ups2MqttError('ABORTED', 'apcupsd handle already stopped');
    await this.current?.stop();
    await this.launch();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.current?.stop();
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  apccontrolCalls(): Promise<string[]> {
    return readLines(this.apccontrolLog);
  }

  events(): Promise<string[]> {
    return readLines(this.eventsFile);
  }
}

async function readLines(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  return text.split('\n').filter((line) => line !== '');
}

/**
 * One NIS request on a fresh connection (what apcupsd's own client does; never stalled by
 * delayed ACKs, see bench/nis-connection.ts): sends length and command in one write, collects messages up to
 * `00 00`, closes. Resolves with the messages as latin1 text, newlines included. Rejects
 * with `CONNECT_FAILED`, `PEER_CLOSED` (closed before `00 00`) or `READ_TIMEOUT`.
 */
export function nisRequest(port: number, command: string, timeoutMs = 5000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: LOOPBACK });
    const reader = new NisFrameReader();
    const lines: string[] = [];
    let settled = false;
    const finish = (err: Ups2MqttError | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err === undefined) resolve(lines);
      else reject(err);
    };
    const timer = setTimeout(
      () =>
        finish(
          new Ups2MqttError('READ_TIMEOUT', `NIS ${command}: no end within ${timeoutMs} ms`, {
            context: { port, lines },
          }),
        ),
      timeoutMs,
    );
    socket.once('connect', () => socket.write(encodeNisFrame(command)));
    socket.on('data', (chunk: Buffer) => {
      for (const frame of reader.push(chunk)) {
        if (frame.length === 0) return finish(undefined);
        lines.push(frame.toString('latin1'));
      }
    });
    socket.once('error', (cause) =>
      finish(new Ups2MqttError('CONNECT_FAILED', `NIS ${command} on port ${port}`, { cause })),
    );
    socket.once('close', () =>
      finish(
        new Ups2MqttError('PEER_CLOSED', `NIS ${command}: closed before 00 00`, {
          context: { port, lines },
        }),
      ),
    );
  });
}

/**
 * `status` lines as a key → value map. The key is trimmed; the value is everything after
 * the first `: ` without the newline, trailing blanks kept (`ONLINE SLAVE `) (docs/protocols/nis.md#records-and-parsing).
 */
export function nisFields(lines: readonly string[]): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const value = line.slice(colon + 1).replace(/\n$/, '');
    fields.set(line.slice(0, colon).trim(), value.startsWith(' ') ? value.slice(1) : value);
  }
  return fields;
}

/** `status` from apcupsd's NIS as a field map (see {@link nisFields}). */
export async function nisStatus(port: number, timeoutMs = 5000): Promise<Map<string, string>> {
  return nisFields(await nisRequest(port, 'status', timeoutMs));
}
