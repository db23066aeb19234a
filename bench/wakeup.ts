/**
 * What one wake-up of an otherwise idle process costs, in Node and in CPython, on this
 * machine: the floor under every poll of a bridge, which a poll pays once for its timer and
 * once for each batch of its reply that arrives on its own (docs/benchmarks.md, "Where a
 * one-UPS poll's CPU goes"). Three programs that only sleep in a 1 s timer run side by
 * side, fresh in every round, so they share the machine's load:
 *
 * - `node`: `setInterval(() => {}, 1000)` at V8's defaults;
 * - `node --max-opt=0`: the same in V8's interpreter, as ups2mqtt runs up to 16 polls a
 *   second (src/cli/tiers.ts);
 * - `python3`: `while True: time.sleep(1)` in Debian's CPython.
 *
 * After `--settle` seconds, each one's CPU (scheduler ns of all its threads) and voluntary
 * context switches (its wake-ups) are read at both ends of `--window` seconds: CPU per
 * wake-up, and its ratio to CPython's in the same round. Medians over `--rounds`.
 *
 *   node --import tsx bench/wakeup.ts [--rounds 3] [--settle 5] [--window 60] [--out wakeup]
 */
import type { ManagedProcess } from '../test/helpers/process.ts';
import { monoMs, sleep } from './lib/clock.ts';
import { type FlagSpec, flagHelp, parseFlags } from './lib/flags.ts';
import { clockTicksPerSecond, readVoluntarySwitches } from './lib/procfs.ts';
import { treeCpuNs } from './lib/proctree.ts';
import { machineFacts, writeResults } from './lib/results.ts';
import { runBench, say } from './lib/run.ts';
import { median, round } from './lib/stats.ts';

const FLAGS: Record<string, FlagSpec> = {
  rounds: { default: '3', help: 'rounds, each with three fresh processes' },
  settle: { default: '5', help: 'seconds after the start before a window' },
  window: { default: '60', help: 'seconds measured in each round' },
  out: { default: 'wakeup', help: 'results file name under bench/results/' },
};

interface Subject {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
}

const SUBJECTS: readonly Subject[] = [
  { name: 'node', command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] },
  {
    name: 'node --max-opt=0',
    command: process.execPath,
    args: ['--max-opt=0', '-e', 'setInterval(() => {}, 1000)'],
  },
  {
    name: 'python3',
    // Debian's interpreter, as the Python peers of bench/side-by-side.ts use.
    command: '/usr/bin/python3',
    args: ['-c', 'import time\nwhile True:\n    time.sleep(1)'],
  },
];

/** One subject in one round. */
interface Measured {
  readonly cpuUsPerS: number;
  readonly wakeupsPerS: number;
  readonly usPerWakeup: number;
}

runBench(async (registry) => {
  const flags = parseFlags(process.argv.slice(2), FLAGS);
  if (flags.help) {
    say(flagHelp('wakeup', 'CPU per wake-up of an idle 1 s timer: Node and CPython.', FLAGS));
    return;
  }
  const hz = clockTicksPerSecond();
  const rounds: Record<string, Measured>[] = [];
  for (let r = 0; r < flags.number('rounds'); r++) {
    const procs: ManagedProcess[] = [];
    for (const s of SUBJECTS) procs.push(await registry.spawn(s.name, s.command, [...s.args]));
    await sleep(flags.number('settle', true) * 1000);
    const read = (): [number, number][] =>
      procs.map((p) => [treeCpuNs(p.pid, hz), readVoluntarySwitches(p.pid)]);
    const before = read();
    const t0 = monoMs();
    await sleep(flags.number('window') * 1000);
    const after = read();
    const seconds = (monoMs() - t0) / 1000;
    const round_: Record<string, Measured> = {};
    SUBJECTS.forEach((s, i) => {
      const cpuNs = (after[i]?.[0] ?? 0) - (before[i]?.[0] ?? 0);
      const wakeups = (after[i]?.[1] ?? 0) - (before[i]?.[1] ?? 0);
      round_[s.name] = {
        cpuUsPerS: round(cpuNs / 1e3 / seconds, 1),
        wakeupsPerS: round(wakeups / seconds, 2),
        usPerWakeup: round(wakeups > 0 ? cpuNs / 1e3 / wakeups : Number.NaN, 1),
      };
    });
    rounds.push(round_);
    say(
      `round ${r + 1}: ` +
        SUBJECTS.map((s) => {
          const m = round_[s.name] as Measured;
          return `${s.name} ${m.usPerWakeup} µs a wake-up (${m.wakeupsPerS}/s)`;
        }).join(', '),
    );
    for (const p of procs) await p.stop(0);
  }
  const summary: Record<string, { usPerWakeup: number; timesPython: number }> = {};
  for (const s of SUBJECTS) {
    summary[s.name] = {
      usPerWakeup: round(median(rounds.map((r) => r[s.name]?.usPerWakeup ?? Number.NaN)), 1),
      timesPython: round(
        median(
          rounds.map(
            (r) => (r[s.name]?.usPerWakeup ?? Number.NaN) / (r.python3?.usPerWakeup ?? Number.NaN),
          ),
        ),
        2,
      ),
    };
    say(
      `${s.name.padEnd(18)} median ${summary[s.name]?.usPerWakeup} µs a wake-up, ` +
        `${summary[s.name]?.timesPython}× CPython's`,
    );
  }
  const file = writeResults(flags.text('out'), {
    script: 'bench/wakeup.ts',
    argv: process.argv.slice(2),
    machine: machineFacts(),
    subjects: SUBJECTS.map((s) => ({ name: s.name, args: s.args })),
    rounds,
    summary,
  });
  say(`written ${file}`);
});
