/**
 * Fault: the USB HID UPS vanishes and returns (12 times: an unplug that node-hid reports as
 * an error event, then one it only reports on the next transfer, in turn), and stalls
 * (transfers that never complete, 5 times, each held past the source's 2 s transfer timeout).
 *
 * There is no USB hardware here: the bridge CLI reads a real capture through `hid-replay://`
 * and a test-only preload (hid-fault-preload.ts) makes the replayed device fail as node-hid
 * reports a real one failing. Everything above the transport (source, bridge, MQTT) is the
 * product's own code in the CLI child. After every fault: offline within two intervals,
 * online within one interval of the device returning, only the capture's real readings
 * published, resources back to the baseline.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { ProcessRegistry } from '../helpers/process.ts';
import {
  assertOnlyRealReadings,
  availabilityAfter,
  counts,
  latencyFigures,
  printFigures,
  statesSince,
  upsTopics,
  warnLines,
} from './campaign.ts';
import { BridgeUnderTest, type ResourceSnapshot, resourceGrowth } from './harness.ts';
import type { HidFaultAction } from './hid-fault-preload.ts';

const CAPTURE = fileURLToPath(
  new URL('../fixtures/hid/apc-051d-0002-back-ups-es-850g2.json', import.meta.url),
);
const PRELOAD = fileURLToPath(new URL('./hid-fault-preload.ts', import.meta.url));
const INTERVAL_MS = 500;
/** HidSource's transfer timeout (src/sources/hid/source.ts; not configurable). */
const TRANSFER_TIMEOUT_MS = 2000;
const UNPLUGS = 12;
const STALLS = 5;
const UPS = 'es850';
/** The capture's values (the unit on mains, charged). */
const REAL = { status: 'online', input_voltage_v: 228, battery_charge_pct: 100 };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends a fault to the preload; resolves with the moment it took effect in the bridge. */
function hidFault(bridge: BridgeUnderTest, action: HidFaultAction, id: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`hid fault ${action} not acknowledged`));
    }, 5000);
    const off = bridge.process.onMessage((m) => {
      const ack = m as { type?: unknown; id?: unknown; at?: unknown };
      if (ack.type !== 'ups2mqtt-hid-fault-ack' || ack.id !== id) return;
      clearTimeout(timer);
      off();
      resolve(Number(ack.at));
    });
    if (!bridge.process.send({ type: 'ups2mqtt-hid-fault', id, action })) {
      clearTimeout(timer);
      off();
      reject(new Error('bridge not running'));
    }
  });
}

/** Waits for `n` more state-bearing polls: the bridge logs none, so wait on wall time. */
async function polls(n: number): Promise<void> {
  await sleep(n * INTERVAL_MS);
}

/**
 * Warnings of one fault: the loss with its cause and the device missing from enumeration
 * (source), the first failed poll and the unavailability (bridge); none of them twice, so
 * no warning per failed poll or per re-open of a device that stalls again.
 */
function assertFewWarnings(bridge: BridgeUnderTest, from: number, to: number, where: string): void {
  const msgs = warnLines(bridge.process.output(), from, to).map((l) => String(l.msg));
  assert.ok(msgs.length <= 4, `${where}: ${JSON.stringify(msgs)}`);
  assert.equal(new Set(msgs).size, msgs.length, `${where}: repeated ${JSON.stringify(msgs)}`);
}

/**
 * The end of a campaign: back to baseline after a few polls, the figures printed, and the
 * bounds: offline within two intervals, back within one (plus timer lag on a loaded machine).
 */
async function finishCampaign(
  bridge: BridgeUnderTest,
  fault: string,
  baseline: ResourceSnapshot,
  offline: number[],
  online: number[],
  extra: Record<string, unknown>,
): Promise<void> {
  assert.ok(bridge.process.running(), bridge.process.output());
  await polls(4);
  const end = await bridge.settledSnapshot();
  const off = latencyFigures(offline, INTERVAL_MS);
  const on = latencyFigures(online, INTERVAL_MS);
  printFigures(fault, {
    ...extra,
    intervalMs: INTERVAL_MS,
    offline: off,
    backOnline: on,
    before: counts(baseline),
    after: counts(end),
  });
  assert.deepEqual(resourceGrowth(baseline, end), []);
  assert.ok(off.maxMs <= 2 * INTERVAL_MS + 250, `offline ${JSON.stringify(off)}`);
  assert.ok(on.maxMs <= INTERVAL_MS + 250, `back online ${JSON.stringify(on)}`);
}

