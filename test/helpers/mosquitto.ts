/**
 * A real mosquitto broker on 127.0.0.1 for integration tests: private temporary folder,
 * private config, foreground process stopped by its PID; never the packaged service.
 */
import { execFile } from 'node:child_process';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ups2MqttError } from '../../src/core/errors.ts';
import { freePort, LOOPBACK, waitForPort } from './ports.ts';
import { type ManagedProcess, type ProcessRegistry, spawnManaged } from './process.ts';

const run = promisify(execFile);

/** Username and password the broker requires (anonymous access is then refused). */
export interface BrokerAuth {
  username: string;
  password: string;
}

/** Options of {@link startMosquitto}. */
export interface StartMosquittoOptions {
  /** Listening port; default a free one. */
  port?: number;
  auth?: BrokerAuth;
  /** Registers the broker so `registry.stopAll()` stops it. */
  registry?: ProcessRegistry;
  /** Bound on the start-up wait; default 10 s. */
  startTimeoutMs?: number;
  /** Binary; default `mosquitto` from PATH (Debian: /usr/sbin/mosquitto). */
  binary?: string;
  /**
   * Keeps sessions (and retained messages) across {@link MosquittoHandle.restart}: saved in
   * the broker's folder when it is stopped, read back when it starts. Default false.
   */
  persistence?: boolean;
}

/** A running broker. */
export interface MosquittoHandle {
  /** `mqtt://127.0.0.1:PORT` (credentials are not embedded). */
  readonly url: string;
  readonly port: number;
  /** The private folder holding `mosquitto.conf` (and `passwd` with auth). */
  readonly dir: string;
  /** The current process; replaced by {@link restart}. */
  readonly proc: ManagedProcess;
  /** Stops the broker by PID and removes its folder. Idempotent. */
  stop(): Promise<void>;
  /**
   * Stops and starts again on the same port with the same config. Without the `persistence`
   * option, retained messages and sessions are gone afterwards — like a broker that lost its
   * disk.
   */
  restart(): Promise<void>;
}

/**
 * The broker config. `log_type all` makes the ring buffer of the process useful when a test
 * fails; `persistence false` keeps every start clean.
 */
export function mosquittoConfig(
  port: number,
  passwordFile?: string,
  persistenceDir?: string,
): string {
  const lines = [
    `listener ${port} ${LOOPBACK}`,
    passwordFile === undefined ? 'allow_anonymous true' : 'allow_anonymous false',
    ...(passwordFile === undefined ? [] : [`password_file ${passwordFile}`]),
    // With a folder: the database is written when the broker stops (no autosave).
    ...(persistenceDir === undefined
      ? ['persistence false']
      : ['persistence true', `persistence_location ${persistenceDir}/`, 'autosave_interval 0']),
    'log_dest stderr',
    'log_type all',
    'connection_messages true',
    'log_timestamp_format %H:%M:%S',
  ];
  return `${lines.join('\n')}\n`;
}

/** Starts mosquitto in the foreground and waits until its port accepts connections. */
export async function startMosquitto(
  options: StartMosquittoOptions = {},
): Promise<MosquittoHandle> {
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'ups2mqtt-mosquitto-'));
  try {
    const handle = new MosquittoBroker(port, dir, options);
    await handle.prepare(options.auth);
    await handle.launch();
    options.registry?.track(handle);
    return handle;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

class MosquittoBroker implements MosquittoHandle {
  readonly url: string;
  private current: ManagedProcess | undefined;
  private stopped = false;
  private readonly configFile: string;

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: StartMosquittoOptions,
  ) {
    this.url = `mqtt://${LOOPBACK}:${port}`;
    this.configFile = join(dir, 'mosquitto.conf');
  }

  get proc(): ManagedProcess {
    if (this.current === undefined) throw new Ups2MqttError('ABORTED', 'mosquitto not started');
    return this.current;
  }

  async prepare(auth: BrokerAuth | undefined): Promise<void> {
    let passwordFile: string | undefined;
    if (auth !== undefined) {
      passwordFile = join(this.dir, 'passwd');
      // mosquitto_passwd writes the real hash format of the installed version.
      await run('mosquitto_passwd', ['-b', '-c', passwordFile, auth.username, auth.password]);
    }
    await writeFile(
      this.configFile,
      mosquittoConfig(this.port, passwordFile, this.options.persistence ? this.dir : undefined),
    );
    await handOverToBrokerUser(this.dir, [this.configFile, passwordFile]);
  }

  async launch(): Promise<void> {
    const args = ['-c', this.configFile];
    const binary = this.options.binary ?? 'mosquitto';
    const proc =
      this.options.registry === undefined
        ? await spawnManaged('mosquitto', binary, args)
        : await this.options.registry.spawn('mosquitto', binary, args);
    this.current = proc;
    // An early exit (bad config, port taken) aborts the wait instead of running out the clock.
    const gaveUp = new AbortController();
    void proc.exited.then(() => gaveUp.abort());
    try {
      await waitForPort(this.port, this.options.startTimeoutMs ?? 10_000, {
        signal: gaveUp.signal,
        what: `mosquitto on port ${this.port}`,
      });
    } catch (err) {
      await proc.stop();
      throw new Ups2MqttError('CONNECT_FAILED', 'mosquitto did not start', {
        cause: err,
        context: { output: proc.output() },
      });
    }
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Ups2MqttError('ABORTED', 'mosquitto handle already stopped');
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
}

/**
 * Started as root, mosquitto switches to user `mosquitto` *before* it reads the password
 * file (mosquitto 2.x drops privileges first), so that user must be able to enter the private folder
 * and read the files. As any other user it does not switch, and nothing needs doing.
 */
async function handOverToBrokerUser(
  dir: string,
  files: readonly (string | undefined)[],
): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const ids = await brokerUserIds();
  if (ids === undefined) return;
  await chown(dir, ids.uid, ids.gid);
  for (const file of files) if (file !== undefined) await chown(file, ids.uid, ids.gid);
}

/** uid/gid of the `mosquitto` account from /etc/passwd, if it exists. */
async function brokerUserIds(): Promise<{ uid: number; gid: number } | undefined> {
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === 'mosquitto' && uid !== undefined && gid !== undefined) {
      return { uid: Number(uid), gid: Number(gid) };
    }
  }
  return undefined;
}
