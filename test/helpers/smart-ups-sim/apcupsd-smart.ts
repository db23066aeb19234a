/**
 * A REAL apcupsd reading the simulator through its pty, with the Smart driver (`UPSCABLE
 * smart`, `UPSTYPE apcsmart`): the proof that the simulator answers what apcupsd expects.
 *
 * Safety, as in ../apcupsd.ts: a private folder holds the config (never /etc/apcupsd), PID,
 * lock, events and status files and SCRIPTDIR, whose `apccontrol` only logs its arguments;
 * apcupsd runs every action (shutdown included) through it. KILLDELAY 0, no thresholds it can
 * reach. Started in the foreground and stopped by its PID.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ups2MqttError } from '../../../src/core/errors.ts';
import { apccontrolScript, nisStatus } from '../apcupsd.ts';
import { freePort, LOOPBACK, pollUntil } from '../ports.ts';
import { type ManagedProcess, type ProcessRegistry, spawnManaged } from '../process.ts';

/** A running apcupsd on the Smart driver. */
export interface SmartApcupsd {
  readonly nisPort: number;
  readonly dir: string;
  readonly proc: ManagedProcess;
  /** `status` over NIS as a field map. */
  status(): Promise<Map<string, string>>;
  /** Stops it by PID and removes its folder. */
  stop(): Promise<void>;
}

/** The config: everything private, nothing that can act on this machine. */
export function smartApcupsdConfig(s: { dir: string; device: string; nisPort: number }): string {
  return `${[
    '## apcupsd.conf v1.1 ##',
    'UPSNAME smart-sim',
    'UPSCABLE smart',
    'UPSTYPE apcsmart',
    `DEVICE ${s.device}`,
    'POLLTIME 1',
    `LOCKFILE ${s.dir}`,
    `SCRIPTDIR ${join(s.dir, 'scripts')}`,
    `PWRFAILDIR ${s.dir}`,
    `NOLOGINDIR ${s.dir}`,
    'ONBATTERYDELAY 1',
    // Thresholds apcupsd cannot reach while charge and runtime are above zero.
    'BATTERYLEVEL 0',
    'MINUTES 0',
    'TIMEOUT 0',
    'ANNOY 0',
    'ANNOYDELAY 0',
    'NOLOGON disable',
    'KILLDELAY 0',
    'NETSERVER on',
    `NISIP ${LOOPBACK}`,
    `NISPORT ${s.nisPort}`,
    `EVENTSFILE ${join(s.dir, 'events')}`,
    'EVENTSFILEMAX 0',
    'UPSCLASS standalone',
    'UPSMODE disable',
    'STATTIME 0',
    `STATFILE ${join(s.dir, 'status')}`,
    'LOGSTATS off',
    'DATATIME 0',
  ].join('\n')}\n`;
}

/**
 * Starts `apcupsd -b -f CONF -P PIDFILE` on `device` and waits until NIS reports a MODEL
 * (apcupsd has finished its start-up queries). Its start-up asks `^A` four times one second
 * apart, so this takes several seconds.
 */
export async function startSmartApcupsd(opts: {
  device: string;
  registry?: ProcessRegistry;
  startTimeoutMs?: number;
  /** NIS port; default a free one. Pass the port of a stopped instance to "restart" it. */
  nisPort?: number;
}): Promise<SmartApcupsd> {
  const dir = await mkdtemp(join(tmpdir(), 'ups2mqtt-apcupsd-smart-'));
  let proc: ManagedProcess | undefined;
  try {
    const nisPort = opts.nisPort ?? (await freePort());
    await mkdir(join(dir, 'scripts'));
    await writeFile(
      join(dir, 'scripts', 'apccontrol'),
      apccontrolScript(join(dir, 'apccontrol.log')),
    );
    await chmod(join(dir, 'scripts', 'apccontrol'), 0o755);
    const conf = join(dir, 'apcupsd.conf');
    await writeFile(conf, smartApcupsdConfig({ dir, device: opts.device, nisPort }));
    const args = ['-b', '-f', conf, '-P', join(dir, 'apcupsd.pid')];
    proc = opts.registry
      ? await opts.registry.spawn('apcupsd', 'apcupsd', args)
      : await spawnManaged('apcupsd', 'apcupsd', args);
    const started = proc;
    const gone = new AbortController();
    void started.exited.then(() => gone.abort());
    // Ready once MODEL is filled in: during its start-up apcupsd prints a blank MODEL over
    // placeholder values (0 V, 0 %), and a test reading then saw LINEV 0.0 (flaky).
    await pollUntil(
      async () => ((await nisStatus(nisPort, 2000)).get('MODEL')?.trim() ? true : undefined),
      opts.startTimeoutMs ?? 30_000,
      { intervalMs: 250, signal: gone.signal, what: 'apcupsd (smart) NIS with MODEL' },
    );
    return {
      nisPort,
      dir,
      proc: started,
      status: () => nisStatus(nisPort),
      stop: async () => {
        try {
          await started.stop();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    const output = proc?.output();
    await proc?.stop();
    await rm(dir, { recursive: true, force: true });
    throw new Ups2MqttError('CONNECT_FAILED', 'apcupsd (smart) did not start', {
      cause: err,
      context: { output },
    });
  }
}
