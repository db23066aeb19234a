/**
 * How long one reading of a UPS takes through the `nut://` source against a REAL upsd
 * (Debian's upsd + dummy-ups 2.8.0, private config, as in the integration tests): one
 * `LIST VAR <ups>` on the kept connection, parsed and mapped to the state, for each dump of
 * test/fixtures/nut; plus the first reading of a fresh source (connect + LIST VAR + LIST CMD)
 * and `upsc` itself for comparison.
 *
 *   node --import tsx bench/nut-read.ts [--samples 50] [--gap 100]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { systemClock } from '../src/core/clock.ts';
import { NutClientRegistry } from '../src/sources/nut/registry.ts';
import { createNutSource } from '../src/sources/nut/source.ts';
import { parseSourceUri } from '../src/sources/uri.ts';
import { startNut } from '../test/helpers/nut.ts';
import { monoMs, sleep } from './lib/clock.ts';
import { type FlagSpec, flagHelp, parseFlags } from './lib/flags.ts';
import { machineFacts, writeResults } from './lib/results.ts';
import { runBench, say } from './lib/run.ts';
import { roundSummary, type Summary, summarize } from './lib/stats.ts';

const FLAGS: Record<string, FlagSpec> = {
  samples: { default: '50', help: 'readings per row' },
  gap: { default: '100', help: 'ms between two readings' },
  out: { default: 'nut-read', help: 'results file name under bench/results/' },
};

const FIXTURES = join(import.meta.dirname, '../test/fixtures/nut');
const DUMPS: Record<string, string> = {
  es: 'APC__Back-UPS_ES_850G2__usbhid-ups__2.8.0__01.dev',
  smt750: 'APC__Smart-UPS_750__apc_modbus__2.8.2__01.dev',
};

interface Row {
  readonly what: string;
  readonly ups: string;
  readonly variables: number;
  readonly readMs: Summary;
}

runBench(async (registry) => {
  const flags = parseFlags(process.argv.slice(2), FLAGS);
  if (flags.help) {
    say(flagHelp('nut-read', 'One nut:// reading against a real upsd.', FLAGS));
    return;
  }
  const samples = Math.round(flags.number('samples'));
  const gap = flags.number('gap');
  const nut = await startNut({
    upses: Object.entries(DUMPS).map(([name, file]) => ({
      name,
      dev: readFileSync(join(FIXTURES, file), 'utf8'),
    })),
    registry,
  });
  say(`nut-read: upsd on 127.0.0.1:${nut.port}, ${samples} readings per row, ${gap} ms apart`);
  const logger = pino({ level: 'silent' });
  const rows: Row[] = [];
  const make = (reg: NutClientRegistry, ups: string) =>
    createNutSource(parseSourceUri(`nut://127.0.0.1:${nut.port}/${ups}`) as never, {
      registry: reg,
      knownCommands: new Set(['load.off']),
      logger,
      clock: systemClock,
    });

  for (const ups of Object.keys(DUMPS)) {
    const kept = make(new NutClientRegistry({ timeoutMs: 3000 }, logger, systemClock), ups);
    // Variables upsd serves for this UPS (the list's items).
    const variables = (await nut.ask(`LIST VAR ${ups}`)).length - 2;
    await kept.read(AbortSignal.timeout(3000)); // connects and asks LIST CMD; not timed
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      await sleep(gap);
      const t0 = monoMs();
      await kept.read(AbortSignal.timeout(3000));
      times.push(monoMs() - t0);
    }
    await kept.close();
    rows.push({ what: 'kept connection', ups, variables, readMs: roundSummary(summarize(times)) });

    const first: number[] = [];
    for (let i = 0; i < Math.min(samples, 20); i++) {
      await sleep(gap);
      const fresh = make(new NutClientRegistry({ timeoutMs: 3000 }, logger, systemClock), ups);
      const t0 = monoMs();
      await fresh.read(AbortSignal.timeout(3000));
      first.push(monoMs() - t0);
      await fresh.close();
    }
    rows.push({
      what: 'first reading (connect, LIST VAR, LIST CMD)',
      ups,
      variables,
      readMs: roundSummary(summarize(first)),
    });

    const upsc: number[] = [];
    for (let i = 0; i < Math.min(samples, 20); i++) {
      await sleep(gap);
      const t0 = monoMs();
      execFileSync(join(nut.root, 'bin/upsc'), [`${ups}@127.0.0.1:${nut.port}`], {
        env: nut.env,
        stdio: ['ignore', 'ignore', 'ignore'],
      });
      upsc.push(monoMs() - t0);
    }
    rows.push({
      what: 'upsc (process start included)',
      ups,
      variables,
      readMs: roundSummary(summarize(upsc)),
    });
  }
  for (const r of rows) {
    say(
      `  ${r.ups.padEnd(7)} ${r.what.padEnd(44)} median ${r.readMs.median} ms, p90 ${r.readMs.p90}, max ${r.readMs.max}`,
    );
  }
  const file = writeResults(flags.text('out'), {
    benchmark: 'nut-read',
    command: `node --import tsx bench/nut-read.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machineFacts(),
    settings: { samples, gap },
    rows,
  });
  say(`results: ${file}`);
});
