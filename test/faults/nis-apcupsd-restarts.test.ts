/**
 * Fault: the apcupsd the bridge polls dies and comes back, 20 times (SIGKILL and SIGTERM in
 * turn). A real apcupsd (Smart driver) reads the Smart-UPS simulator over a socat pty; the
 * bridge CLI polls its NIS every 0.5 s and publishes to a real mosquitto.
 *
 * After each kill the UPS must turn unavailable within two poll intervals; after each
 * restart it must be back within one interval of apcupsd's NIS giving a real reading. For
 * about a second after it starts, apcupsd answers with placeholders (first an empty
 * STATUS, then `ONLINE REPLACEBATT` with 0 V, 0 % and -1 settings, for ~20 ms): none of them
 * may be published as a reading. The retained state after each recovery is newer than the
 * restart, and the process holds no more than it did before the campaign.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import { isUps2MqttError } from '../../src/core/errors.ts';
import { NisSource } from '../../src/sources/nis/source.ts';
import { nisFields, nisRequest } from '../helpers/apcupsd.ts';
import { captureLogger } from '../helpers/log-capture.ts';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { ProcessRegistry } from '../helpers/process.ts';
import { type SmartApcupsd, startSmartApcupsd } from '../helpers/smart-ups-sim/apcupsd-smart.ts';
import { SmartUpsSimulator } from '../helpers/smart-ups-sim/simulator.ts';
import {
  assertOnlyRealReadings,
  availabilityAfter,
  counts,
  latencyFigures,
  printFigures,
  statesSince,
  upsTopics,
} from './campaign.ts';
import { BridgeUnderTest, resourceGrowth } from './harness.ts';

const INTERVAL_MS = 500;
const CYCLES = 20;
const UPS = 'apc';
/** The simulated SU420 on mains, as every real reading shows it. */
const REAL = { status: 'online', input_voltage_v: 231.8, battery_charge_pct: 100 };

/** A `status` reply that is a reading: a STATUS, a MODEL, no -1 transfer voltages. */
function isRealReading(lines: readonly string[]): boolean {
  const f = nisFields(lines.map((l) => l.replace(/\n$/, '')));
  return (
    (f.get('STATUS') ?? '').trim() !== '' &&
    (f.get('MODEL') ?? '').trim() !== '' &&
    !(f.get('LOTRANS') ?? '').startsWith('-')
  );
}

/**
 * Polls apcupsd's NIS every 10 ms until a real reading comes back; returns when that was
 * (Date.now()) and the placeholder replies seen before it (status lines, one array each).
 */
