/**
 * Cost of the HID source's pure core, per poll, on the real captures in test/fixtures/hid:
 *
 * - `decode+map`: applying every report one poll reads (the poll plan of that descriptor:
 *   volatile and static reports) to the value store and mapping the signals to the
 *   normalized state. This is the CPU work per poll besides the USB transfers themselves.
 * - `read()`: a whole HidSource.read() over the replay transport without pacing, i.e. the
 *   above plus the session queue, timers and promises (no USB latency: a real device adds
 *   about 1 ms per control transfer and the 20 ms pacing between them).
 * - `input→wake`: from the replay transport delivering an interrupt report that changes
 *   the power status to the source calling its onWake listeners (the bridge then reads at
 *   once). On hardware, node-hid's read thread adds its own hop before this starts.
 *
 *   node --import tsx bench/hid-decode.ts [--iterations 20000] [--out hid-decode]
 */

import { readdirSync, readFileSync } from 'node:fs';
import { pino } from 'pino';
import { ManualClock } from '../src/core/clock.ts';
import { writeField } from '../src/sources/hid/bits.ts';
import { parseCapture } from '../src/sources/hid/capture.ts';
import { planPolls, resolveSignals } from '../src/sources/hid/connect.ts';
import { ValueStore } from '../src/sources/hid/decode.ts';
import { hexToBytes } from '../src/sources/hid/descriptor/items.ts';
import { parseReportDescriptor } from '../src/sources/hid/descriptor/parser.ts';
import { mapSignals } from '../src/sources/hid/mapping.ts';
import { quirkEffects, quirksFor } from '../src/sources/hid/quirks.ts';
import { ReplayDevice, ReplayEnumerator } from '../src/sources/hid/replay.ts';
import { ReportMap } from '../src/sources/hid/report-map.ts';
import { HidSource } from '../src/sources/hid/source.ts';
import { type FlagSpec, flagHelp, parseFlags } from './lib/flags.ts';
import { machineFacts, writeResults } from './lib/results.ts';
import { round, roundSummary, type Summary, summarize } from './lib/stats.ts';

const FLAGS: Record<string, FlagSpec> = {
  iterations: { default: '20000', help: 'timed iterations per measurement (after 10 % warm-up)' },
  out: { default: 'hid-decode', help: 'results file name under bench/results/' },
};

const FIXTURES = new URL('../test/fixtures/hid/', import.meta.url);
const nowUs = (): number => Number(process.hrtime.bigint()) / 1000;

/** The bench measures the HID path, not logging. */
const quiet = pino({ level: 'silent' });

function timeSync(iterations: number, fn: () => void): Summary {
  for (let i = 0; i < iterations / 10; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = nowUs();
    fn();
    samples.push(nowUs() - t0);
  }
  return roundSummary(summarize(samples), 2);
}

async function timeAsync(iterations: number, fn: () => Promise<void>): Promise<Summary> {
  for (let i = 0; i < iterations / 10; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = nowUs();
    await fn();
    samples.push(nowUs() - t0);
  }
  return roundSummary(summarize(samples), 2);
}

interface FixtureResult {
  fixture: string;
  descriptorBytes: number;
  reportsPerPoll: number;
  parseDescriptorUs: Summary;
  decodeAndMapUs: Summary;
  sourceReadUs: Summary;
  /** null where the interrupt pipe is not used (APC 5G). */
  inputToWakeUs: Summary | null;
}

