/**
 * One measured window of bench/side-by-side.ts: one bridge alone against the shared
 * apcupsd (fed by the Smart-UPS simulator) and mosquitto. Start, wait for its first message,
 * warm up, then a steady-state window with no power events (CPU of the whole process tree,
 * RSS, MQTT traffic), then power events timed at apcupsd's NIS and at the bridge's MQTT
 * message, then a polite stop.
 */
import { nisStatus } from '../../test/helpers/apcupsd.ts';
import type { ManagedProcess } from '../../test/helpers/process.ts';
import type { SmartUpsSimulator } from '../../test/helpers/smart-ups-sim/simulator.ts';
import { stopPolitely } from './bridge-process.ts';
import { monoMs, sleep } from './clock.ts';
import { cpuSecondsBetween, readCpuTicks, readMachineTicks } from './procfs.ts';
import { sampleTree, type TreeSample, treeCpuNs } from './proctree.ts';
import type { BridgeSpec, LaunchContext, Power } from './sbs-bridges.ts';
import type { TimedMessage, TimedSubscriber } from './subscriber.ts';

/** One power event: mains failed (`battery`) or returned (`line`) on the simulator. */
export interface EventSample {
  readonly to: Power;
  /** Simulator change → apcupsd's NIS `status` showing it (polled every 20 ms), ms. */
  readonly apcupsdMs: number | null;
  /** Simulator change → the bridge's MQTT message showing it, at our subscriber, ms. */
  readonly bridgeMs: number | null;
}

export interface WindowResult {
  readonly rep: number;
  readonly bridge: string;
  readonly startedAt: string;
  readonly error?: string;
  readonly windowS?: number;
  /** CPU of the bridge's process tree in the window, as CPU-seconds per hour (clock ticks). */
  readonly cpuSPerHour?: number;
  /** The same from the scheduler's ns counters (see proctree.ts treeCpuNs); preferred. */
  readonly cpuSPerHourNs?: number;
  readonly rssEndMb?: number;
  readonly rssMaxMb?: number;
  readonly processesMax?: number;
  readonly msgsPerMin?: number;
  readonly bytesPerMin?: number;
  readonly topics?: number;
  /** apcupsd's and mosquitto's own CPU in the same window (they work for the bridge too). */
  readonly apcupsdCpuSPerHour?: number;
  readonly mosquittoCpuSPerHour?: number;
  /** The same two from the scheduler's ns counters (ticks are 0.6 CPU-s/h in a 60 s window). */
  readonly apcupsdCpuSPerHourNs?: number;
  readonly mosquittoCpuSPerHourNs?: number;
  /** Machine-wide busy cores in the window (other sessions included): the noise level. */
  readonly machineBusyCores?: number;
  readonly events?: readonly EventSample[];
}

export interface WindowSettings {
  readonly warmupS: number;
  readonly windowS: number;
  readonly events: number;
  readonly ticksPerSecond: number;
}

export interface SharedRig {
  readonly ctx: LaunchContext;
  readonly sim: SmartUpsSimulator;
  readonly subscriber: TimedSubscriber;
  readonly apcupsdPid: number;
  readonly mosquittoPid: number;
}

const r = (v: number, d = 2): number => Math.round(v * 10 ** d) / 10 ** d;

async function apcupsdShows(nisPort: number, to: Power, timeoutMs: number): Promise<boolean> {
  const deadline = monoMs() + timeoutMs;
  while (monoMs() < deadline) {
    const status = (await nisStatus(nisPort, 2000).catch(() => undefined))?.get('STATUS');
    if (status !== undefined && (to === 'battery') === /\bONBATT\b/.test(status)) {
      if (to === 'battery' || /\bONLINE\b/.test(status)) return true;
    }
    await sleep(20);
  }
  return false;
}