describe('fault: the USB HID UPS vanishes, returns and stalls', { timeout: 150_000 }, () => {
  const registry = new ProcessRegistry();
  let broker: MosquittoHandle;
  let rec: MqttRecording;
  let bridge: BridgeUnderTest;
  let faultId = 1;

  before(async () => {
    broker = await startMosquitto({ registry });
    rec = registry.track(await recordMqtt(broker.url, [`ups2mqtt/${UPS}/#`]));
    bridge = await BridgeUnderTest.start(
      registry,
      'bridge',
      {
        UPS2MQTT_SOURCE: `hid-replay://${CAPTURE}`,
        UPS2MQTT_UPS_ID: UPS,
        UPS2MQTT_MQTT_URL: broker.url,
        UPS2MQTT_POLL_INTERVAL: String(INTERVAL_MS / 1000),
        UPS2MQTT_HOMEASSISTANT_ENABLED: 'false',
      },
      [],
      { preload: [PRELOAD] },
    );
    await availabilityAfter(rec, UPS, 'online', 0, 30_000);
  });
  after(() => registry.stopAll());

  it(`${UNPLUGS} unplugs: offline within two intervals, back within one of the replug, no growth`, async () => {
    await polls(4);
    const baseline = await bridge.settledSnapshot();
    const offline: number[] = [];
    const online: number[] = [];
    const campaignStart = Date.now();
    for (let i = 0; i < UNPLUGS; i++) {
      const lostAt = await hidFault(bridge, i % 2 === 0 ? 'unplug' : 'unplug-quiet', faultId++);
      const down = await availabilityAfter(rec, UPS, 'offline', lostAt, 15_000);
      offline.push(down.receivedAt - lostAt);
      // The device returns at a different point of the poll cycle each time.
      await sleep((i / UNPLUGS) * INTERVAL_MS);
      const backAt = await hidFault(bridge, 'replug', faultId++);
      const up = await availabilityAfter(rec, UPS, 'online', backAt, 15_000);
      online.push(up.receivedAt - backAt);
      // The state retained on `online` is a reading taken after the device returned.
      const kept = await rec.retained(upsTopics(UPS).state);
      const keptAt = Date.parse(String(JSON.parse(kept?.text ?? '{}').updated_at));
      assert.ok(
        keptAt >= backAt - 5,
        `cycle ${i}: retained state older than the replug: ${kept?.text}`,
      );
      assertFewWarnings(bridge, lostAt, up.receivedAt, `unplug ${i}`);
    }
    assertOnlyRealReadings(statesSince(rec, UPS, campaignStart), REAL, 'HID unplugs');
    await finishCampaign(bridge, 'USB HID UPS unplugged and replugged', baseline, offline, online, {
      cycles: UNPLUGS,
    });
  });

  it(`${STALLS} stalls past the transfer timeout: offline within two intervals, back within one`, async () => {
    await polls(4);
    const baseline = await bridge.settledSnapshot();
    const offline: number[] = [];
    const online: number[] = [];
    const campaignStart = Date.now();
    for (let i = 0; i < STALLS; i++) {
      const stalledAt = await hidFault(bridge, 'stall', faultId++);
      const down = await availabilityAfter(rec, UPS, 'offline', stalledAt, 15_000);
      offline.push(down.receivedAt - stalledAt);
      // Held past the transfer timeout (the connection is dropped and opened again, still
      // stalled), ending at a different point of that cycle each time.
      await sleep(TRANSFER_TIMEOUT_MS + (i / STALLS) * TRANSFER_TIMEOUT_MS);
      const backAt = await hidFault(bridge, 'resume', faultId++);
      const up = await availabilityAfter(rec, UPS, 'online', backAt, 15_000);
      online.push(up.receivedAt - backAt);
      assertFewWarnings(bridge, stalledAt, up.receivedAt, `stall ${i}`);
    }
    assertOnlyRealReadings(statesSince(rec, UPS, campaignStart), REAL, 'HID stalls');
    await finishCampaign(
      bridge,
      'USB HID UPS stalls (transfers never complete) and resumes',
      baseline,
      offline,
      online,
      {
        cycles: STALLS,
        stalledMs: [TRANSFER_TIMEOUT_MS, TRANSFER_TIMEOUT_MS * (2 - 1 / STALLS)],
      },
    );
  });
});
