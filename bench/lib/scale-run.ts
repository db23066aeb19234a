/**
 * One measured run of bench/scale.ts: a fresh broker, fleet and bridge; wait until every
 * endpoint has published (or a deadline passes), warm up, then measure a steady window.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startMosquitto } from '../../test/helpers/mosquitto.ts';
import type { ProcessRegistry } from '../../test/helpers/process.ts';
import {
  type BridgeLaunchOptions,
  parseVariant,
  spawnBridge,
  variantNodeArgs,
} from './bridge-process.ts';
import { monoMs, sinceStamp, sleep, withDeadline } from './clock.ts';
import {
  asCpuProfile,
  type CallerChain,
  callersOf,
  type ProfileSummary,
  summarizeProfile,
} from './cpuprofile.ts';
import { FakeFleet } from './fleet.ts';
import {
  type CpuTicks,
  cpuSecondsBetween,
  readCpuTicks,
  readMachineTicks,
  readMemory,
} from './procfs.ts';
import { round, roundSummary, type Summary, summarize } from './stats.ts';
import { TimedSubscriber } from './subscriber.ts';

/**
 * - `changing`: LINEV carries the reply time, so every poll publishes a state (and the delay
 *   can be measured); DATE is re-stamped each reply too, as a busy apcupsd does.
 * - `static`: nothing changes between replies (DATE frozen as well), so the bridge only
 *   polls and publishes a heartbeat once a minute.
 */
export type ValueMode = 'changing' | 'static';

/** Settings shared by every run. */
export interface ScaleSettings {
  readonly intervalS: number;
  readonly warmupS: number;
  readonly windowS: number;
  readonly rssEveryS: number;
  readonly readyTimeoutS: number;
  readonly ticksPerS: number;
  readonly homeassistant: boolean;
  readonly values: ValueMode;
  /** The config variant: `default`, or settings as in {@link parseVariant}. */
  readonly variant?: string;
  /** How the CLI is started (default: src through tsx). */
  readonly entry?: BridgeLaunchOptions['entry'];
}

/** What one run measured. */
export interface RunResult {
  readonly count: number;
  readonly rep: number;
  readonly values: ValueMode;
  /** The config variant of the run (`default` = as shipped). */
  readonly variant: string;
  /** Spawn → every endpoint's first state at the subscriber (null: not all got there). */
  readonly allPublishedAfterS: number | null;
  readonly windowS: number;
  /** Bridge CPU (utime + stime, all threads) in the window, as a fraction of one core. */
  readonly cpuFraction: number;
  readonly cpuPerUpsPct: number;
  /** Bridge CPU per poll actually made (ms): fair when some endpoints froze. */
  readonly cpuMsPerPoll: number;
  readonly fleetCpuFraction: number;
  readonly mosquittoCpuFraction: number;
  readonly rssStartMb: number;
  readonly rssEndMb: number;
  readonly rssMaxMb: number;
  /** `status` requests per second the fleet answered (ideal: count / interval). */
  readonly pollsPerS: number;
  readonly statesPerS: number;
  /** Endpoints the bridge did not poll at all during the window. */
  readonly frozenEndpoints: number;
  /** Endpoints whose state never reached the subscriber before the window. */
  readonly neverPublished: number;
  /** Reply built at a fake server → state at the subscriber; null without changing values. */
  readonly pollToPublishMs: Summary | null;
  /**
   * When in the poll cycle the replies were built: counts per twentieth of the interval
   * (by the monotonic clock). Even counts mean polls spread over the cycle; a few full
   * slots mean every endpoint is polled in one burst.
   */
  readonly replyPhase: readonly number[];
  /** The worst poll→publish delay per twentieth of the cycle (ms), null where empty. */
  readonly maxDelayByPhase: readonly (number | null)[];
  /** 1-minute load average at the end: how busy the shared box was. */
  readonly loadAvg1: number;
  /** CPU cores busy machine-wide during the window (everything: bridge, fleet, others). */
  readonly machineBusyCores: number;
  /** Cores' worth of time the hypervisor took away during the window (steal). */
  readonly stealCores: number;
}

