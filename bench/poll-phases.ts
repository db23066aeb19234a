/**
 * Where the CPU of one poll goes, phase by phase: ONE NIS UPS at 1 s, built, at the shipped
 * defaults, like `idle.ts`, but with the process's CPU time (`process.cpuUsage()`, user +
 * system, µs) read at fixed points of the poll path. A copy of the build gets one call at
 * each point (the anchors below, found in the compiled JavaScript; a missing anchor stops
 * the script, so a refactor cannot silently measure nothing), and a preloaded module adds up
 * the CPU between consecutive points. A segment is named by its two points: `poll done →
 * timer fired` is the wake-up and whatever runs between two polls.
 *
 * The points cost CPU themselves (one getrusage() each): the cost of one is measured at start
 * and printed; compare segments within a run, and whole runs by their total.
 *
 *   node --import tsx bench/poll-phases.ts [--runs 3] [--warmup 40] [--polls 60]
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FakeNisMaster } from '../test/helpers/fake-nis-master.ts';
import { startMosquitto } from '../test/helpers/mosquitto.ts';
import { spawnBridge } from './lib/bridge-process.ts';
import { buildDist } from './lib/dist-build.ts';
import { type FlagSpec, flagHelp, parseFlags } from './lib/flags.ts';
import { machineFacts, writeResults } from './lib/results.ts';
import { runBench, say } from './lib/run.ts';
import { median, round } from './lib/stats.ts';

const FLAGS: Record<string, FlagSpec> = {
  runs: { default: '3', help: 'bridge runs (a fresh process each); medians per segment' },
  warmup: { default: '40', help: 'polls before counting starts' },
  polls: { default: '60', help: 'polls counted' },
  out: { default: 'poll-phases', help: 'results file name under bench/results/' },
};

/** A point of the poll path: in `file` (under dist/), before or after the text `find`. */
interface Point {
  readonly file: string;
  readonly find: string;
  readonly where: 'before' | 'after';
  readonly name: string;
}

const POINTS: readonly Point[] = [
  {
    file: 'bridge/scheduler.js',
    find: 'this.inFlight = true;',
    where: 'after',
    name: 'timer fired',
  },
  {
    file: 'sources/nis/client.js',
    find: 'socket?.write(encodeNisCommand(opts.command));',
    where: 'before',
    name: 'request built',
  },
  {
    file: 'sources/nis/client.js',
    find: 'socket?.write(encodeNisCommand(opts.command));',
    where: 'after',
    name: 'request written',
  },
  {
    file: 'sources/nis/client.js',
    find: 'function onData(chunk) {',
    where: 'after',
    name: 'chunk in',
  },
  {
    file: 'sources/nis/client.js',
    find: 'const succeed = (clean) => {',
    where: 'after',
    name: 'reply complete',
  },
  {
    file: 'sources/nis/source.js',
    find: 'mapStatus(lines) {',
    where: 'after',
    name: 'reply in source',
  },
  {
    file: 'sources/nis/source.js',
    find: 'const events = await this.fetchEventsIfDue(data, linked);',
    where: 'before',
    name: 'mapped',
  },
  {
    file: 'bridge/ups-bridge.js',
    find: 'reading = await this.deps.source.read(abort.signal);',
    where: 'after',
    name: 'reading in bridge',
  },
  {
    file: 'bridge/ups-bridge.js',
    find: 'async onReading(reading) {',
    where: 'after',
    name: 'processing',
  },
  {
    file: 'bridge/ups-bridge.js',
    find: 'const added = this.extend(state, true);',
    where: 'before',
    name: 'state built',
  },
  {
    file: 'bridge/ups-bridge.js',
    find: 'const added = this.extend(state, true);',
    where: 'after',
    name: 'extended',
  },
  {
    file: 'bridge/ups-bridge.js',
    find: 'await this.out.publishState(state, true);',
    where: 'before',
    name: 'discovery checked',
  },
  {
    file: 'bridge/ups-bridge.js',
    find: 'await this.out.publishState(state, true);',
    where: 'after',
    name: 'state compared',
  },
  {
    file: 'bridge/scheduler.js',
    find: 'ok = await this.task();',
    where: 'after',
    name: 'poll done',
  },
];

