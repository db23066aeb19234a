/**
 * Summaries of bench/side-by-side.ts: per bridge medians over its windows, latency over all
 * its power events, ratios to the cheapest peer (overall and within each interleaved rep),
 * and the Markdown tables docs/benchmarks.md carries.
 */
import { BRIDGES, type BridgeName } from './sbs-bridges.ts';
import type { WindowResult } from './sbs-window.ts';
import { median, percentile } from './stats.ts';

export interface LatencySummary {
  readonly events: number;
  readonly missed: number;
  readonly medianMs: number | null;
  readonly p99Ms: number | null;
}

export interface BridgeSummary {
  readonly bridge: BridgeName;
  readonly label: string;
  readonly windows: number;
  readonly failed: number;
  readonly cpuSPerHour: { readonly median: number | null; readonly each: readonly number[] };
  /**
   * CPU-s/h our measuring set-up added and that a user's install would not have (the
   * apcaccess wrapper of apcupsd2mqtt), subtracted before ratios are taken; 0 otherwise.
   */
  readonly setupOverheadSPerHour: number;
  readonly rssEndMbMedian: number | null;
  readonly rssMaxMb: number | null;
  readonly processesMax: number | null;
  readonly msgsPerMinMedian: number | null;
  readonly bytesPerMinMedian: number | null;
  readonly apcupsdCpuSPerHourMedian: number | null;
  /**
   * What the machine pays while this bridge runs, per window: the bridge (less its set-up
   * overhead) + apcupsd + mosquitto, from the scheduler's ns counters; medians. apcupsd and
   * mosquitto have costs of their own whatever the bridge, the same for every bridge.
   */
  readonly machine: {
    readonly apcupsd: number | null;
    readonly mosquitto: number | null;
    readonly total: number | null;
    /** `total` ÷ the cheapest peer's `total` (the peer cheapest by this figure). */
    readonly ratioToCheapestPeer: number | null;
  };
  /** Simulator change → bridge's MQTT message. */
  readonly detection: LatencySummary;
  /** Simulator change → apcupsd's NIS, measured during this bridge's events. */
  readonly apcupsd: LatencySummary;
  /** Per event, bridge minus apcupsd: what the bridge adds. */
  readonly added: LatencySummary;
  /** CPU median ÷ the cheapest peer's CPU median, both less their set-up overhead. */
  readonly cpuRatioToCheapestPeer: number | null;
  /** The same ratio within each rep (only same-run figures compare on a shared machine). */
  readonly cpuRatioPerRep: readonly (number | null)[];
}

/** CPU-s/h the apcaccess wrapper adds to each apcupsd2mqtt variant (a user's has none). */
export function wrapperOverheads(w: {
  cpuMsPerCallViaWrapper: number;
  cpuMsPerCallDirect: number;
}): Partial<Record<BridgeName, number>> {
  const extraS = Math.max(0, w.cpuMsPerCallViaWrapper - w.cpuMsPerCallDirect) / 1000;
  const perHour = (b: BridgeName): number =>
    Math.round(((extraS * 3600) / BRIDGES[b].intervalS) * 100) / 100;
  return {
    'apcupsd2mqtt-default': perHour('apcupsd2mqtt-default'),
    'apcupsd2mqtt-1s': perHour('apcupsd2mqtt-1s'),
  };
}

const r = (v: number, d = 2): number => Math.round(v * 10 ** d) / 10 ** d;
const med = (xs: readonly number[]): number | null => (xs.length === 0 ? null : r(median(xs)));
const nums = (xs: readonly (number | undefined)[]): number[] =>
  xs.filter((x): x is number => typeof x === 'number');

function latency(values: readonly (number | null)[]): LatencySummary {
  const got = values.filter((v): v is number => v !== null);
  return {
    events: values.length,
    missed: values.length - got.length,
    medianMs: got.length === 0 ? null : r(median(got), 0),
    p99Ms: got.length === 0 ? null : r(percentile(got, 99), 0),
  };
}

/** The peers: what a user would pick instead (not ups2mqtt, not the floor). */
export const PEERS: readonly BridgeName[] = [
  'apcupsd2mqtt-default',
  'apcupsd2mqtt-1s',
  'python-ref',
  'python-published',
];

