/**
 * Soak: does the bridge stay the same over 1,000,000 polls?
 *
 * 100 fake NIS UPSes (a fleet process) polled every 0.1 s — 1,000 polls/s, so a million
 * polls take about 17 minutes — by the built CLI (`node dist/cli/main.js`, as the npm package
 * runs; `npm run build` first) publishing to a real mosquitto. As apcupsd does, every reply
 * carries a fresh DATE; LINEV changes on every `--linev-every`th reply and carries the time
 * the fake server built it, so a subscriber measures poll→publish latency from the states
 * that carry a new LINEV. Every `--sample-every` seconds: RSS (/proc/<pid>/status), the heap
 * after full GCs (`--trace-gc`), descriptors and sockets (/proc/<pid>/fd), the bridge's CPU,
 * polls answered (counted at the fake servers) and the window's latency median/p99.
 *
 * Reported: slope of heap and RSS per 100,000 polls over the second half of the run with a
 * 95 % interval, latency in the first vs the last quarter, descriptor/socket range, total
 * polls and the achieved rate.
 *
 *   npm run build && node --import tsx bench/soak.ts [--polls 1000000] [--endpoints 100] [--interval 0.1]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMosquitto } from '../test/helpers/mosquitto.ts';
import type { ProcessRegistry } from '../test/helpers/process.ts';
import { spawnBridge } from './lib/bridge-process.ts';
import { monoMs, sinceStamp, sleep } from './lib/clock.ts';
import { type FlagSpec, flagHelp, parseFlags } from './lib/flags.ts';
import { FakeFleet } from './lib/fleet.ts';
import {
  clockTicksPerSecond,
  countDescriptors,
  cpuSecondsBetween,
  readCpuTicks,
  readMachineTicks,
  readMemory,
} from './lib/procfs.ts';
import { machineFacts, REPO_ROOT, writeResults } from './lib/results.ts';
import { runBench, say } from './lib/run.ts';
import {
  latencyByQuarter,
  latencyStretch,
  medianByQuarter,
  range,
  trend,
} from './lib/soak-report.ts';
import { round } from './lib/stats.ts';
import { TimedSubscriber } from './lib/subscriber.ts';
import { busiestIsolate, parseTraceGc } from './lib/trace-gc.ts';

const FLAGS: Record<string, FlagSpec> = {
  endpoints: { default: '100', help: 'number of fake NIS UPSes' },
  interval: { default: '0.1', help: 'poll interval in seconds' },
  polls: { default: '1000000', help: 'status requests the fake servers must answer' },
  'sample-every': { default: '10', help: 'seconds between samples' },
  'linev-every': { default: '10', help: 'LINEV changes on every Nth reply of a UPS' },
  entry: { default: 'dist', help: 'dist (node dist/cli/main.js; npm run build first) or tsx' },
  'max-minutes': { default: '45', help: 'stop and report what was reached after this long' },
  out: { default: 'soak', help: 'results file name under bench/results/' },
  resummarize: {
    default: 'no',
    help: 'yes: recompute the sample-based summary of bench/results/<out>.json (no run)',
  },
};

const VOLTAGE = /"input_voltage_v":(-?\d+(?:\.\d+)?)/;

/** One sample window. */
interface Sample {
  /** Seconds since the bridge was spawned. */
  t: number;
  /** Status requests answered so far. */
  polls: number;
  pollsPerS: number;
  rssMb: number;
  /** Lowest heap after a full GC within the window (MB); null when none ran. */
  heapAfterFullGcMb: number | null;
  fullGcs: number;
  fds: number;
  sockets: number;
  /** Bridge CPU over the window, fraction of one core; machine busy cores likewise. */
  cpuCores: number;
  machineBusyCores: number;
  states: number;
  latency: { count: number; median: number | null; p99: number | null };
}