/** The preloaded accumulator; `__WARMUP__` and `__POLLS__` are replaced. */
const PRELOAD = `
const sum = new Map();
let last = process.cpuUsage();
let prev = 'poll done';
let polls = 0;
const t = process.cpuUsage();
for (let i = 0; i < 1000; i++) process.cpuUsage();
const d = process.cpuUsage(t);
const markUs = (d.user + d.system) / 1000;
globalThis.__ups2mqttPhase = (name) => {
  const now = process.cpuUsage();
  const us = now.user - last.user + now.system - last.system;
  last = now;
  const key = prev + ' → ' + name;
  prev = name;
  sum.set(key, (sum.get(key) ?? 0) + us);
  if (name !== 'poll done') return;
  polls += 1;
  if (polls === __WARMUP__) sum.clear();
  if (polls === __WARMUP__ + __POLLS__) {
    process.stderr.write('POLL-PHASES ' + JSON.stringify({ markUs, polls: __POLLS__, sum: [...sum] }) + '\\n');
  }
};
`;

interface RunResult {
  markUs: number;
  /** µs per poll by segment, in the order first seen. */
  segments: [string, number][];
  totalUs: number;
}

/** The line the preloaded module prints when the counted polls are done. */
const REPORT = /POLL-PHASES (.*)\n/;

runBench(async (registry) => {
  const flags = parseFlags(process.argv.slice(2), FLAGS);
  if (flags.help) {
    say(flagHelp('poll-phases', 'CPU of one NIS poll, segment by segment.', FLAGS));
    return;
  }
  const runs = flags.number('runs');
  const warmup = flags.number('warmup');
  const polls = flags.number('polls');
  const dist = registry.track(await buildDist());
  const distDir = dirname(dirname(dist.main));
  for (const file of new Set(POINTS.map((p) => p.file))) {
    const points = POINTS.filter((p) => p.file === file);
    const path = join(distDir, file);
    let text = await readFile(path, 'utf8');
    for (const p of points) {
      if (text.split(p.find).length !== 2) {
        throw new Error(`${file}: "${p.find}" must occur exactly once (the code moved?)`);
      }
      const call = `globalThis.__ups2mqttPhase?.(${JSON.stringify(p.name)});`;
      text = text.replace(p.find, p.where === 'before' ? `${call} ${p.find}` : `${p.find} ${call}`);
    }
    await writeFile(path, text);
  }
  const preloadDir = await mkdtemp(join(tmpdir(), 'ups2mqtt-phases-'));
  registry.track({ stop: () => rm(preloadDir, { recursive: true, force: true }) });
  const preload = join(preloadDir, 'phases.mjs');
  await writeFile(
    preload,
    PRELOAD.replaceAll('__WARMUP__', String(warmup)).replaceAll('__POLLS__', String(polls)),
  );
  const broker = await startMosquitto({ registry });
  const results: RunResult[] = [];
  for (let run = 0; run < runs; run++) {
    const master = new FakeNisMaster({ chunking: 'per-frame' });
    await master.start();
    const bridge = await spawnBridge({
      upses: [{ id: 'ups', port: master.port, pollIntervalS: 1 }],
      mqttUrl: broker.url,
      registry,
      logLevel: 'info',
      entry: { kind: 'js', path: dist.main },
      nodeArgs: ['--import', pathToFileURL(preload).href],
    });
    try {
      const text = await bridge.proc.waitForOutput(REPORT, (warmup + polls + 30) * 1000);
      const line = REPORT.exec(text)?.[1] ?? '{}';
      const raw = JSON.parse(line) as { markUs: number; polls: number; sum: [string, number][] };
      const segments = raw.sum.map(([k, v]) => [k, round(v / raw.polls, 1)] as [string, number]);
      const totalUs = round(
        segments.reduce((a, [, v]) => a + v, 0),
        1,
      );
      results.push({ markUs: round(raw.markUs, 2), segments, totalUs });
      say(`run ${run + 1}: ${totalUs} µs a poll (one point costs ~${round(raw.markUs, 2)} µs)`);
    } finally {
      await bridge.stop();
      await master.stop();
    }
  }
  const names = [...new Set(results.flatMap((r) => r.segments.map(([k]) => k)))];
  const medians = names.map((name) => {
    const values = results.map((r) => r.segments.find(([k]) => k === name)?.[1] ?? 0);
    return { segment: name, usPerPoll: round(median(values), 1) };
  });
  say('\nmedian µs a poll by segment:');
  for (const m of medians)
    if (m.usPerPoll >= 1) say(`  ${String(m.usPerPoll).padStart(7)}  ${m.segment}`);
  say(`  total ${round(median(results.map((r) => r.totalUs)), 1)} µs a poll`);
  const file = writeResults(flags.text('out'), {
    script: 'bench/poll-phases.ts',
    argv: process.argv.slice(2),
    settings: { runs, warmup, polls, points: POINTS.map((p) => p.name) },
    machine: machineFacts(),
    medians,
    runs: results,
  });
  say(`\nwritten ${file}`);
  await broker.stop();
});