async function benchFixture(file: string, iterations: number): Promise<FixtureResult | undefined> {
  const capture = parseCapture(JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')), file);
  if (Object.keys(capture.featureReports).length === 0) return undefined;
  const descriptor = hexToBytes(capture.descriptorHex);
  const map = new ReportMap(parseReportDescriptor(descriptor));
  const signalPaths = resolveSignals(map);
  const plan = planPolls({ map, signalPaths }, new Set());
  const reports = [...plan.volatile, ...plan.static]
    .map((id) => capture.featureReports[`0x${id.toString(16).padStart(2, '0')}`])
    .filter((hex): hex is string => hex !== undefined)
    .map(hexToBytes);
  const store = new ValueStore();
  const lookup = (name: keyof typeof signalPaths): number | undefined => {
    for (const p of signalPaths[name]) {
      const v = store.get(p);
      if (v !== undefined) return v;
    }
    return undefined;
  };

  const parseDescriptorUs = timeSync(Math.max(200, iterations / 20), () => {
    parseReportDescriptor(descriptor);
  });
  const decodeAndMapUs = timeSync(iterations, () => {
    for (const r of reports) store.apply(map, 'feature', r);
    mapSignals(lookup);
  });

  const device = new ReplayDevice(capture, `replay:${file}`);
  const source = new HidSource({
    description: `hid-replay://${file}`,
    selector: {},
    enumerator: new ReplayEnumerator(device),
    logger: quiet,
    clock: new ManualClock(),
    minGapMs: 0,
    staticRefreshMs: Number.POSITIVE_INFINITY,
  });
  const signal = new AbortController().signal;
  await source.open();
  const sourceReadUs = await timeAsync(Math.max(500, iterations / 10), async () => {
    await source.read(signal);
  });

  // Flip ACPresent in the status report each time so every delivery is a status change.
  const statusPath = signalPaths.acPresent.find((p) => map.field(p, 'input'));
  const field = statusPath === undefined ? undefined : map.field(statusPath, 'input');
  // 5G units do not use the interrupt pipe (quirks.ts): nothing to time there.
  const interrupt = !quirkEffects(quirksFor(device.info)).noInterrupt;
  let inputToWakeUs: Summary | null = null;
  if (field && interrupt) {
    const length = map.reportLength('input', field.reportId);
    const on = new Uint8Array(length);
    on[0] = field.reportId;
    const reportOn = writeField(field, on, 1);
    const reportOff = writeField(field, on, 0);
    let wokeAt = 0;
    source.onWake(() => {
      wokeAt = nowUs();
    });
    const samples: number[] = [];
    for (let i = 0; i < iterations * 1.1; i++) {
      const t0 = nowUs();
      device.emitInput(i % 2 === 0 ? reportOff : reportOn);
      if (wokeAt < t0) throw new Error('no wake-up for a status change');
      if (i >= iterations / 10) samples.push(wokeAt - t0);
    }
    inputToWakeUs = roundSummary(summarize(samples), 2);
  }
  await source.close();
  return {
    fixture: file,
    descriptorBytes: descriptor.length,
    reportsPerPoll: reports.length,
    parseDescriptorUs,
    decodeAndMapUs,
    sourceReadUs,
    inputToWakeUs,
  };
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), FLAGS);
  if (flags.help) {
    process.stdout.write(
      flagHelp('bench/hid-decode.ts', 'HID decode cost per poll and input→wake latency', FLAGS),
    );
    return;
  }
  const iterations = Math.round(flags.number('iterations'));
  const results: FixtureResult[] = [];
  for (const file of readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const r = await benchFixture(file, iterations);
    if (!r) continue;
    results.push(r);
    process.stdout.write(
      `${file}: ${r.reportsPerPoll} reports/poll; decode+map median ${r.decodeAndMapUs.median} µs ` +
        `(p99 ${r.decodeAndMapUs.p99}); read() ${r.sourceReadUs.median} µs; ` +
        `input→wake ${r.inputToWakeUs ? `${r.inputToWakeUs.median} µs (p99 ${r.inputToWakeUs.p99})` : 'n/a (no interrupt pipe)'}; ` +
        `descriptor parse ${r.parseDescriptorUs.median} µs\n`,
    );
  }
  const file = writeResults(flags.text('out'), {
    benchmark: 'hid-decode',
    iterations,
    machine: machineFacts(),
    medianDecodeAndMapUs: round(Math.max(...results.map((r) => r.decodeAndMapUs.median)), 2),
    results,
  });
  process.stdout.write(`results: ${file}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