async function main(registry: ProcessRegistry): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), FLAGS);
  if (flags.help) {
    say(flagHelp('soak', 'Memory, latency and descriptors over 1,000,000 polls.', FLAGS));
    return;
  }
  if (flags.text('resummarize') === 'yes') {
    resummarize(flags.text('out'));
    return;
  }
  const endpoints = Math.round(flags.number('endpoints'));
  const intervalS = flags.number('interval');
  const targetPolls = Math.round(flags.number('polls'));
  const everyS = flags.number('sample-every');
  const linevEvery = Math.round(flags.number('linev-every'));
  const maxMs = flags.number('max-minutes') * 60_000;
  const entryKind = flags.choices('entry', ['dist', 'tsx'] as const)[0];
  const distMain = join(REPO_ROOT, 'dist', 'cli', 'main.js');
  if (entryKind === 'dist' && !existsSync(distMain))
    throw new Error(`${distMain} is missing: run \`npm run build\` first (or --entry tsx)`);
  const machine = machineFacts();
  const ticksPerS = clockTicksPerSecond();
  say(
    `soak: ${endpoints} UPSes every ${intervalS} s until ${targetPolls} polls (${entryKind}); LINEV every ${linevEvery}th reply; sample every ${everyS} s`,
  );

  const broker = await startMosquitto({ registry });
  const fleet = registry.track(
    new FakeFleet({ count: endpoints, stampLineV: true, stampEvery: linevEvery }),
  );
  const ports = await fleet.start();
  const subscriber = registry.track(new TimedSubscriber());
  await subscriber.start(broker.url, ['ups2mqtt/+/state']);
  let states = 0;
  let window: number[] = [];
  const lastVolts = new Map<string, string>();
  subscriber.onMessage = (m) => {
    states += 1;
    const volts = VOLTAGE.exec(m.payload.toString('latin1'))?.[1];
    if (volts === undefined || lastVolts.get(m.topic) === volts) return;
    const first = !lastVolts.has(m.topic);
    lastVolts.set(m.topic, volts);
    if (!first) window.push(sinceStamp(Number(volts), m.receivedAt));
  };
  const bridge = await spawnBridge({
    upses: ports.map((port, i) => ({
      id: `soak${String(i + 1).padStart(4, '0')}`,
      port,
      pollIntervalS: intervalS,
    })),
    mqttUrl: broker.url,
    registry,
    nodeArgs: ['--trace-gc'],
    entry: entryKind === 'dist' ? { kind: 'js', path: distMain } : { kind: 'tsx' },
  });
  const pid = bridge.proc.pid;
  const samples: Sample[] = [];
  const windows: { polls: number; latenciesMs: number[] }[] = [];
  let isolate: string | undefined;
  let lastGcAt = -1;
  let prevCpu = readCpuTicks(pid);
  let prevMachine = readMachineTicks();
  let prevAt = monoMs();
  let prevPolls = 0;
  let reached = false;
  let afterWarmup: readonly number[] | undefined;
  let frozen = 0;
  const started = monoMs();
  const finish = (partial: boolean): string =>
    writeResults(flags.text('out'), {
      benchmark: 'soak',
      command: `node --import tsx bench/soak.ts ${process.argv.slice(2).join(' ')}`.trim(),
      machine,
      settings: { endpoints, intervalS, targetPolls, everyS, linevEvery, entry: entryKind },
      partial,
      ...summarize(samples, endpoints / intervalS, windows, targetPolls, reached, frozen),
      samples,
    });
  try {
    for (;;) {
      await sleep(everyS * 1000);
      if (!bridge.proc.running())
        throw new Error(`the bridge exited:\n${bridge.proc.output().slice(-3000)}`);
      const counts = await fleet.counts();
      const now = monoMs();
      const cpu = readCpuTicks(pid);
      const machineTicks = readMachineTicks();
      const events = parseTraceGc(bridge.proc.output());
      isolate ??= busiestIsolate(events);
      const fulls = events.filter(
        (e) => e.isolate === isolate && e.kind === 'mark-compact' && e.atMs > lastGcAt,
      );
      lastGcAt = Math.max(lastGcAt, ...fulls.map((e) => e.atMs));
      const { fds, sockets } = countDescriptors(pid);
      const seconds = (now - prevAt) / 1000;
      const latencies = window;
      window = [];
      const sample: Sample = {
        t: round((now - bridge.spawnedAt) / 1000, 1),
        polls: counts.status,
        pollsPerS: round((counts.status - prevPolls) / seconds, 1),
        rssMb: round(readMemory(pid).rssKb / 1024, 1),
        heapAfterFullGcMb: fulls.length === 0 ? null : Math.min(...fulls.map((e) => e.usedAfterMb)),
        fullGcs: fulls.length,
        fds,
        sockets,
        cpuCores: round(cpuSecondsBetween(prevCpu, cpu, ticksPerS) / seconds, 3),
        machineBusyCores: round((machineTicks.busy - prevMachine.busy) / ticksPerS / seconds, 2),
        states,
        latency: latencyStretch(latencies),
      };
      samples.push(sample);
      windows.push({ polls: counts.status, latenciesMs: latencies });
      prevCpu = cpu;
      prevMachine = machineTicks;
      prevAt = now;
      prevPolls = counts.status;
      const base = afterWarmup;
      if (base !== undefined)
        frozen = counts.statusPerServer.filter((n, i) => n === base[i]).length;
      else if (sample.t >= 30) afterWarmup = counts.statusPerServer;
      say(
        `  t=${String(sample.t).padStart(6)} s  polls ${String(sample.polls).padStart(8)} (${sample.pollsPerS}/s)` +
          `  RSS ${sample.rssMb} MB  heap ${sample.heapAfterFullGcMb ?? '–'} MB (${sample.fullGcs} full GC)` +
          `  fds ${fds} sockets ${sockets}  CPU ${sample.cpuCores}  latency ${sample.latency.median ?? '–'}/${sample.latency.p99 ?? '–'} ms`,
      );
      if (samples.length % 6 === 0) finish(true);
      if (counts.status >= targetPolls) {
        reached = true;
        break;
      }
      if (now - started > maxMs) {
        say(`  stopping after ${flags.text('max-minutes')} min: ${counts.status} polls reached`);
        break;
      }
    }
  } finally {
    await bridge.stop();
  }
  const file = finish(false);
  const s = summarize(samples, endpoints / intervalS, windows, targetPolls, reached, frozen);
  say(
    `polls ${s.totalPolls} in ${s.durationS} s (${s.pollsPerS}/s, target ${round(endpoints / intervalS)}/s); states ${states}; frozen UPSes ${frozen}`,
  );
  for (const [name, tr] of [
    ['heap after full GC', s.heapTrend],
    ['RSS', s.rssTrend],
  ] as const) {
    say(
      tr === null
        ? `  ${name}: too few points`
        : `  ${name}: ${tr.slopePer100k} MB per 100k polls, 95 % [${tr.ci95[0]}, ${tr.ci95[1]}] (n=${tr.n}) → ${tr.verdict}`,
    );
  }
  const [q1, , , q4] = s.latencyByQuarter;
  say(
    `  latency median/p99: first quarter ${q1?.median}/${q1?.p99} ms, last quarter ${q4?.median}/${q4?.p99} ms`,
  );
  say(`  by quarter: ${JSON.stringify(s.byQuarter)}`);
  say(
    `  fds ${JSON.stringify(s.fds)}; sockets ${JSON.stringify(s.sockets)}; RSS ${JSON.stringify(s.rssMb)}`,
  );
  say(`results: ${file}`);
}

