/**
 * Is the bridge's memory flat over 100,000 polls?
 *
 * Default: 100 NIS endpoints polled every 0.1 s — 1,000 polls/s, the same rate as 1,000
 * endpoints at 1 s, so 100,000 polls take about 100 s either way, but the per-UPS baseline is
 * ten times smaller and growth per poll stands out more. Every reply carries a new LINEV
 * (and DATE), so every poll also builds, compares and publishes a state. The bridge runs
 * with `--trace-gc`; every few seconds the script samples its RSS (/proc/<pid>/status) and
 * the heap left after the latest full (Mark-Compact) garbage collection, until the fake servers have answered
 * `--polls` status requests. It reports first/last/max and the least-squares slope after the
 * warm-up, per 1,000 polls and extrapolated per hour.
 *
 *   node --import tsx bench/memory.ts [--endpoints 100] [--interval 0.1] [--polls 100000]
 */
import { startMosquitto } from '../test/helpers/mosquitto.ts';
import type { ProcessRegistry } from '../test/helpers/process.ts';
import { spawnBridge } from './lib/bridge-process.ts';
import { monoMs, sleep } from './lib/clock.ts';
import { type FlagSpec, flagHelp, parseFlags } from './lib/flags.ts';
import { FakeFleet } from './lib/fleet.ts';
import { readMemory } from './lib/procfs.ts';
import { machineFacts, writeResults } from './lib/results.ts';
import { runBench, say } from './lib/run.ts';
import { fitLine, round } from './lib/stats.ts';
import { TimedSubscriber } from './lib/subscriber.ts';
import { busiestIsolate, type GcEvent, parseTraceGc } from './lib/trace-gc.ts';

const FLAGS: Record<string, FlagSpec> = {
  endpoints: { default: '100', help: 'number of fake NIS endpoints' },
  interval: { default: '0.1', help: 'poll interval in seconds' },
  polls: {
    default: '100000',
    help: 'status requests the fake servers must answer before stopping',
  },
  'sample-every': { default: '2', help: 'seconds between samples' },
  http: { default: 'on', help: 'the HTTP status endpoint (and its chart history): on or off' },
  warmup: { default: '20', help: 'seconds excluded from the slope (start-up, JIT, first GCs)' },
  out: { default: 'memory', help: 'results file name under bench/results/' },
};

/** One sample. */
interface Sample {
  /** Seconds since the bridge was spawned. */
  t: number;
  /** Status requests served so far. */
  polls: number;
  rssMb: number;
  /**
   * Heap used after the latest GC of any kind (MB). Kept in the samples only: after a
   * scavenge it still counts old-space garbage, so it saw-tooths between full GCs.
   */
  heapAfterGcMb: number | null;
  /** Heap used after the latest full (Mark-Compact) GC (MB). */
  heapAfterFullGcMb: number | null;
  statesReceived: number;
}

/** First/last/max of one series and its slope after the warm-up. */
interface SeriesReport {
  first: number;
  last: number;
  max: number;
  /** Least-squares slope after warm-up, MB per 1,000 polls, and its standard error. */
  slopeMbPer1000Polls: number | null;
  slopeStdErr: number | null;
  /** The slope as MB per hour at the measured poll rate (an extrapolation: see verdict). */
  slopeMbPerHour: number | null;
  /**
   * `flat` when the slope is within two standard errors of zero, `growing`/`shrinking`
   * otherwise; `unknown` with too few samples.
   */
  verdict: 'flat' | 'growing' | 'shrinking' | 'unknown';
}

function report(
  samples: readonly Sample[],
  pick: (s: Sample) => number | null,
  warmupS: number,
  pollsPerS: number,
): SeriesReport | null {
  const values = samples.flatMap((s) => {
    const v = pick(s);
    return v === null ? [] : [{ s, v }];
  });
  const first = values[0];
  const last = values.at(-1);
  if (first === undefined || last === undefined) return null;
  const steady = values
    .filter(({ s }) => s.t >= warmupS)
    .map(({ s, v }) => [s.polls / 1000, v] as const);
  const fit = new Set(steady.map(([x]) => x)).size >= 3 ? fitLine(steady) : null;
  let verdict: SeriesReport['verdict'] = 'unknown';
  if (fit !== null) {
    if (Math.abs(fit.slope) <= 2 * fit.slopeStdErr) verdict = 'flat';
    else verdict = fit.slope > 0 ? 'growing' : 'shrinking';
  }
  return {
    first: first.v,
    last: last.v,
    max: Math.max(...values.map(({ v }) => v)),
    slopeMbPer1000Polls: fit === null ? null : round(fit.slope, 4),
    slopeStdErr: fit === null ? null : round(fit.slopeStdErr, 4),
    slopeMbPerHour: fit === null ? null : round(fit.slope * pollsPerS * 3.6, 1),
    verdict,
  };
}

function latestHeap(
  events: readonly GcEvent[],
  isolate: string | undefined,
  kind?: GcEvent['kind'],
): number | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e === undefined || e.isolate !== isolate) continue;
    if (kind === undefined || e.kind === kind) return e.usedAfterMb;
  }
  return null;
}

