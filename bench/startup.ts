/**
 * Process start to Home Assistant discovery: spawn the CLI against one fake NIS endpoint and
 * a fresh mosquitto, and time from `spawn()` to the retained
 * `homeassistant/device/ups2mqtt_<id>/config` reaching a subscriber, and to the first state.
 *
 * Two entries by default: the TypeScript source through tsx (how the repository runs it) and
 * a compiled build (how the npm package runs it: `node dist/cli/main.js`). The subscriber is
 * connected before the spawn and uses MQTT 5 Retain-As-Published, so the retain flag it sees
 * is the bridge's own. Each run gets a fresh broker, so no retained message of an earlier run
 * is there to be scanned or cleaned up.
 *
 *   node --import tsx bench/startup.ts [--runs 10] [--entries tsx,dist]
 */
import { startMosquitto } from '../test/helpers/mosquitto.ts';
import type { ProcessRegistry } from '../test/helpers/process.ts';
import { type BridgeLaunchOptions, spawnBridge } from './lib/bridge-process.ts';
import { buildDist } from './lib/dist-build.ts';
import { type FlagSpec, flagHelp, parseFlags } from './lib/flags.ts';
import { machineFacts, writeResults } from './lib/results.ts';
import { runBench, say } from './lib/run.ts';
import { round, roundSummary, summarize } from './lib/stats.ts';
import { TimedSubscriber } from './lib/subscriber.ts';
import { TimedNisMaster } from './lib/timed-master.ts';

const FLAGS: Record<string, FlagSpec> = {
  runs: { default: '10', help: 'runs per entry' },
  entries: {
    default: 'tsx,dist',
    help: 'tsx (src through tsx) and/or dist (compiled to a temporary folder)',
  },
  out: { default: 'startup', help: 'results file name under bench/results/' },
};

type Entry = 'tsx' | 'dist';
const UPS_ID = 'bench_startup';
const DISCOVERY_TOPIC = `homeassistant/device/ups2mqtt_${UPS_ID}/config`;
const STATE_TOPIC = `ups2mqtt/${UPS_ID}/state`;

/** One run's times, ms from spawn. */
interface StartupRun {
  discoveryMs: number;
  firstStateMs: number;
  discoveryRetained: boolean;
}

async function oneRun(
  registry: ProcessRegistry,
  port: number,
  entry: BridgeLaunchOptions['entry'],
): Promise<StartupRun> {
  const broker = await startMosquitto({ registry });
  const subscriber = registry.track(new TimedSubscriber());
  try {
    await subscriber.start(broker.url, [DISCOVERY_TOPIC, STATE_TOPIC], { retainAsPublished: true });
    const discovery = subscriber.waitFor(
      (m) => m.topic === DISCOVERY_TOPIC && m.payload.length > 0,
      30_000,
    );
    const state = subscriber.waitFor((m) => m.topic === STATE_TOPIC, 30_000);
    // Both waits are armed before the spawn, so nothing can arrive unobserved.
    const bridge = await spawnBridge({
      upses: [{ id: UPS_ID, port, pollIntervalS: 1 }],
      mqttUrl: broker.url,
      registry,
      ...(entry === undefined ? {} : { entry }),
    });
    try {
      const [d, s] = await Promise.all([discovery, state]);
      return {
        discoveryMs: round(d.receivedAt - bridge.spawnedAt),
        firstStateMs: round(s.receivedAt - bridge.spawnedAt),
        discoveryRetained: d.retain,
      };
    } finally {
      await bridge.stop();
    }
  } finally {
    await subscriber.stop();
    await broker.stop();
  }
}

async function main(registry: ProcessRegistry): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), FLAGS);
  if (flags.help) {
    say(
      flagHelp(
        'startup',
        'Spawn → retained discovery config and first state at a subscriber.',
        FLAGS,
      ),
    );
    return;
  }
  const runs = Math.round(flags.number('runs'));
  const entries = flags.choices<Entry>('entries', ['tsx', 'dist']);
  const machine = machineFacts();
  const master = registry.track(new TimedNisMaster());
  const port = await master.start();
  const results: Record<string, unknown>[] = [];
  say(`startup: ${runs} runs per entry (${entries.join(', ')})`);
  for (const entryName of entries) {
    const dist = entryName === 'dist' ? registry.track(await buildDist()) : undefined;
    const entry: BridgeLaunchOptions['entry'] =
      dist === undefined ? { kind: 'tsx' } : { kind: 'js', path: dist.main };
    // One unmeasured run warms the OS file cache (and tsx's transform cache) for the rest.
    await oneRun(registry, port, entry);
    const measured: StartupRun[] = [];
    for (let i = 0; i < runs; i++) measured.push(await oneRun(registry, port, entry));
    const discovery = roundSummary(summarize(measured.map((r) => r.discoveryMs)));
    const firstState = roundSummary(summarize(measured.map((r) => r.firstStateMs)));
    const retained = measured.every((r) => r.discoveryRetained);
    say(
      `  ${entryName.padEnd(4)}: spawn → discovery median ${discovery.median} ms, max ${discovery.max} ms;` +
        ` spawn → first state median ${firstState.median} ms, max ${firstState.max} ms; discovery retained: ${retained}`,
    );
    results.push({
      entry: entryName,
      discoveryMs: discovery,
      firstStateMs: firstState,
      discoveryRetained: retained,
      runs: measured,
    });
    await dist?.stop();
  }
  const file = writeResults(flags.text('out'), {
    benchmark: 'startup',
    command: `node --import tsx bench/startup.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    method:
      'fresh mosquitto per run, subscriber (MQTT 5, retain-as-published) connected before spawn; times from just before spawn() to receipt, monotonic clock; one unmeasured warm-up run per entry',
    results,
  });
  say(`results: ${file}`);
}

runBench(main);