async function firstRealReading(
  port: number,
  deadlineMs: number,
): Promise<{ at: number; placeholders: string[][] }> {
  const placeholders: string[][] = [];
  while (Date.now() < deadlineMs) {
    const lines = await nisRequest(port, 'status', 1000).catch(() => undefined);
    if (lines !== undefined && isRealReading(lines)) return { at: Date.now(), placeholders };
    if (lines !== undefined) placeholders.push(lines.map((l) => l.replace(/\n$/, '')));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('apcupsd gave no real reading in time');
}

/** What the NIS source makes of one `status` reply: its error code, or `reading`. */
async function sourceVerdict(lines: readonly string[]): Promise<string> {
  const source = new NisSource({
    host: '127.0.0.1',
    port: 1,
    connectTimeoutMs: 1000,
    readTimeoutMs: 1000,
    logger: captureLogger().logger,
    clock: systemClock,
    request: async (opts) => (opts.command === 'status' ? [...lines] : []),
  });
  try {
    await source.read(new AbortController().signal);
    return 'reading';
  } catch (err) {
    return isUps2MqttError(err) ? err.code : String(err);
  }
}

/** A short name for a placeholder reply: its STATUS and LOTRANS. */
function placeholderKind(lines: readonly string[]): string {
  const f = nisFields(lines);
  return `STATUS=${JSON.stringify(f.get('STATUS') ?? null)} LOTRANS=${f.get('LOTRANS') ?? '-'}`;
}

describe('fault: apcupsd killed and restarted while polled', { timeout: 110_000 }, () => {
  const registry = new ProcessRegistry();
  let broker: MosquittoHandle;
  let rec: MqttRecording;
  let sim: SmartUpsSimulator;
  let apcupsd: SmartApcupsd;
  let bridge: BridgeUnderTest;

  before(async () => {
    broker = await startMosquitto({ registry });
    rec = registry.track(await recordMqtt(broker.url, [`ups2mqtt/${UPS}/#`]));
    sim = await SmartUpsSimulator.start({ registry });
    apcupsd = await startSmartApcupsd({ device: sim.devicePath, registry });
    bridge = await BridgeUnderTest.start(registry, 'bridge', {
      UPS2MQTT_SOURCE: `nis://127.0.0.1:${apcupsd.nisPort}`,
      UPS2MQTT_UPS_ID: UPS,
      UPS2MQTT_MQTT_URL: broker.url,
      UPS2MQTT_POLL_INTERVAL: String(INTERVAL_MS / 1000),
      UPS2MQTT_HOMEASSISTANT_ENABLED: 'false',
    });
    await availabilityAfter(rec, UPS, 'online', 0, 20_000);
  });
  after(async () => {
    await apcupsd?.stop();
    await registry.stopAll();
  });

  it(`${CYCLES} kills: offline within two intervals, online within one of a real reading, nothing placeholder, no growth`, async () => {
    // Several polls in, so lazily created things (the kept connection, caches) exist.
    await new Promise((resolve) => setTimeout(resolve, 4 * INTERVAL_MS));
    const baseline = await bridge.settledSnapshot();
    const offline: number[] = [];
    const online: number[] = [];
    const campaignStart = Date.now();
    const placeholderKinds = new Map<string, number>();
    const placeholderSamples = new Map<string, string[]>();
    for (let i = 0; i < CYCLES; i++) {
      const signal = i % 2 === 0 ? 'SIGKILL' : 'SIGTERM';
      const killedAt = Date.now();
      apcupsd.proc.kill(signal);
      await apcupsd.proc.exited;
      const down = await availabilityAfter(rec, UPS, 'offline', killedAt, 10_000);
      offline.push(down.receivedAt - killedAt);
      await apcupsd.stop(); // its folder; the process is gone already

      const restartedAt = Date.now();
      const starting = startSmartApcupsd({
        device: sim.devicePath,
        registry,
        nisPort: apcupsd.nisPort,
      });
      const real = await firstRealReading(apcupsd.nisPort, restartedAt + 20_000);
      const realAt = real.at;
      for (const lines of real.placeholders) {
        const kind = placeholderKind(lines);
        placeholderKinds.set(kind, (placeholderKinds.get(kind) ?? 0) + 1);
        if (!placeholderSamples.has(kind)) placeholderSamples.set(kind, lines);
      }
      const up = await availabilityAfter(rec, UPS, 'online', restartedAt, 10_000);
      online.push(up.receivedAt - realAt);
      apcupsd = await starting;
      // The bridge publishes the fresh state, then availability: the state is already in.
      const before = rec.messages.filter(
        (m) =>
          m.topic === upsTopics(UPS).state &&
          m.receivedAt >= restartedAt &&
          m.receivedAt <= up.receivedAt,
      );
      const last = before.at(-1);
      assert.ok(last, `cycle ${i}: a state published before online`);
      assert.equal((JSON.parse(last.text) as { status: string }).status, 'online');

      const retained = await rec.retained(upsTopics(UPS).state);
      assert.ok(retained, `cycle ${i}: a retained state`);
      const state = JSON.parse(retained.text) as { updated_at: string; status: string };
      const story = (): string =>
        `${rec.messages
          .filter((m) => m.receivedAt >= killedAt && !m.topic.endsWith('/event'))
          .map((m) => `${m.receivedAt - killedAt} ms ${m.topic} ${m.text.slice(0, 160)}`)
          .join('\n')}\n${bridge.process.output().slice(-6000)}`;
      assert.equal(state.status, 'online', `cycle ${i} (${signal}): ${story()}`);
      assert.ok(
        Date.parse(state.updated_at) >= restartedAt,
        `cycle ${i}: retained updated_at ${state.updated_at} is after the restart at ${new Date(restartedAt).toISOString()}`,
      );
    }
    assertOnlyRealReadings(statesSince(rec, UPS, campaignStart), REAL, 'campaign');
    // The bridge polls every 0.5 s and may miss a ~20 ms window; the 10 ms probe does not.
    // Every placeholder apcupsd gave must be refused by the source, whatever the bridge hit.
    assert.ok(placeholderKinds.size >= 1, 'the probe saw apcupsd start up');
    for (const [kind, lines] of placeholderSamples) {
      assert.equal(await sourceVerdict(lines), 'NOT_READY', `${kind}:\n${lines.join('\n')}`);
    }
    assert.ok(bridge.process.running(), bridge.process.output());

    const end = await bridge.settledSnapshot();
    const off = latencyFigures(offline, INTERVAL_MS);
    const on = latencyFigures(online, INTERVAL_MS);
    printFigures('apcupsd killed and restarted', {
      cycles: CYCLES,
      intervalMs: INTERVAL_MS,
      offline: off,
      backOnline: on,
      before: counts(baseline),
      after: counts(end),
      placeholderRepliesSeen: Object.fromEntries(placeholderKinds),
    });
    // Heap: the default 3 MiB (what is in flight after a GC), nothing per fault.
    assert.deepEqual(resourceGrowth(baseline, end), []);
    // A poll lands anywhere in the interval: offline comes with the second failed poll (1–2
    // intervals after the kill), online with the first poll after apcupsd answers (0–1
    // interval). Bounds with room for a loaded 2-core machine that still fail a retry
    // backoff (median 3.1 intervals back online before it was removed).
    assert.ok(off.medianMs <= 2 * INTERVAL_MS + 250, `offline ${JSON.stringify(off)}`);
    assert.ok(off.maxMs <= 2 * INTERVAL_MS + 1000, `offline ${JSON.stringify(off)}`);
    assert.ok(on.medianMs <= 1.5 * INTERVAL_MS, `back online ${JSON.stringify(on)}`);
    assert.ok(on.maxMs <= INTERVAL_MS + 1000, `back online ${JSON.stringify(on)}`);
  });
});