/** A profiled run adds the profile summary and the callers of its costliest frames. */
export interface ProfiledResult extends RunResult {
  readonly profile: ProfileSummary | null;
  readonly callers: Readonly<Record<string, readonly CallerChain[]>>;
  readonly exit: string;
}

/** Slots of the poll cycle in {@link RunResult.replyPhase}. */
const PHASE_SLOTS = 20;

const VOLTAGE = /"input_voltage_v":(-?\d+(?:\.\d+)?)/;

/** The UPS id of endpoint `index` (`ups0001`, ...). */
export function upsId(index: number): string {
  return `ups${String(index + 1).padStart(4, '0')}`;
}

type Pids = { bridge: number; fleet: number; broker: number };

function readAll(pids: Pids): Record<keyof Pids, CpuTicks> {
  return {
    bridge: readCpuTicks(pids.bridge),
    fleet: readCpuTicks(pids.fleet),
    broker: readCpuTicks(pids.broker),
  };
}

function mb(kb: number): number {
  return round(kb / 1024, 1);
}

/** Runs once; with `profileDir` the bridge runs under `--cpu-prof` writing there. */
export async function scaleRun(
  registry: ProcessRegistry,
  s: ScaleSettings,
  count: number,
  rep: number,
  profileDir?: string,
): Promise<RunResult | ProfiledResult> {
  const broker = await startMosquitto({ registry });
  const changing = s.values === 'changing';
  const fleet = registry.track(
    new FakeFleet({ count, stampLineV: changing, liveTimestamps: changing }),
  );
  const subscriber = registry.track(new TimedSubscriber());
  try {
    const ports = await fleet.start();
    await subscriber.start(broker.url, ['ups2mqtt/+/state']);
    const seen = new Set<string>();
    let measuring = false;
    let states = 0;
    const delays: number[] = [];
    const periodMs = s.intervalS * 1000;
    const phase = new Array<number>(PHASE_SLOTS).fill(0);
    const worst = new Array<number | null>(PHASE_SLOTS).fill(null);
    let allSeen: () => void = () => {};
    const allSeenPromise = new Promise<void>((resolve) => {
      allSeen = resolve;
    });
    subscriber.onMessage = (m) => {
      if (seen.size < count) {
        seen.add(m.topic);
        if (seen.size === count) allSeen();
      }
      if (!measuring) return;
      states += 1;
      const stamp = VOLTAGE.exec(m.payload.toString('latin1'))?.[1];
      if (!changing || stamp === undefined) return;
      const delay = sinceStamp(Number(stamp), m.receivedAt);
      delays.push(delay);
      // The stamp is monotonic ms modulo 100 s, a whole number of poll periods for 1 s or 0.1 s.
      const slot = Math.min(
        PHASE_SLOTS - 1,
        Math.floor(((Number(stamp) % periodMs) / periodMs) * PHASE_SLOTS),
      );
      phase[slot] = (phase[slot] ?? 0) + 1;
      worst[slot] = Math.max(worst[slot] ?? 0, delay);
    };
    const bridge = await spawnBridge({
      upses: ports.map((port, i) => ({ id: upsId(i), port, pollIntervalS: s.intervalS })),
      mqttUrl: broker.url,
      registry,
      homeassistant: s.homeassistant,
      overrides: parseVariant(s.variant ?? 'default'),
      ...(s.entry === undefined ? {} : { entry: s.entry }),
      nodeArgs: [
        ...variantNodeArgs(s.variant ?? 'default'),
        ...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]),
      ],
    });
    try {
      // A bridge that freezes endpoints (docs/benchmarks.md, "Frozen endpoints") never gets
      // there; the run goes on and reports how many never published.
      const ready = await withDeadline(allSeenPromise, s.readyTimeoutS * 1000, 'first states').then(
        () => true,
        () => false,
      );
      const allPublishedAfterS = ready ? round((monoMs() - bridge.spawnedAt) / 1000) : null;
      const neverPublished = count - seen.size;
      await sleep(s.warmupS * 1000);

      const pids = {
        bridge: bridge.proc.pid,
        fleet: fleet.process?.pid ?? 0,
        broker: broker.proc.pid,
      };
      const cpu0 = readAll(pids);
      const machine0 = readMachineTicks();
      const before = await fleet.counts();
      const t0 = monoMs();
      measuring = true;
      const rss: number[] = [readMemory(pids.bridge).rssKb];
      const windowEnd = t0 + s.windowS * 1000;
      while (monoMs() < windowEnd) {
        await sleep(Math.min(s.rssEveryS * 1000, Math.max(0, windowEnd - monoMs())));
        rss.push(readMemory(pids.bridge).rssKb);
      }
      measuring = false;
      const t1 = monoMs();
      const cpu1 = readAll(pids);
      const machine1 = readMachineTicks();
      const after = await fleet.counts();
      const seconds = (t1 - t0) / 1000;
      const frac = (k: keyof Pids): number =>
        cpuSecondsBetween(cpu0[k], cpu1[k], s.ticksPerS) / seconds;
      const result: RunResult = {
        count,
        rep,
        values: s.values,
        variant: s.variant ?? 'default',
        allPublishedAfterS,
        windowS: round(seconds),
        cpuFraction: round(frac('bridge'), 4),
        cpuPerUpsPct: round((frac('bridge') / count) * 100, 4),
        cpuMsPerPoll: round(
          (cpuSecondsBetween(cpu0.bridge, cpu1.bridge, s.ticksPerS) * 1000) /
            Math.max(1, after.status - before.status),
          4,
        ),
        fleetCpuFraction: round(frac('fleet'), 4),
        mosquittoCpuFraction: round(frac('broker'), 4),
        rssStartMb: mb(rss[0] ?? 0),
        rssEndMb: mb(rss.at(-1) ?? 0),
        rssMaxMb: mb(Math.max(...rss)),
        pollsPerS: round((after.status - before.status) / seconds),
        statesPerS: round(states / seconds),
        frozenEndpoints: after.statusPerServer.filter((n, i) => n === before.statusPerServer[i])
          .length,
        neverPublished,
        pollToPublishMs: delays.length > 0 ? roundSummary(summarize(delays)) : null,
        replyPhase: phase,
        maxDelayByPhase: worst.map((w) => (w === null ? null : round(w, 1))),
        loadAvg1: round(Number((await readFile('/proc/loadavg', 'utf8')).split(' ')[0])),
        machineBusyCores: round((machine1.busy - machine0.busy) / s.ticksPerS / seconds, 3),
        stealCores: round((machine1.steal - machine0.steal) / s.ticksPerS / seconds, 3),
      };
      await bridge.stop();
      if (profileDir === undefined) return result;
      return {
        ...result,
        ...(await readProfile(profileDir)),
        exit: JSON.stringify(bridge.proc.exitInfo()),
      };
    } finally {
      await bridge.stop();
    }
  } finally {
    await subscriber.stop();
    await fleet.stop();
    await broker.stop();
  }
}

/** Frames whose callers are worth showing: the costliest ones that are not idle. */
const SKIP_CALLERS = new Set(['(idle)', '(garbage collector)', '(program)']);

async function readProfile(dir: string): Promise<Pick<ProfiledResult, 'profile' | 'callers'>> {
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread (the
  // other one is tsx's module-loader worker, idle once the modules are loaded).
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) =>
    /\.\d+\.0\.\d+\.cpuprofile$/.test(f),
  );
  const file = files.sort().at(-1);
  if (file === undefined) return { profile: null, callers: {} };
  const raw = asCpuProfile(JSON.parse(await readFile(join(dir, file), 'utf8')));
  const profile = summarizeProfile(raw, 25);
  const callers: Record<string, CallerChain[]> = {};
  for (const f of profile.functions.filter((e) => !SKIP_CALLERS.has(e.name)).slice(0, 4)) {
    const bare = f.name.split(' ')[0] ?? f.name;
    callers[f.name] = callersOf(raw, bare, 4, 3, true);
  }
  return { profile, callers };
}
