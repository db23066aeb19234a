/**
 * Accelerated soak: 1,000,000 polls of simulated UPSes in one process on a hand-moved
 * clock, in about a minute instead of days.
 *
 * `--upses` (10) `sim://` UPSes, each with its own scripted mains outage, are polled every
 * second of *simulated* time by the bridge's own per-UPS loop (`UpsBridge`: scheduler,
 * state building and comparison, outbox, heartbeat, availability watchdog), feeding the
 * status page's history recorder as the CLI does; publishes go to a counter instead of
 * MQTT. Time is a `ManualClock` moved one second per step, so a million polls of 10 UPSes
 * cover 100,000 simulated seconds (~28 h: the one-hour chart history wraps 27 times, the
 * heartbeat fires 1,666 times per UPS). Every 1 % of the polls the script forces a full
 * GC and samples the live heap, RSS and the clock's pending timers, plus the wall time per
 * poll since the last sample.
 *
 * The real-socket soak (NIS, MQTT, the CLI) is `bench/soak.ts`.
 *
 *   node --expose-gc --import tsx bench/soak-sim.ts [--upses 10] [--polls 1000000]
 */
import { pino } from 'pino';
import { UpsBridge } from '../src/bridge/ups-bridge.ts';
import { ManualClock } from '../src/core/clock.ts';
import { HistoryRecorder } from '../src/http/recorder.ts';
import { Topics } from '../src/mqtt/topics.ts';
import { createSource } from '../src/sources/index.ts';
import { createSimSource } from '../src/sources/sim/source.ts';
import { parseSourceUri } from '../src/sources/uri.ts';
import { monoMs } from './lib/clock.ts';
import { type FlagSpec, flagHelp, parseFlags } from './lib/flags.ts';
import { machineFacts, writeResults } from './lib/results.ts';
import { runBench, say } from './lib/run.ts';
import { range, trend } from './lib/soak-report.ts';
import { round } from './lib/stats.ts';

const FLAGS: Record<string, FlagSpec> = {
  upses: { default: '10', help: 'number of simulated UPSes' },
  source: {
    default: 'sim',
    help: 'sim (each UPS with one scripted outage) or a source URI that needs no I/O, e.g. hid-replay://FILE',
  },
  polls: { default: '1000000', help: 'polls in total (all UPSes together)' },
  out: { default: 'soak-sim', help: 'results file name under bench/results/' },
};

/** The columns of the sample table, in order (see {@link Sample}). */
const COLUMNS = [
  'polls',
  'simulatedHours',
  'heapMb',
  'rssMb',
  'pendingTimers',
  'publishes',
  'usPerPoll',
] as const;

