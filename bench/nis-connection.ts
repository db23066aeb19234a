/**
 * How long one NIS `status` request takes against a REAL apcupsd (NIS slave of a scripted
 * master, private config, as in the integration tests), through the bridge's own client:
 *
 * - `fresh`: a new connection per request (`nis.reuse_connection: false`, apcaccess's way);
 * - `kept`: one connection kept open between requests (the default), for several gaps
 *   between the end of one reply and the next request;
 * - `events after status`: an `events` request sent on the kept connection the moment the
 *   status reply ended (the bridge does not do this: NisConnectionPool sends it on a fresh
 *   connection), to show the delayed-ACK stall the pool's 50 ms minimum gap avoids.
 *
 * The pool's own gap rule is bypassed here (minGapMs 0) so every gap can be measured.
 *
 *   node --import tsx bench/nis-connection.ts [--samples 30] [--gaps 0,10,30,40,50,100,1000]
 */
import { createConnection } from 'node:net';
import { systemClock } from '../src/core/clock.ts';
import { nisRequest } from '../src/sources/nis/client.ts';
import { NisConnectionPool } from '../src/sources/nis/pool.ts';
import { startApcupsd } from '../test/helpers/apcupsd.ts';
import { FakeNisMaster } from '../test/helpers/fake-nis-master.ts';
import { monoMs, sleep } from './lib/clock.ts';
import { type FlagSpec, flagHelp, parseFlags } from './lib/flags.ts';
import { machineFacts, writeResults } from './lib/results.ts';
import { runBench, say } from './lib/run.ts';
import { roundSummary, type Summary, summarize } from './lib/stats.ts';

const FLAGS: Record<string, FlagSpec> = {
  samples: { default: '30', help: 'requests per row' },
  gaps: {
    default: '0,10,30,40,50,100,1000',
    help: 'ms between the end of one reply and the next request, comma-separated',
  },
  out: { default: 'nis-connection', help: 'results file name under bench/results/' },
};

interface Row {
  readonly mode: 'fresh' | 'kept' | 'events after status';
  readonly gapMs: number;
  /** Request sent → whole reply decoded, ms. */
  readonly requestMs: Summary;
  /** Connections the client opened for the row (the first one included). */
  readonly connections: number;
}

runBench(async (registry) => {
  const flags = parseFlags(process.argv.slice(2), FLAGS);
  if (flags.help) {
    say(flagHelp('nis-connection', 'NIS request time against a real apcupsd.', FLAGS));
    return;
  }
  const samples = Math.round(flags.number('samples'));
  const gaps = flags.text('gaps').split(',').map(Number);
  const master = new FakeNisMaster();
  await master.start();
  registry.track(master);
  const apcupsd = await startApcupsd({ masterPort: master.port, registry });
  const port = apcupsd.nisPort;
  say(`nis-connection: apcupsd NIS on 127.0.0.1:${port}, ${samples} requests per row`);

  let connects = 0;
  // The client's own connector, counted.
  const connect = (host: string, p: number) => {
    connects += 1;
    return createConnection({ host, port: p });
  };
  const request = async (
    command: 'status' | 'events',
    pool: NisConnectionPool | undefined,
  ): Promise<number> => {
    const t0 = monoMs();
    await nisRequest({
      host: '127.0.0.1',
      port,
      command,
      connect,
      ...(pool === undefined ? {} : { pool }),
    });
    return monoMs() - t0;
  };

  const rows: Row[] = [];
  const report = (row: Row): void => {
    rows.push(row);
    const s = row.requestMs;
    say(
      `  ${row.mode.padEnd(19)} gap ${String(row.gapMs).padStart(4)} ms: median ${s.median} ms, p90 ${s.p90}, max ${s.max} (${row.connections} connection${row.connections === 1 ? '' : 's'})`,
    );
  };

  for (const gapMs of gaps) {
    // Fresh connections, the same gap for comparison.
    connects = 0;
    const fresh: number[] = [];
    for (let i = 0; i < samples; i++) {
      fresh.push(await request('status', undefined));
      await sleep(gapMs);
    }
    report({
      mode: 'fresh',
      gapMs,
      requestMs: roundSummary(summarize(fresh)),
      connections: connects,
    });

    connects = 0;
    const pool = new NisConnectionPool({ clock: systemClock, minGapMs: 0 });
    await request('status', pool); // opens the connection; not timed
    const kept: number[] = [];
    const eventsAfter: number[] = [];
    for (let i = 0; i < samples; i++) {
      await sleep(gapMs);
      kept.push(await request('status', pool));
    }
    report({
      mode: 'kept',
      gapMs,
      requestMs: roundSummary(summarize(kept)),
      connections: connects,
    });
    if (gapMs === gaps[0]) {
      for (let i = 0; i < samples; i++) {
        await sleep(1000 / 10);
        await request('status', pool);
        eventsAfter.push(await request('events', pool));
      }
      report({
        mode: 'events after status',
        gapMs: 0,
        requestMs: roundSummary(summarize(eventsAfter)),
        connections: connects,
      });
    }
    pool.drop();
  }

  const file = writeResults(flags.text('out'), {
    benchmark: 'nis-connection',
    command: `node --import tsx bench/nis-connection.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machineFacts(),
    settings: { samples, gaps },
    rows,
  });
  say(`results: ${file}`);
});