async function main(registry: ProcessRegistry): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), FLAGS);
  if (flags.help) {
    say(flagHelp('memory', 'Bridge RSS and heap over many polls with changing values.', FLAGS));
    return;
  }
  const endpoints = Math.round(flags.number('endpoints'));
  const intervalS = flags.number('interval');
  const targetPolls = Math.round(flags.number('polls'));
  const everyS = flags.number('sample-every');
  const warmupS = flags.number('warmup', true);
  const http = flags.choices('http', ['on', 'off'] as const)[0] === 'on';
  const machine = machineFacts();
  say(
    `memory: ${endpoints} endpoints every ${intervalS} s until ${targetPolls} polls; sample every ${everyS} s`,
  );

  const broker = await startMosquitto({ registry });
  const fleet = registry.track(new FakeFleet({ count: endpoints, stampLineV: true }));
  const ports = await fleet.start();
  const subscriber = registry.track(new TimedSubscriber());
  await subscriber.start(broker.url, ['ups2mqtt/+/state']);
  let states = 0;
  subscriber.onMessage = () => {
    states += 1;
  };
  const bridge = await spawnBridge({
    upses: ports.map((port, i) => ({
      id: `mem${String(i + 1).padStart(4, '0')}`,
      port,
      pollIntervalS: intervalS,
    })),
    mqttUrl: broker.url,
    registry,
    http,
    // GC lines go to stdout; the process ring keeps the latest 256 KiB of them.
    nodeArgs: ['--trace-gc'],
  });
  const samples: Sample[] = [];
  let isolate: string | undefined;
  // Per-endpoint request counts at the first sample after the warm-up, to spot endpoints the
  // bridge stopped polling (docs/benchmarks.md, "Frozen endpoints").
  let afterWarmup: readonly number[] | undefined;
  let frozen = 0;
  try {
    const expectedS = targetPolls / (endpoints / intervalS);
    const deadline = monoMs() + Math.max(120, expectedS * 3) * 1000;
    for (;;) {
      await sleep(everyS * 1000);
      if (!bridge.proc.running())
        throw new Error(`the bridge exited:\n${bridge.proc.output().slice(-3000)}`);
      const counts = await fleet.counts();
      const events = parseTraceGc(bridge.proc.output());
      isolate ??= busiestIsolate(events);
      const sample: Sample = {
        t: round((monoMs() - bridge.spawnedAt) / 1000),
        polls: counts.status,
        rssMb: round(readMemory(bridge.proc.pid).rssKb / 1024, 1),
        heapAfterGcMb: latestHeap(events, isolate),
        heapAfterFullGcMb: latestHeap(events, isolate, 'mark-compact'),
        statesReceived: states,
      };
      samples.push(sample);
      const base = afterWarmup;
      if (base !== undefined)
        frozen = counts.statusPerServer.filter((n, i) => n === base[i]).length;
      else if (sample.t >= warmupS) afterWarmup = counts.statusPerServer;
      say(
        `  t=${String(sample.t).padStart(6)} s  polls ${String(sample.polls).padStart(7)}  RSS ${sample.rssMb} MB` +
          `  heap after GC ${sample.heapAfterGcMb ?? '–'} MB  after full GC ${sample.heapAfterFullGcMb ?? '–'} MB  states ${states}`,
      );
      if (counts.status >= targetPolls) break;
      if (monoMs() > deadline) throw new Error(`only ${counts.status} polls before the deadline`);
    }
  } finally {
    await bridge.stop();
  }
  const last = samples.at(-1);
  const first = samples[0];
  const pollsPerS =
    last !== undefined && first !== undefined && last.t > first.t
      ? (last.polls - first.polls) / (last.t - first.t)
      : 0;
  const rss = report(samples, (s) => s.rssMb, warmupS, pollsPerS);
  const fullHeap = report(samples, (s) => s.heapAfterFullGcMb, warmupS, pollsPerS);
  say(
    `polls/s ${round(pollsPerS)}; states received ${states}; endpoints not polled after the warm-up: ${frozen}`,
  );
  for (const [name, r] of [
    ['RSS', rss],
    ['heap after full GC', fullHeap],
  ] as const) {
    if (r === null) {
      say(`  ${name}: no data`);
      continue;
    }
    say(
      `  ${name}: first ${r.first} MB, last ${r.last} MB, max ${r.max} MB;` +
        ` slope after ${warmupS} s: ${r.slopeMbPer1000Polls ?? '–'} ± ${r.slopeStdErr ?? '–'} (1 SE) MB per 1,000 polls` +
        ` (${r.slopeMbPerHour ?? '–'} MB/h at this rate) → ${r.verdict}`,
    );
  }
  const file = writeResults(flags.text('out'), {
    benchmark: 'memory',
    command: `node --import tsx bench/memory.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    settings: {
      endpoints,
      intervalS,
      targetPolls,
      everyS,
      warmupS,
      bridgeNodeArgs: ['--trace-gc'],
    },
    pollsPerS: round(pollsPerS),
    statesReceived: states,
    frozenEndpoints: frozen,
    rss,
    heapAfterFullGc: fullHeap,
    samples,
  });
  say(`results: ${file}`);
}

runBench(main);
