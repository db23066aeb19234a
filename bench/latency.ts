/**
 * Latency from a change visible on NIS to the state message at an MQTT subscriber.
 *
 * A fake NIS master (this process), real mosquitto and the bridge as a spawned CLI. For each
 * sample the script waits a random time in [0, interval) after the previous state arrived —
 * so the change lands at a uniformly random phase of the poll cycle — changes one value on
 * the master and times until a state carrying it arrives. It also times the bridge-side part:
 * from the master building the first reply that carries the change (the poll that sees it)
 * to the subscriber receiving the state. With polling the expected end-to-end median is
 * about interval/2 plus that processing time, and the tail about one interval plus it.
 *
 *   node --import tsx bench/latency.ts [--samples 100] [--intervals 1,0.2] [--changes linev,status]
 */
import { startMosquitto } from '../test/helpers/mosquitto.ts';
import type { ProcessRegistry } from '../test/helpers/process.ts';
import { spawnBridge } from './lib/bridge-process.ts';
import { monoMs, sleep } from './lib/clock.ts';
import { type FlagSpec, flagHelp, parseFlags } from './lib/flags.ts';
import { machineFacts, writeResults } from './lib/results.ts';
import { runBench, say } from './lib/run.ts';
import { round, roundSummary, type Summary, summarize } from './lib/stats.ts';
import { booleanField, numberField, TimedSubscriber } from './lib/subscriber.ts';
import { TimedNisMaster } from './lib/timed-master.ts';

/**
 * What is changed on the master:
 * - `linev`: LINEV to a new value — one `status` request sees it;
 * - `status`: STATUS/STATFLAG between ONLINE and ONBATT — the bridge then also asks for
 *   `events` before publishing (a status change hints at a new log line), a second request.
 */
type ChangeKind = 'linev' | 'status';
const CHANGE_KINDS: readonly ChangeKind[] = ['linev', 'status'];

const FLAGS: Record<string, FlagSpec> = {
  samples: { default: '100', help: 'samples per setting (at least 50 for a meaningful p99)' },
  intervals: { default: '1,0.2', help: 'poll intervals in seconds, comma-separated' },
  changes: { default: 'linev,status', help: 'what to change: linev, status' },
  out: { default: 'latency', help: 'results file name under bench/results/' },
};

const UPS_ID = 'bench_latency';
const STATE_TOPIC = `ups2mqtt/${UPS_ID}/state`;

/** One setting's outcome. */
interface SettingResult {
  intervalS: number;
  change: ChangeKind;
  samples: number;
  /** Change on NIS → state at the subscriber. */
  endToEndMs: Summary;
  /** Reply carrying the change built → state at the subscriber (the bridge's own share). */
  processingMs: Summary;
  /** endToEnd median minus interval/2: what polling alone does not explain. */
  medianOverHalfIntervalMs: number;
  raw: { endToEndMs: number[]; processingMs: number[] };
}

async function measureSetting(
  registry: ProcessRegistry,
  mqttUrl: string,
  intervalS: number,
  change: ChangeKind,
  samples: number,
): Promise<SettingResult> {
  const master = registry.track(new TimedNisMaster());
  const port = await master.start();
  const subscriber = registry.track(new TimedSubscriber());
  await subscriber.start(mqttUrl, [STATE_TOPIC]);
  const bridge = await spawnBridge({
    upses: [{ id: UPS_ID, port, pollIntervalS: intervalS }],
    mqttUrl,
    registry,
  });
  try {
    await subscriber.waitFor((m) => m.topic === STATE_TOPIC, 20_000);
    // Let start-up work (discovery, the first events fetch) settle before sampling.
    await sleep(Math.max(2000, 3 * intervalS * 1000));
    const endToEnd: number[] = [];
    const processing: number[] = [];
    const intervalMs = intervalS * 1000;
    for (let i = 0; i < samples; i++) {
      await sleep(Math.random() * intervalMs);
      const { predicate } = applyChange(master, change, i);
      let servedAt: number | undefined;
      master.onStatusReply = (at) => {
        servedAt ??= at;
      };
      const changedAt = monoMs();
      const message = await subscriber.waitFor(
        (m) => m.topic === STATE_TOPIC && predicate(m.payload),
        10_000 + 3 * intervalMs,
      );
      master.onStatusReply = undefined;
      endToEnd.push(message.receivedAt - changedAt);
      if (servedAt !== undefined) processing.push(message.receivedAt - servedAt);
    }
    const e2e = summarize(endToEnd);
    return {
      intervalS,
      change,
      samples,
      endToEndMs: roundSummary(e2e),
      processingMs: roundSummary(summarize(processing)),
      medianOverHalfIntervalMs: round(e2e.median - intervalMs / 2),
      raw: {
        endToEndMs: endToEnd.map((v) => round(v, 3)),
        processingMs: processing.map((v) => round(v, 3)),
      },
    };
  } finally {
    await bridge.stop();
    await subscriber.stop();
    await master.stop();
  }
}

/** Makes sample `i`'s change and returns how to recognise it in a state payload. */
function applyChange(
  master: TimedNisMaster,
  change: ChangeKind,
  i: number,
): { predicate: (payload: Buffer) => boolean } {
  if (change === 'linev') {
    // A value no earlier sample used, so a late or repeated state cannot match.
    const volts = Math.round((200 + (i % 400) * 0.1) * 10) / 10;
    master.setRecord('LINEV', `${volts.toFixed(1)} Volts`);
    return { predicate: (p) => numberField(p, 'input_voltage_v') === volts };
  }
  const onBattery = i % 2 === 0;
  master.setUpsStatus(onBattery ? 'ONBATT' : 'ONLINE');
  return { predicate: (p) => booleanField(p, 'on_battery') === onBattery };
}

async function main(registry: ProcessRegistry): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), FLAGS);
  if (flags.help) {
    say(flagHelp('latency', 'Change on NIS → state at an MQTT subscriber.', FLAGS));
    return;
  }
  const samples = flags.number('samples');
  const intervals = flags.numbers('intervals');
  const changes = flags.choices('changes', CHANGE_KINDS);
  const machine = machineFacts();
  const broker = await startMosquitto({ registry });
  const results: SettingResult[] = [];
  say(
    `latency: ${samples} samples per setting, intervals ${intervals.join(', ')} s, changes ${changes.join(', ')}`,
  );
  for (const intervalS of intervals) {
    for (const change of changes) {
      const r = await measureSetting(registry, broker.url, intervalS, change, samples);
      results.push(r);
      say(
        `  interval ${intervalS} s, ${change.padEnd(6)}: end-to-end median ${r.endToEndMs.median} ms, p99 ${r.endToEndMs.p99} ms, max ${r.endToEndMs.max} ms` +
          ` | bridge processing median ${r.processingMs.median} ms, p99 ${r.processingMs.p99} ms` +
          ` | median − interval/2 = ${r.medianOverHalfIntervalMs} ms`,
      );
    }
  }
  const file = writeResults(flags.text('out'), {
    benchmark: 'latency',
    command: `node --import tsx bench/latency.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    method:
      'fake NIS master in the driver process, real mosquitto, bridge spawned as CLI; change at a random phase, time to the first state carrying it (monotonic clock)',
    results,
  });
  say(`results: ${file}`);
}

runBench(main);