interface Sample {
  polls: number;
  simulatedHours: number;
  heapMb: number;
  rssMb: number;
  pendingTimers: number;
  publishes: number;
  /** Wall-clock microseconds per poll since the previous sample (whole step, GC included). */
  usPerPoll: number;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), FLAGS);
  if (flags.help) {
    say(flagHelp('soak-sim', 'Accelerated in-process soak of sim:// UPSes.', FLAGS));
    return;
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc --import tsx bench/soak-sim.ts');
  const upses = Math.round(flags.number('upses'));
  const targetPolls = Math.round(flags.number('polls'));
  const machine = machineFacts();
  const start = Date.parse('2026-01-01T00:00:00Z');
  const clock = new ManualClock(start);
  const logger = pino({ level: 'silent' });
  const topics = new Topics('ups2mqtt');
  let publishes = 0;
  const publisher = {
    publish: async (): Promise<boolean> => {
      publishes += 1;
      return true;
    },
  };
  const uri = flags.text('source');
  const sourceDeps = {
    logger,
    clock,
    nis: { timeoutMs: 5000, eventsIntervalMs: 60_000 },
  };
  const sources = [];
  for (let i = 0; i < upses; i++) {
    // Each UPS loses mains for 10 minutes once, at its own time within the first ~14 h.
    const failAt = 1800 + i * 5000;
    sources.push(
      uri === 'sim'
        ? createSimSource(
            {
              model: 'smart-ups-1500',
              params: {
                serial: `SOAK${i}`,
                fail_at: String(failAt),
                restore_at: String(failAt + 600),
              },
            },
            { clock, logger },
          )
        : await createSource(parseSourceUri(uri), sourceDeps),
    );
  }
  const bridges = sources.map((source, i) => {
    return new UpsBridge(
      { id: `sim${i}`, pollIntervalMs: 1000, heartbeatIntervalMs: 60_000, maxDataAgeS: 180 },
      { source, publisher, topics, clock, logger },
    );
  });
  const recorder = new HistoryRecorder(
    {
      bridges,
      mqttConnected: true,
      mqttStats: { publishes: 0, publishFailures: 0, dropped: 0, connects: 1 },
    },
    { windowMs: 3_600_000, resolutionMs: 2000 },
    clock,
  );
  for (const b of bridges) await b.start();
  recorder.start();
  say(`soak-sim: ${upses} × ${uri} at 1 s (simulated) until ${targetPolls} polls`);

  const polls = (): number => bridges.reduce((n, b) => n + b.stats.polls, 0);
  // Samples go into a table allocated up front (off the V8 heap): a growing array of sample
  // objects would itself show as heap growth of ~140 bytes per sample.
  const every = Math.max(1, Math.round(targetPolls / 100));
  const maxRows = Math.ceil(targetPolls / every) + 10;
  const table = new Float64Array(maxRows * COLUMNS.length);
  let rows = 0;
  let nextSample = every;
  let lastWall = monoMs();
  let lastPolls = 0;
  const wallStart = lastWall;
  while (polls() < targetPolls) {
    clock.advance(1000);
    // Let each read, publish and re-arm finish before the clock moves again.
    for (let i = 0; i < 4; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    const n = polls();
    if (n < nextSample || rows >= maxRows) continue;
    nextSample += every;
    const now = monoMs();
    gc();
    const at = rows * COLUMNS.length;
    table[at] = n;
    table[at + 1] = (clock.now() - start) / 3_600_000;
    table[at + 2] = process.memoryUsage().heapUsed / 2 ** 20;
    table[at + 3] = process.memoryUsage().rss / 2 ** 20;
    table[at + 4] = clock.pending();
    table[at + 5] = publishes;
    table[at + 6] = ((now - lastWall) * 1000) / (n - lastPolls);
    rows += 1;
    lastWall = monoMs();
    lastPolls = n;
    if (rows % 10 === 0)
      say(
        `  polls ${String(n).padStart(8)}  simulated ${round(table[at + 1] ?? 0)} h  heap ${round(table[at + 2] ?? 0, 3)} MB  RSS ${round(table[at + 3] ?? 0, 1)} MB  timers ${table[at + 4]}  ${round(table[at + 6] ?? 0)} µs/poll`,
      );
  }
  const samples = Array.from({ length: rows }, (_, r): Sample => {
    const col = (c: number): number => table[r * COLUMNS.length + c] ?? Number.NaN;
    return {
      polls: col(0),
      simulatedHours: round(col(1), 2),
      heapMb: round(col(2), 4),
      rssMb: round(col(3), 1),
      pendingTimers: col(4),
      publishes: col(5),
      usPerPoll: round(col(6), 2),
    };
  });
  const wallS = round((monoMs() - wallStart) / 1000, 1);
  recorder.stop();
  for (const b of bridges) await b.stop();
  const secondHalf = samples.filter((s) => s.polls >= targetPolls / 2);
  const result = {
    totalPolls: polls(),
    wallS,
    simulatedHours: round((clock.now() - start) / 3_600_000, 2),
    publishes,
    pollErrors: bridges.reduce((n, b) => n + b.stats.pollErrors, 0),
    heapTrend: trend(secondHalf.map((s) => [s.polls, s.heapMb] as const)),
    rssTrend: trend(secondHalf.map((s) => [s.polls, s.rssMb] as const)),
    heapMb: range(samples.map((s) => s.heapMb)),
    rssMb: range(samples.map((s) => s.rssMb)),
    pendingTimers: range(samples.map((s) => s.pendingTimers)),
    usPerPoll: range(samples.map((s) => s.usPerPoll)),
  };
  say(
    `polls ${result.totalPolls} in ${wallS} s wall (${result.simulatedHours} simulated h); publishes ${publishes}; poll errors ${result.pollErrors}`,
  );
  const h = result.heapTrend;
  if (h !== null)
    say(
      `  heap after GC: ${h.slopePer100k} MB per 100k polls, 95 % [${h.ci95[0]}, ${h.ci95[1]}] → ${h.verdict}; range ${JSON.stringify(result.heapMb)}`,
    );
  say(
    `  pending timers ${JSON.stringify(result.pendingTimers)}; µs/poll ${JSON.stringify(result.usPerPoll)}`,
  );
  const file = writeResults(flags.text('out'), {
    benchmark: 'soak-sim',
    command:
      `node --expose-gc --import tsx bench/soak-sim.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    settings: { upses, source: uri, targetPolls, pollIntervalS: 1, historyWindowS: 3600 },
    ...result,
    samples,
  });
  say(`results: ${file}`);
}

runBench(() => main());