/** Everything the soak reports, from the samples and latencies so far. */
function summarize(
  samples: readonly Sample[],
  targetRate: number,
  windows: readonly { polls: number; latenciesMs: number[] }[],
  targetPolls: number,
  reached: boolean,
  frozen: number,
) {
  const totalPolls = samples.at(-1)?.polls ?? 0;
  return {
    reachedTarget: reached,
    targetPolls,
    frozenUpses: frozen,
    ...fromSamples(samples, targetRate),
    latencyByQuarter: latencyByQuarter(windows, Math.max(1, totalPolls)),
    latencyAll: latencyStretch(windows.flatMap((w) => w.latenciesMs)),
  };
}

/** The part of the summary that the stored samples alone give. */
function fromSamples(samples: readonly Sample[], targetRate: number) {
  const last = samples.at(-1);
  const totalPolls = last?.polls ?? 0;
  const durationS = last?.t ?? 0;
  // The second half by polls: start-up, JIT and the first heap sizing are long over.
  const secondHalf = samples.filter((x) => x.polls >= totalPolls / 2);
  const heapPoints = secondHalf.flatMap((x) =>
    x.heapAfterFullGcMb === null ? [] : [[x.polls, x.heapAfterFullGcMb] as const],
  );
  const heapAll = samples.flatMap((x) =>
    x.heapAfterFullGcMb === null ? [] : [x.heapAfterFullGcMb],
  );
  const byQuarter = (pick: (x: Sample) => number | null) =>
    medianByQuarter(samples, Math.max(1, totalPolls), pick);
  return {
    totalPolls,
    durationS,
    pollsPerS: durationS > 0 ? round(totalPolls / durationS, 1) : 0,
    heapTrend: trend(heapPoints),
    rssTrend: trend(secondHalf.map((x) => [x.polls, x.rssMb] as const)),
    heapAfterFullGcMb: range(heapAll),
    rssMb: range(samples.map((x) => x.rssMb)),
    fds: range(samples.map((x) => x.fds)),
    sockets: range(samples.map((x) => x.sockets)),
    cpuCores: range(samples.map((x) => x.cpuCores)),
    // Medians of the per-window figures by quarter of the run: the bridge's own cost per
    // poll (a slowdown inside the bridge raises it), the rate reached and how busy the
    // shared machine was (which moves latency without any change in the bridge).
    byQuarter: {
      pollsPerS: byQuarter((x) => x.pollsPerS),
      cpuMsPerPoll: byQuarter((x) => (x.pollsPerS > 0 ? (x.cpuCores * 1000) / x.pollsPerS : null)),
      machineBusyCores: byQuarter((x) => x.machineBusyCores),
      windowLatencyMedianMs: byQuarter((x) => x.latency.median),
      // The same, from the windows in which the bridge kept up (≥ 93 % of the target rate):
      // latency compared at like load, so what remains is a change in the bridge itself.
      windowLatencyMedianMsAtFullRate: byQuarter((x) =>
        x.pollsPerS >= 0.93 * targetRate ? x.latency.median : null,
      ),
    },
  };
}

/** Rewrites the sample-based summary of a stored run (the raw latencies are not stored). */
function resummarize(name: string): void {
  const file = join(REPO_ROOT, 'bench', 'results', `${name}.json`);
  const stored = JSON.parse(readFileSync(file, 'utf8')) as {
    samples: Sample[];
    settings: { endpoints: number; intervalS: number };
  };
  const { samples, ...rest } = stored;
  const targetRate = stored.settings.endpoints / stored.settings.intervalS;
  writeResults(name, { ...rest, ...fromSamples(samples, targetRate), samples });
  say(`${file}: summary recomputed from ${samples.length} samples`);
  say(JSON.stringify(fromSamples(samples, targetRate).byQuarter));
}

runBench(main);
