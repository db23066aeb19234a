/**
 * V8's optimizing compilers, sized to the bridge. Imported by the CLI entry (main.ts)
 * before the program (program.ts) is loaded, so it takes effect before Node's module loader
 * runs hot on the program's modules.
 *
 * A bridge of a few UPSes runs each function a few times a second. For that, V8's
 * baseline and optimizing compilers (Sparkplug, TurboFan) cost more than they save: the
 * machine code they produce and the memory they compile in stay resident, and code is
 * compiled again as it is thrown away. Kept in the interpreter (`--max-opt=0`), one NIS UPS
 * polled every second measured 0.61× the CPU time and 53 instead of 63 MiB of RSS
 * (bench/idle.ts; docs/benchmarks.md "V8 tiers for a small bridge"); 16 UPSes at 1 s used no
 * more CPU and 60 instead of 74 MiB. From about 100 polls a second the optimized code pays:
 * 100 UPSes in the interpreter took 1.4× the CPU. So the interpreter is kept up to
 * {@link INTERPRETER_MAX_POLLS_PER_S} polls a second, and the compilers come back above it
 * once the configuration is read ({@link settleTiers}).
 *
 * A tiering flag of the user's own (`--max-opt`, `--jitless`, `--lite-mode`, ... on the
 * command line or in NODE_OPTIONS) wins: then nothing is changed. The flag is set with
 * node:v8 setFlagsFromString, which Node documents as best effort; V8 reads `max-opt` on
 * every tiering decision.
 */
import { setFlagsFromString } from 'node:v8';
import { nodeFlagGiven } from './node-flags.ts';

/** Polls a second up to which the bridge stays in V8's interpreter. */
export const INTERPRETER_MAX_POLLS_PER_S = 16;

/** V8's default for `--max-opt`: every tier. */
const ALL_TIERS = 999;

const TIERING_FLAG = /^--(no-)?(max-opt|jitless|lite-mode|opt|turbofan|sparkplug|maglev)(=|$)/;

/** True when `execArgv` or NODE_OPTIONS holds a V8 tiering flag (`_` spelled as `-` too). */
export function userChoseTiers(execArgv: readonly string[], nodeOptions: string): boolean {
  return nodeFlagGiven(TIERING_FLAG, execArgv, nodeOptions);
}

const chosenByUser = userChoseTiers(process.execArgv, process.env.NODE_OPTIONS ?? '');
if (!chosenByUser) setFlagsFromString('--max-opt=0');

/** What {@link settleTiers} decided. */
export type Tiers = 'interpreter' | 'optimizing' | 'user';

/** Polls a second of UPSes polled every `pollIntervalMs`. */
export function pollsPerSecond(upses: readonly { pollIntervalMs: number }[]): number {
  return upses.reduce((sum, u) => sum + 1000 / Math.max(1, u.pollIntervalMs), 0);
}

/** Once the UPSes are known: the interpreter for a small bridge, every tier for a larger one. */
export function settleTiers(polls: number): Tiers {
  if (chosenByUser) return 'user';
  if (polls <= INTERPRETER_MAX_POLLS_PER_S) return 'interpreter';
  // `--max-opt=0` also turned the compilers' own flags off (V8's flag implications).
  setFlagsFromString(`--max-opt=${ALL_TIERS}`);
  setFlagsFromString('--sparkplug');
  setFlagsFromString('--turbofan');
  return 'optimizing';
}