/** Runs one window; never throws (a failure is recorded in `error`). */
export async function runWindow(
  rig: SharedRig,
  bridge: BridgeSpec,
  rep: number,
  s: WindowSettings,
  log: (line: string) => void,
): Promise<WindowResult> {
  const startedAt = new Date().toISOString();
  let proc: ManagedProcess | undefined;
  let counting = false;
  let msgs = 0;
  let bytes = 0;
  const topics = new Set<string>();
  let firstOwn: (() => void) | undefined;
  rig.subscriber.onMessage = (m: TimedMessage) => {
    if (!bridge.ownsTopic(m.topic)) return;
    firstOwn?.();
    if (!counting) return;
    msgs += 1;
    bytes += Buffer.byteLength(m.topic) + m.payload.length;
    topics.add(m.topic);
  };
  try {
    rig.sim.model.restoreMains();
    if (!(await apcupsdShows(rig.ctx.nisPort, 'line', 15_000)))
      throw new Error('apcupsd not ONLINE');
    proc = await bridge.start(rig.ctx);
    const running = proc;
    if (bridge.mqtt) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no MQTT message within 30 s')), 30_000);
        firstOwn = () => {
          clearTimeout(timer);
          resolve();
        };
        void running.exited.then(() =>
          reject(new Error(`exited: ${running.output().slice(-2000)}`)),
        );
      });
      firstOwn = undefined;
    }
    await sleep(s.warmupS * 1000);
    // Steady state: no power events, values unchanged but for what apcupsd itself varies.
    let rssMaxKb = 0;
    let processesMax = 0;
    const sampleRss = (): TreeSample => {
      const t = sampleTree(running.pid);
      rssMaxKb = Math.max(rssMaxKb, t.rssKb);
      processesMax = Math.max(processesMax, t.processes);
      return t;
    };
    const n0 = treeCpuNs(running.pid, s.ticksPerSecond);
    const t0 = sampleRss();
    const a0 = readCpuTicks(rig.apcupsdPid);
    const m0 = readCpuTicks(rig.mosquittoPid);
    const an0 = treeCpuNs(rig.apcupsdPid, s.ticksPerSecond);
    const mn0 = treeCpuNs(rig.mosquittoPid, s.ticksPerSecond);
    const k0 = readMachineTicks();
    const w0 = monoMs();
    counting = true;
    const rssTimer = setInterval(() => {
      if (running.running()) sampleRss();
    }, 2000);
    await sleep(s.windowS * 1000);
    clearInterval(rssTimer);
    counting = false;
    const elapsedS = (monoMs() - w0) / 1000;
    const t1 = sampleRss();
    const n1 = treeCpuNs(running.pid, s.ticksPerSecond);
    const a1 = readCpuTicks(rig.apcupsdPid);
    const m1 = readCpuTicks(rig.mosquittoPid);
    const an1 = treeCpuNs(rig.apcupsdPid, s.ticksPerSecond);
    const mn1 = treeCpuNs(rig.mosquittoPid, s.ticksPerSecond);
    const k1 = readMachineTicks();
    if (!running.running())
      throw new Error(`exited in the window: ${running.output().slice(-2000)}`);
    const perHour = (cpuS: number): number => r((cpuS / elapsedS) * 3600);
    const totalTicks = k1.busy + k1.idle - k0.busy - k0.idle;
    const nproc = (await import('node:os')).cpus().length;
    const base: WindowResult = {
      rep,
      bridge: bridge.name,
      startedAt,
      windowS: r(elapsedS, 1),
      cpuSPerHour: perHour((t1.cpuTicks - t0.cpuTicks) / s.ticksPerSecond),
      cpuSPerHourNs: perHour((n1 - n0) / 1e9),
      rssEndMb: r(t1.rssKb / 1024, 1),
      rssMaxMb: r(rssMaxKb / 1024, 1),
      processesMax,
      msgsPerMin: r((msgs / elapsedS) * 60, 1),
      bytesPerMin: Math.round((bytes / elapsedS) * 60),
      topics: topics.size,
      apcupsdCpuSPerHour: perHour(cpuSecondsBetween(a0, a1, s.ticksPerSecond)),
      mosquittoCpuSPerHour: perHour(cpuSecondsBetween(m0, m1, s.ticksPerSecond)),
      apcupsdCpuSPerHourNs: perHour((an1 - an0) / 1e9),
      mosquittoCpuSPerHourNs: perHour((mn1 - mn0) / 1e9),
      machineBusyCores: totalTicks > 0 ? r(((k1.busy - k0.busy) / totalTicks) * nproc) : 0,
    };
    log(
      `  ${bridge.name}: ${base.cpuSPerHourNs} CPU-s/h (${base.cpuSPerHour} by ticks), RSS ${base.rssEndMb} MiB (max ${base.rssMaxMb}), ` +
        `${base.msgsPerMin} msgs/min, ${base.bytesPerMin} B/min, machine ${base.machineBusyCores} cores busy`,
    );
    const events = bridge.mqtt ? await powerEvents(rig, bridge, s.events, running) : [];
    if (events.length > 0) {
      const fmt = (v: number | null): string => (v === null ? 'missed' : v.toFixed(0));
      log(
        `  events (apcupsd/bridge ms): ${events.map((e) => `${fmt(e.apcupsdMs)}/${fmt(e.bridgeMs)}`).join(' ')}`,
      );
    }
    return { ...base, events };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    log(`  ${bridge.name}: FAILED: ${error}`);
    return { rep, bridge: bridge.name, startedAt, error };
  } finally {
    rig.subscriber.onMessage = () => {};
    rig.sim.model.restoreMains();
    if (proc !== undefined) await stopPolitely(proc, 5000);
  }
}

/** Alternates mains failure and return `count` times, each at a random phase of the poll. */
async function powerEvents(
  rig: SharedRig,
  bridge: BridgeSpec,
  count: number,
  proc: ManagedProcess,
): Promise<EventSample[]> {
  const out: EventSample[] = [];
  const timeoutMs = bridge.intervalS * 2000 + 10_000;
  for (let i = 0; i < count && proc.running(); i++) {
    const to: Power = i % 2 === 0 ? 'battery' : 'line';
    await sleep(300 + Math.random() * bridge.intervalS * 1000);
    const seen = rig.subscriber
      .waitFor((m) => bridge.power(m.topic, m.payload) === to, timeoutMs)
      .then((m) => m.receivedAt)
      .catch(() => null);
    const t0 = monoMs();
    if (to === 'battery') rig.sim.model.failMains();
    else rig.sim.model.restoreMains();
    const [apcupsdAt, bridgeAt] = await Promise.all([
      apcupsdShows(rig.ctx.nisPort, to, timeoutMs).then((ok) => (ok ? monoMs() : null)),
      seen,
    ]);
    out.push({
      to,
      apcupsdMs: apcupsdAt === null ? null : r(apcupsdAt - t0, 1),
      bridgeMs: bridgeAt === null ? null : r(bridgeAt - t0, 1),
    });
  }
  return out;
}
