/**
 * The long fuzz run: every target of test/fuzz/*.targets.ts (the same properties the test
 * command runs a few hundred times each) for many more cases, by count or by time.
 *
 *   node --import tsx bench/fuzz.ts [--runs 20000 | --seconds 60] [--only nis/] [--seed N]
 *
 * Prints one line per target: cases run, time, cases per second, and how the inputs ended
 * (`value` or the error code), so a target whose inputs never reach a path shows it. On a
 * failure it prints fast-check's report (seed, path and the shrunk input) and exits 1: keep
 * that input as a fixture under test/fixtures/fuzz/ and fix the product code. Everything is
 * also written to bench/results/<out>.json. The outcome counts are of the parser calls
 * (a framing case pushes several chunks), not of cases.
 */
import fc from 'fast-check';
import { APCSMART_TARGETS } from '../test/fuzz/apcsmart.targets.ts';
import { COMMAND_TARGETS } from '../test/fuzz/commands.targets.ts';
import { CONFIG_TARGETS } from '../test/fuzz/config.targets.ts';
import { type FuzzTarget, fuzzSeed, resetTally, tally } from '../test/fuzz/harness.ts';
import { HID_TARGETS } from '../test/fuzz/hid.targets.ts';
import { NIS_TARGETS } from '../test/fuzz/nis.targets.ts';
import { NUT_SERVER_TARGETS } from '../test/fuzz/nut-server.targets.ts';
import { NUT_SOURCE_TARGETS } from '../test/fuzz/nut-source.targets.ts';
import { NUT_WORDS_TARGETS } from '../test/fuzz/nut-words.targets.ts';
import { type FlagSpec, flagHelp, parseFlags } from './lib/flags.ts';
import { machineFacts, writeResults } from './lib/results.ts';

const FLAGS: Record<string, FlagSpec> = {
  runs: { default: '20000', help: 'cases per target (ignored when --seconds is given)' },
  seconds: { default: '0', help: 'time per target in seconds instead of a case count (0: off)' },
  only: { default: '', help: 'run only targets whose name contains this text' },
  seed: { default: '', help: 'fast-check seed (default UPS2MQTT_FUZZ_SEED or the fixed one)' },
  out: { default: 'fuzz', help: 'results file name under bench/results/' },
};

const ALL: readonly FuzzTarget[] = [
  ...NIS_TARGETS,
  ...APCSMART_TARGETS,
  ...HID_TARGETS,
  ...NUT_WORDS_TARGETS,
  ...NUT_SOURCE_TARGETS,
  ...NUT_SERVER_TARGETS,
  ...COMMAND_TARGETS,
  ...CONFIG_TARGETS,
];

async function main(argv: readonly string[]): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(flagHelp('fuzz', 'Long fuzz run of every parser target.', FLAGS));
    return 0;
  }
  const seconds = flags.number('seconds', true);
  const runs = flags.number('runs');
  const seedText = flags.text('seed');
  const seed = seedText === '' ? fuzzSeed() : Number(seedText);
  const only = flags.text('only');
  const targets = ALL.filter((t) => t.name.includes(only));
  process.stdout.write(
    `fuzz: ${targets.length} target(s), seed ${seed}, ${seconds > 0 ? `${seconds} s` : `${runs} cases`} each\n`,
  );
  let failed = 0;
  const results: Record<string, unknown>[] = [];
  for (const target of targets) {
    resetTally();
    const started = performance.now();
    const details = await fc.check(target.property(), {
      seed,
      numRuns: seconds > 0 ? Number.MAX_SAFE_INTEGER : runs,
      ...(seconds > 0 ? { interruptAfterTimeLimit: seconds * 1000 } : {}),
      markInterruptAsFailure: false,
      endOnFailure: false,
    });
    const took = (performance.now() - started) / 1000;
    const outcomes = [...tally].map(([k, n]) => `${k} ${n}`).join(', ');
    const rate = Math.round(details.numRuns / took);
    const cells = [
      target.name.padEnd(40),
      `${details.numRuns} cases`.padStart(14),
      `${took.toFixed(1)} s`.padStart(8),
      `${rate}/s`.padStart(9),
    ];
    process.stdout.write(`${cells.join(' ')}  ${outcomes}\n`);
    const report = details.failed ? (fc.defaultReportMessage(details) ?? 'failed') : undefined;
    if (report !== undefined) {
      failed++;
      process.stdout.write(`${report}\n`);
    }
    results.push({
      target: target.name,
      cases: details.numRuns,
      seconds: Math.round(took * 100) / 100,
      casesPerSecond: rate,
      outcomes: Object.fromEntries(tally),
      ...(report === undefined ? {} : { failure: report }),
    });
  }
  const file = writeResults(flags.text('out'), {
    settings: {
      seed,
      runs: seconds > 0 ? null : runs,
      seconds: seconds > 0 ? seconds : null,
      only,
    },
    machine: machineFacts(),
    targets: results,
  });
  process.stdout.write(`results: ${file}\n`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