export function summarize(
  windows: readonly WindowResult[],
  labels: Readonly<Record<BridgeName, string>>,
  order: readonly BridgeName[],
  overheads: Partial<Readonly<Record<BridgeName, number>>> = {},
): { bridges: BridgeSummary[]; cheapestPeer: BridgeName | null } {
  const ok = windows.filter((w) => w.error === undefined);
  const fair = (b: BridgeName, cpu: number | undefined): number | undefined =>
    cpu === undefined ? undefined : Math.max(0, cpu - (overheads[b] ?? 0));
  // The scheduler's ns figure where recorded (finer), else the clock-tick one.
  const cpuOfWindow = (w: WindowResult): number | undefined => w.cpuSPerHourNs ?? w.cpuSPerHour;
  const cpuOf = (b: BridgeName): number[] =>
    nums(ok.filter((w) => w.bridge === b).map((w) => fair(b, cpuOfWindow(w))));
  const rawCpuOf = (b: BridgeName): number[] =>
    nums(ok.filter((w) => w.bridge === b).map(cpuOfWindow));
  // Bridge + apcupsd + mosquitto of one window, where all three were read in ns.
  const machineOfWindow = (w: WindowResult): number | undefined => {
    const own = fair(w.bridge as BridgeName, w.cpuSPerHourNs);
    if (own === undefined) return undefined;
    if (w.apcupsdCpuSPerHourNs === undefined || w.mosquittoCpuSPerHourNs === undefined) {
      return undefined;
    }
    return r(own + w.apcupsdCpuSPerHourNs + w.mosquittoCpuSPerHourNs);
  };
  const machineOf = (b: BridgeName): number[] =>
    nums(ok.filter((w) => w.bridge === b).map(machineOfWindow));
  const peers = PEERS.filter((p) => cpuOf(p).length > 0);
  const machinePeers = nums(PEERS.map((p) => med(machineOf(p)) ?? undefined));
  const cheapestMachine = machinePeers.length === 0 ? null : Math.min(...machinePeers);
  const cheapestPeer =
    peers.length === 0
      ? null
      : peers.reduce((best, p) =>
          (med(cpuOf(p)) ?? Infinity) < (med(cpuOf(best)) ?? Infinity) ? p : best,
        );
  const reps = [...new Set(windows.map((w) => w.rep))].sort((a, b) => a - b);
  const cpuOfWindowIn = (b: BridgeName, rep: number): number | undefined => {
    const w = ok.find((x) => x.bridge === b && x.rep === rep);
    return w === undefined ? undefined : cpuOfWindow(w);
  };
  const cpuIn = (b: BridgeName, rep: number): number | undefined => fair(b, cpuOfWindowIn(b, rep));
  const bridges = order.map((bridge): BridgeSummary => {
    const mine = ok.filter((w) => w.bridge === bridge);
    const events = mine.flatMap((w) => w.events ?? []);
    const cpu = cpuOf(bridge);
    const machineTotal = med(machineOf(bridge));
    const cheapest = cheapestPeer === null ? null : med(cpuOf(cheapestPeer));
    return {
      bridge,
      label: labels[bridge],
      windows: mine.length,
      failed: windows.filter((w) => w.bridge === bridge && w.error !== undefined).length,
      cpuSPerHour: { median: med(rawCpuOf(bridge)), each: rawCpuOf(bridge) },
      setupOverheadSPerHour: overheads[bridge] ?? 0,
      rssEndMbMedian: med(nums(mine.map((w) => w.rssEndMb))),
      rssMaxMb: mine.length === 0 ? null : Math.max(...nums(mine.map((w) => w.rssMaxMb))),
      processesMax: mine.length === 0 ? null : Math.max(...nums(mine.map((w) => w.processesMax))),
      msgsPerMinMedian: med(nums(mine.map((w) => w.msgsPerMin))),
      bytesPerMinMedian: med(nums(mine.map((w) => w.bytesPerMin))),
      apcupsdCpuSPerHourMedian: med(nums(mine.map((w) => w.apcupsdCpuSPerHour))),
      machine: {
        apcupsd: med(nums(mine.map((w) => w.apcupsdCpuSPerHourNs))),
        mosquitto: med(nums(mine.map((w) => w.mosquittoCpuSPerHourNs))),
        total: machineTotal,
        ratioToCheapestPeer:
          cheapestMachine === null || !(cheapestMachine > 0) || machineTotal === null
            ? null
            : r(machineTotal / cheapestMachine),
      },
      detection: latency(events.map((e) => e.bridgeMs)),
      apcupsd: latency(events.map((e) => e.apcupsdMs)),
      added: latency(
        events.map((e) =>
          e.bridgeMs === null || e.apcupsdMs === null ? null : e.bridgeMs - e.apcupsdMs,
        ),
      ),
      cpuRatioToCheapestPeer:
        cheapest === null || cheapest <= 0 || med(cpu) === null
          ? null
          : r((med(cpu) as number) / cheapest),
      cpuRatioPerRep: reps.map((rep) => {
        const mineRep = cpuIn(bridge, rep);
        const peerRep = nums(peers.map((p) => cpuIn(p, rep)));
        const least = Math.min(...peerRep);
        return mineRep === undefined || !(least > 0) ? null : r(mineRep / least);
      }),
    };
  });
  return { bridges, cheapestPeer };
}

