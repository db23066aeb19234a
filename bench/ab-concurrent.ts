/**
 * A/B of two builds for one NIS UPS at 1 s, measured at the same time instead of in turns:
 * `--per-side` bridges of build A and as many of build B run side by side, each with its own
 * fake apcupsd and base topic on one mosquitto, and each window sums every bridge's CPU
 * (scheduler ns of all its threads). Both sides see the same machine load, so the ratio B/A
 * of a window is free of the drift that makes turns on this shared VM differ by up to 40 %;
 * an A/A run spreads ±4 % in 30 s windows (2026-12-04). Spawn order alternates per pair.
 *
 * Caveat: bridges side by side keep each other's caches (and the node binary's pages) warm,
 * so absolute figures are lower than a lone bridge's (idle.ts) and ratios may be smaller.
 * Use it to rank changes; confirm a winner with idle.ts.
 *
 *   node --import tsx bench/ab-concurrent.ts --b <dist/cli/main.js> [--a tree] [--per-side 4]
 *     [--warmup 40] [--window 30] [--windows 5] [--python 0] [--upses 1]
 *
 * `--upses N` (N > 1): each bridge polls N fake NIS endpoints of its own (bench/lib/fleet.ts,
 * a new LINEV in every reply, so every poll publishes): the fleet case of bench/scale.ts, for
 * two builds at once. Its figures are CPU-s/h a bridge like the rest; / 3600 is a core.
 *
 * `tree` builds this tree into a temporary folder; `--python N` adds N Python stand-ins
 * (bench/peers/pyref_bridge.py) whose mean is printed beside each window.
 */
import { FakeNisMaster } from '../test/helpers/fake-nis-master.ts';
import { startMosquitto } from '../test/helpers/mosquitto.ts';
import { type RunningBridge, spawnBridge } from './lib/bridge-process.ts';
import { buildDist } from './lib/dist-build.ts';
import { type FlagSpec, flagHelp, parseFlags } from './lib/flags.ts';
import { FakeFleet } from './lib/fleet.ts';
import { clockTicksPerSecond } from './lib/procfs.ts';
import { treeCpuNs } from './lib/proctree.ts';
import { machineFacts, REPO_ROOT, writeResults } from './lib/results.ts';
import { runBench, say } from './lib/run.ts';
import { BRIDGES, DEFAULT_PEERS_DIR } from './lib/sbs-bridges.ts';
import { mean, median, round } from './lib/stats.ts';

