/**
 * Fault: the NIS peer misbehaves. The bridge CLI polls a server of our own (nis-peer.ts)
 * every 0.5 s with the default 2 s NIS timeout, and the server turns, one fault at a time:
 * silent after accepting, slow (a byte per write, fast enough and too slow), and a source of
 * garbage (random bytes, an oversized length prefix, a reply without its end marker).
 *
 * Each fault: availability right (offline, or still online for the slow-but-complete peer),
 * the process up, one coded warning rather than one per poll, and online again within one
 * interval of the peer behaving. Over all of them, no descriptor, socket, timer or heap growth.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { pollUntil } from '../helpers/ports.ts';
import { ProcessRegistry } from '../helpers/process.ts';
import {
  availabilityAfter,
  counts,
  latencyFigures,
  printFigures,
  statesSince,
  upsTopics,
  warnLines,
} from './campaign.ts';
import { BridgeUnderTest, type ResourceSnapshot, resourceGrowth } from './harness.ts';
import { MisbehavingNisPeer, type PeerMode } from './nis-peer.ts';

const INTERVAL_MS = 500;
const UPS = 'peer';

/** Faults that make the UPS unavailable, and the error code the bridge logs for each. */
const FAILING: readonly { mode: PeerMode; code: string }[] = [
  { mode: 'silent', code: 'READ_TIMEOUT' },
  { mode: 'byte-at-a-time-past-timeout', code: 'READ_TIMEOUT' },
  { mode: 'random-bytes', code: 'FRAME_TOO_LARGE' },
  { mode: 'oversized-length', code: 'FRAME_TOO_LARGE' },
  { mode: 'no-end-marker', code: 'READ_TIMEOUT' },
];

describe('fault: NIS peers that misbehave', { timeout: 90_000 }, () => {
  const registry = new ProcessRegistry();
  let broker: MosquittoHandle;
  let rec: MqttRecording;
  let peer: MisbehavingNisPeer;
  let bridge: BridgeUnderTest;
  let baseline: ResourceSnapshot;

  before(async () => {
    broker = await startMosquitto({ registry });
    rec = registry.track(await recordMqtt(broker.url, [`ups2mqtt/${UPS}/#`]));
    peer = registry.track(await MisbehavingNisPeer.start());
    bridge = await BridgeUnderTest.start(registry, 'bridge', {
      UPS2MQTT_SOURCE: `nis://127.0.0.1:${peer.port}`,
      UPS2MQTT_UPS_ID: UPS,
      UPS2MQTT_MQTT_URL: broker.url,
      UPS2MQTT_POLL_INTERVAL: String(INTERVAL_MS / 1000),
      UPS2MQTT_HOMEASSISTANT_ENABLED: 'false',
    });
    await availabilityAfter(rec, UPS, 'online', 0, 20_000);
    // Several polls in, so what the bridge creates lazily exists before the baseline.
    const from = peer.requests;
    await pollUntil(async () => (peer.requests >= from + 4 ? true : undefined), 10_000);
    baseline = await bridge.settledSnapshot();
  });
  after(() => registry.stopAll());

  it('a peer answering a byte at a time, within the timeout: every reading still arrives, online throughout', async () => {
    const since = Date.now();
    peer.setMode('byte-at-a-time');
    const from = peer.requests;
    // The good reply carries a new load per request, so every reading publishes a state.
    await pollUntil(
      async () => (statesSince(rec, UPS, since).length >= 5 ? true : undefined),
      15_000,
      { what: 'five readings through the slow peer' },
    );
    assert.ok(peer.requests >= from + 5);
    const offline = rec.messages.filter(
      (m) => m.topic === upsTopics(UPS).availability && m.receivedAt >= since,
    );
    assert.deepEqual(
      offline.map((m) => m.text),
      [],
    );
    assert.deepEqual(warnLines(bridge.process.output(), since), []);
    peer.setMode('good');
    printFigures(`NIS peer: byte-at-a-time`, {
      intervalMs: INTERVAL_MS,
      readings: statesSince(rec, UPS, since).length,
      availability: 'online throughout',
    });
  });

  for (const { mode, code } of FAILING) {
    it(`a peer sending ${mode}: offline, one coded warning, online within one interval of behaving`, async () => {
      const faultAt = Date.now();
      peer.setMode(mode);
      const down = await availabilityAfter(rec, UPS, 'offline', faultAt, 15_000);
      // The fault goes on for two more attempts: the bridge keeps trying, quietly.
      const from = peer.requests;
      await pollUntil(async () => (peer.requests >= from + 2 ? true : undefined), 15_000, {
        what: `two more requests during ${mode}`,
      });
      const goodAt = Date.now();
      peer.setMode('good');
      const up = await availabilityAfter(rec, UPS, 'online', goodAt, 10_000);
      assert.ok(bridge.process.running(), bridge.process.output());

      const warnings = warnLines(bridge.process.output(), faultAt, goodAt);
      const text = JSON.stringify(warnings);
      // One "reading the UPS failed" with the code, one "UPS unavailable"; no stack traces.
      assert.ok(warnings.length <= 3, `warnings during ${mode}: ${text}`);
      const failed = warnings.find((w) => w.msg === 'reading the UPS failed');
      assert.equal((failed?.err as { code?: string } | undefined)?.code, code, text);
      for (const w of warnings) assert.ok(!(w.err as { stack?: string } | undefined)?.stack, text);

      const off = latencyFigures([down.receivedAt - faultAt], INTERVAL_MS);
      const on = latencyFigures([up.receivedAt - goodAt], INTERVAL_MS);
      printFigures(`NIS peer: ${mode}`, {
        intervalMs: INTERVAL_MS,
        code,
        offlineMs: off.maxMs,
        offlineIntervals: off.maxIntervals,
        backOnlineMs: on.maxMs,
        backOnlineIntervals: on.maxIntervals,
        warnings: warnings.length,
      });
      // Offline: the second failed poll, or the watchdog two intervals after the last reading
      // when a request hangs; back online: the next poll (a hanging one is answered at once).
      // 1 s of slack for a loaded 2-core machine.
      assert.ok(off.maxMs <= 2 * INTERVAL_MS + 1000, `offline after ${off.maxMs} ms`);
      assert.ok(on.maxMs <= INTERVAL_MS + 1000, `online after ${on.maxMs} ms`);
    });
  }

  it('holds no more descriptors, sockets, timers or heap than before the faults', async () => {
    const from = peer.requests;
    await pollUntil(async () => (peer.requests >= from + 4 ? true : undefined), 10_000);
    const end = await bridge.settledSnapshot();
    printFigures('NIS peers: resources', { before: counts(baseline), after: counts(end) });
    assert.deepEqual(resourceGrowth(baseline, end), []);
  });
});
