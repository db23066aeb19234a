/**
 * One simulated UPS (sim://, on a manual clock) behind a real UpsBridge, CommandRouter and
 * ShutdownPolicy, publishing into a recorder: the power policy's scenarios run in
 * milliseconds of real time. The host shutdown command is a script that only appends to a
 * marker file; nothing here can shut a machine down.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpsBridge } from '../../../src/bridge/ups-bridge.ts';
import { CommandRouter, type CommandTarget } from '../../../src/commands/router.ts';
import { ManualClock } from '../../../src/core/clock.ts';
import type { ForcedShutdownNotifier, ShutdownSettings } from '../../../src/core/ports.ts';
import { Topics } from '../../../src/mqtt/topics.ts';
import {
  type CommandRunner,
  execFileRunner,
  type SupervisorHost,
} from '../../../src/policy/host.ts';
import { parseMemory } from '../../../src/policy/machine.ts';
import { ShutdownPolicy } from '../../../src/policy/policy.ts';
import { createSimSource, type SimSource } from '../../../src/sources/sim/source.ts';
import { JsonStore } from '../../../src/util/json-store.ts';
import { settle as flush } from '../../helpers/settle.ts';
import { captureLogger, RecordingPublisher } from '../bridge/fakes.ts';

export const UPS = 'sim';
export const T0 = Date.parse('2026-03-01T10:00:00Z');

/** A folder with marker scripts: `ok.sh` (exit 0), `fail.sh` (exit 3), `hang.sh` (sleeps). */
export function markerScripts(): {
  dir: string;
  ok: string;
  fail: string;
  hang: string;
  marker: string;
  runs(): string[];
  cleanup(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'ups2mqtt-policy-'));
  const marker = join(dir, 'marker');
  const script = (name: string, body: string): string => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\necho "ran $*" >> "${marker}"\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  };
  return {
    dir,
    marker,
    ok: script('ok.sh', 'echo "powering off (test)"; exit 0'),
    fail: script('fail.sh', 'echo "cannot power off (test)" >&2; exit 3'),
    hang: script('hang.sh', 'exec sleep 30'),
    runs: () => {
      try {
        return readFileSync(marker, 'utf8').trim().split('\n').filter(Boolean);
      } catch {
        return [];
      }
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface ScenarioOptions {
  shutdown: Partial<ShutdownSettings> & { mode: ShutdownSettings['mode'] };
  sim?: Record<string, string>;
  dataDir?: string;
  runner?: CommandRunner;
  supervisor?: SupervisorHost;
  notifier?: ForcedShutdownNotifier;
  clock?: ManualClock;
}

export const DEFAULT_SHUTDOWN: ShutdownSettings = {
  mode: 'act',
  onBatteryForMs: null,
  batteryChargePct: null,
  runtimeS: null,
  secondariesGraceMs: 30_000,
  command: [],
  commandTimeoutMs: 5_000,
  graceMs: 60_000,
  upsCommand: 'shutdown.return',
};

export type Scenario = Awaited<ReturnType<typeof scenario>>;

export async function scenario(opts: ScenarioOptions) {
  const clock = opts.clock ?? new ManualClock(T0);
  const { logger, lines } = captureLogger();
  const pub = new RecordingPublisher();
  const topics = new Topics('ups2mqtt');
  const source: SimSource = createSimSource(
    {
      model: '',
      params: { serial: 'SIMPOLICY1', load_drift: '0', speed: '100', ...opts.sim },
    },
    { clock, logger },
  );
  const router = new CommandRouter(
    { allow: new Set(), armWindowMs: 30_000, rateLimitMs: 5_000, shutdownDelayS: 60 },
    pub,
    topics,
    logger,
    clock,
  );
  let bridge: UpsBridge | undefined;
  const target = (): CommandTarget | undefined =>
    bridge && {
      upsId: UPS,
      source,
      available: () => bridge?.currentAvailability === 'online',
      afterCommand: () => bridge?.wake(),
    };
  const config = { ...DEFAULT_SHUTDOWN, ...opts.shutdown };
  const policy =
    config.mode === 'off'
      ? undefined
      : new ShutdownPolicy(
          { ...config, mode: config.mode },
          {
            clock,
            logger,
            ...(opts.dataDir
              ? { store: new JsonStore(opts.dataDir, `${UPS}.policy.json`, parseMemory, logger) }
              : {}),
            runner: opts.runner ?? execFileRunner,
            ...(opts.supervisor ? { supervisor: opts.supervisor } : {}),
            ...(opts.notifier ? { notifier: opts.notifier } : {}),
            commands: router,
            target,
            upsId: () => bridge?.id,
            publisher: pub,
            topics,
            refresh: () => bridge?.refresh() ?? Promise.resolve(),
          },
        );
  policy?.start();
  bridge = new UpsBridge(
    { id: UPS, pollIntervalMs: 1000, heartbeatIntervalMs: 600_000, maxDataAgeS: 180 },
    {
      source,
      publisher: pub,
      topics,
      clock,
      logger,
      ...(policy ? { extensions: [policy] } : {}),
    },
  );
  await bridge.start();
  await flush();

  const states = (): Record<string, unknown>[] =>
    pub.on(`ups2mqtt/${UPS}/state`).map((m) => JSON.parse(m.payload) as Record<string, unknown>);
  const events = (): Record<string, unknown>[] =>
    pub.on(`ups2mqtt/${UPS}/event`).map((m) => JSON.parse(m.payload) as Record<string, unknown>);

  const s = {
    clock,
    pub,
    lines,
    source,
    policy,
    get bridge(): UpsBridge {
      return bridge as UpsBridge;
    },
    states,
    events,
    /** shutdown_state of every published state, consecutive repeats folded. */
    sequence(): unknown[] {
      const out: unknown[] = [];
      for (const st of states()) if (out.at(-1) !== st.shutdown_state) out.push(st.shutdown_state);
      return out;
    },
    /** The last published state. */
    last(): Record<string, unknown> {
      return states().at(-1) ?? {};
    },
    /** Moves the clock forward in poll-sized steps, letting every reading finish. */
    async run(ms: number, stepMs = 250): Promise<void> {
      for (let done = 0; done < ms; done += stepMs) {
        clock.advance(Math.min(stepMs, ms - done));
        await flush();
      }
    },
    /** Runs the clock until `pred` holds (at most `maxMs` of clock time). */
    async runUntil(pred: () => boolean, maxMs: number, what: string): Promise<void> {
      for (let done = 0; done <= maxMs; done += 250) {
        if (pred()) return;
        clock.advance(250);
        await flush();
      }
      throw new Error(
        `not reached within ${maxMs} ms of clock: ${what}; sequence ${JSON.stringify(s.sequence())}`,
      );
    },
    /** Waits in real time (for a child process) until `pred` holds, flushing promises. */
    async waitReal(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
      const end = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
        await flush();
      }
    },
    async sim(name: 'simulate.power_fail' | 'simulate.power_restore'): Promise<void> {
      await source.command(name, {});
      await flush();
    },
    eventsOf(type: string): Record<string, unknown>[] {
      return events().filter((e) => e.event_type === type);
    },
    results(command: string): Record<string, unknown>[] {
      return pub
        .on(`ups2mqtt/${UPS}/command/${command}/result`)
        .map((m) => JSON.parse(m.payload) as Record<string, unknown>);
    },
    logged(text: string): boolean {
      return lines.some((l) => (l.msg ?? '').includes(text));
    },
    async stop(): Promise<void> {
      await policy?.stop();
      await bridge?.stop();
    },
  };
  return s;
}