const cell = (v: number | null | undefined, unit = ''): string =>
  v === null || v === undefined ? '–' : `${v}${unit}`;

/** The tables of docs/benchmarks.md's "Side by side" section. */
export function markdownTables(
  bridges: readonly BridgeSummary[],
  cheapestPeer: BridgeName | null,
): string {
  const lines: string[] = [];
  lines.push(
    `| Bridge | CPU-s/h median | each window | set-up overhead | × cheapest peer (${cheapestPeer ?? '–'}) | × per rep | apcupsd's CPU-s/h |`,
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const b of bridges) {
    lines.push(
      `| ${b.label} | ${cell(b.cpuSPerHour.median)} | ${b.cpuSPerHour.each.join(', ') || '–'} | ${b.setupOverheadSPerHour > 0 ? `−${r(b.setupOverheadSPerHour)}` : '–'} | ${cell(b.cpuRatioToCheapestPeer)} | ${b.cpuRatioPerRep.map((x) => cell(x)).join(', ')} | ${cell(b.apcupsdCpuSPerHourMedian)} |`,
    );
  }
  lines.push(
    '',
    '| Bridge | RSS at end, median (MiB) | RSS max (MiB) | processes max | MQTT msgs/min | MQTT bytes/min |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const b of bridges) {
    lines.push(
      `| ${b.label} | ${cell(b.rssEndMbMedian)} | ${cell(b.rssMaxMb)} | ${cell(b.processesMax)} | ${cell(b.msgsPerMinMedian)} | ${cell(b.bytesPerMinMedian)} |`,
    );
  }
  if (bridges.some((b) => b.machine.total !== null)) {
    lines.push(
      '',
      '| Bridge | the bridge | + apcupsd | + mosquitto | = the machine, CPU-s/h median | × cheapest peer |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const b of bridges) {
      if (b.machine.total === null) continue;
      lines.push(
        `| ${b.label} | ${cell(b.cpuSPerHour.median)} | ${cell(b.machine.apcupsd)} | ${cell(b.machine.mosquitto)} | ${cell(b.machine.total)} | ${cell(b.machine.ratioToCheapestPeer)} |`,
      );
    }
  }
  lines.push(
    '',
    '| Bridge | events (missed) | detection median / p99 (ms) | apcupsd alone median / p99 (ms) | added by the bridge median / p99 (ms) |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const b of bridges) {
    if (b.detection.events === 0) continue;
    lines.push(
      `| ${b.label} | ${b.detection.events} (${b.detection.missed}) | ${cell(b.detection.medianMs)} / ${cell(b.detection.p99Ms)} | ${cell(b.apcupsd.medianMs)} / ${cell(b.apcupsd.p99Ms)} | ${cell(b.added.medianMs)} / ${cell(b.added.p99Ms)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