const FLAGS: Record<string, FlagSpec> = {
  a: { default: 'tree', help: '"tree" (this tree, built) or a dist/cli/main.js' },
  b: { default: 'tree', help: '"tree" (this tree, built) or a dist/cli/main.js' },
  'per-side': { default: '4', help: 'bridges of each build' },
  warmup: { default: '40', help: 'seconds after the last start, before the first window' },
  window: { default: '30', help: 'seconds of each window' },
  windows: { default: '5', help: 'windows measured' },
  python: { default: '0', help: 'Python stand-ins run beside them (0 = none)' },
  upses: {
    default: '1',
    help: 'UPSes a bridge polls; more than 1: a fake fleet each, new values every poll',
  },
  out: { default: 'ab-concurrent', help: 'results file name under bench/results/' },
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface WindowResult {
  a: number[];
  b: number[];
  python: number[];
  meanA: number;
  meanB: number;
  ratio: number;
}

runBench(async (registry) => {
  const flags = parseFlags(process.argv.slice(2), FLAGS);
  if (flags.help) {
    say(flagHelp('ab-concurrent', 'Two builds, one NIS UPS each, side by side.', FLAGS));
    return;
  }
  const perSide = flags.number('per-side');
  const pythons = flags.number('python', true);
  const upses = Math.round(flags.number('upses'));
  let tree: string | undefined;
  const entry = async (which: string): Promise<string> => {
    if (which !== 'tree') return which;
    tree ??= registry.track(await buildDist()).main;
    return tree;
  };
  const entries = [await entry(flags.text('a')), await entry(flags.text('b'))] as const;
  const broker = await startMosquitto({ registry });
  const masters: FakeNisMaster[] = [];
  const master = async (): Promise<FakeNisMaster> => {
    const m = new FakeNisMaster({ chunking: 'per-frame' });
    await m.start();
    masters.push(m);
    return m;
  };
  const fleet = async (count: number): Promise<readonly number[]> =>
    registry.track(new FakeFleet({ count, stampLineV: true })).start();
  const sides: [RunningBridge[], RunningBridge[]] = [[], []];
  for (let i = 0; i < perSide; i++) {
    for (const side of i % 2 === 0 ? [0, 1] : [1, 0]) {
      const id = `${side === 0 ? 'a' : 'b'}${i}`;
      const ports = upses > 1 ? await fleet(upses) : [(await master()).port];
      sides[side as 0 | 1].push(
        await spawnBridge({
          upses: ports.map((port, n) => ({
            id: upses > 1 ? `ups${n + 1}` : 'ups',
            port,
            pollIntervalS: 1,
          })),
          mqttUrl: broker.url,
          registry,
          logLevel: 'info',
          entry: { kind: 'js', path: entries[side as 0 | 1] },
          overrides: { 'mqtt.base_topic': `ab-${id}`, 'mqtt.client_id': `ab-${id}` },
        }),
      );
    }
  }
  const python: number[] = [];
  for (let i = 0; i < pythons; i++) {
    const m = await master();
    const proc = await BRIDGES['python-ref'].start({
      registry,
      nisPort: m.port,
      mqttPort: broker.port,
      workDir: REPO_ROOT,
      ups2mqttDir: REPO_ROOT,
      peersDir: DEFAULT_PEERS_DIR,
    });
    python.push(proc.pid);
  }
  await sleep(flags.number('warmup', true) * 1000);
  const hz = clockTicksPerSecond();
  const cpu = (pids: number[]): number[] => pids.map((pid) => treeCpuNs(pid, hz));
  const pidsA = sides[0].map((b) => b.proc.pid);
  const pidsB = sides[1].map((b) => b.proc.pid);
  const windows: WindowResult[] = [];
  for (let w = 0; w < flags.number('windows'); w++) {
    const before = [cpu(pidsA), cpu(pidsB), cpu(python)];
    const t0 = performance.now();
    await sleep(flags.number('window') * 1000);
    const after = [cpu(pidsA), cpu(pidsB), cpu(python)];
    const hours = (performance.now() - t0) / 3.6e6;
    const perHour = (k: number): number[] =>
      (after[k] as number[]).map((v, i) => round((v - (before[k]?.[i] ?? 0)) / 1e9 / hours, 2));
    const [a, b, p] = [perHour(0), perHour(1), perHour(2)];
    const result = {
      a,
      b,
      python: p,
      meanA: round(mean(a), 2),
      meanB: round(mean(b), 2),
      ratio: round(mean(b) / mean(a), 3),
    };
    windows.push(result);
    say(
      `window ${w + 1}: A ${result.meanA}, B ${result.meanB} CPU-s/h a bridge, B/A ${result.ratio}` +
        (p.length > 0 ? `, Python ${round(mean(p), 2)}` : ''),
    );
  }
  const ratio = round(median(windows.map((w) => w.ratio)), 3);
  say(`\nmedian B/A ${ratio} over ${windows.length} windows`);
  const file = writeResults(flags.text('out'), {
    script: 'bench/ab-concurrent.ts',
    argv: process.argv.slice(2),
    machine: machineFacts(),
    medianRatio: ratio,
    windows,
  });
  say(`written ${file}`);
  for (const b of [...sides[0], ...sides[1]]) await b.stop();
  for (const m of masters) await m.stop();
  await broker.stop();
});
