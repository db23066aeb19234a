/**
 * Fault: the serial port vanishes and returns, as a USB-serial adapter does when unplugged.
 * The bridge CLI reads the Smart-UPS simulator directly (`apcsmart://`) through a socat pty
 * whose link path stays the same; socat is stopped by its PID and started again, 5 times.
 *
 * The source reopens the port on every read (no cadence of its own), so the bridge tries
 * again on every poll: offline within two intervals of the loss, online within one interval
 * (plus the unit's start-up queries) of the port returning, nothing else published, no growth.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { pollUntil } from '../helpers/ports.ts';
import { ProcessRegistry } from '../helpers/process.ts';
import { SmartUpsSimulator } from '../helpers/smart-ups-sim/simulator.ts';
import {
  assertOnlyRealReadings,
  availabilityAfter,
  counts,
  latencyFigures,
  logTimes,
  printFigures,
  statesSince,
  warnLines,
} from './campaign.ts';
import { BridgeUnderTest, resourceGrowth } from './harness.ts';

const INTERVAL_MS = 1000;

/** Waits until the simulated unit has answered `n` more status (`Q`) requests. */
async function statusRequests(sim: SmartUpsSimulator, n: number): Promise<void> {
  const q = 'Q'.charCodeAt(0);
  const from = sim.model.received.length;
  await pollUntil(
    async () =>
      sim.model.received.slice(from).filter((r) => r.byte === q).length >= n ? true : undefined,
    n * INTERVAL_MS + 10_000,
    { what: `${n} status requests` },
  );
}
const CYCLES = 5;
const UPS = 'smart';

describe('fault: the serial port vanishes and returns', { timeout: 90_000 }, () => {
  const registry = new ProcessRegistry();
  let broker: MosquittoHandle;
  let rec: MqttRecording;
  let sim: SmartUpsSimulator;
  let bridge: BridgeUnderTest;

  before(async () => {
    broker = await startMosquitto({ registry });
    rec = registry.track(await recordMqtt(broker.url, [`ups2mqtt/${UPS}/#`]));
    sim = await SmartUpsSimulator.start({ registry });
    bridge = await BridgeUnderTest.start(registry, 'bridge', {
      UPS2MQTT_SOURCE: `apcsmart://${sim.devicePath}`,
      UPS2MQTT_UPS_ID: UPS,
      UPS2MQTT_MQTT_URL: broker.url,
      UPS2MQTT_POLL_INTERVAL: String(INTERVAL_MS / 1000),
      UPS2MQTT_HOMEASSISTANT_ENABLED: 'false',
    });
    await availabilityAfter(rec, UPS, 'online', 0, 30_000);
  });
  after(() => registry.stopAll());

  it(`${CYCLES} losses: offline within two intervals, back within one of the port, no growth`, async () => {
    await statusRequests(sim, 3);
    const baseline = await bridge.settledSnapshot();
    const offline: number[] = [];
    const online: number[] = [];
    const untilOpen: number[] = [];
    const openToOnline: number[] = [];
    const campaignStart = Date.now();
    for (let i = 0; i < CYCLES; i++) {
      const lostAt = Date.now();
      await sim.killPty();
      const down = await availabilityAfter(rec, UPS, 'offline', lostAt, 15_000);
      offline.push(down.receivedAt - lostAt);
      const warnings = warnLines(bridge.process.output(), lostAt);
      assert.ok(warnings.length <= 3, `cycle ${i}: ${JSON.stringify(warnings)}`);

      // The port returns at a different point of the poll cycle each time (0, 0.2, ... 0.8
      // of an interval after the bridge noticed): a spread of phases, not a wait.
      await new Promise((resolve) => setTimeout(resolve, (i / CYCLES) * INTERVAL_MS));
      await sim.restorePty();
      const backAt = Date.now();
      const up = await availabilityAfter(rec, UPS, 'online', backAt, 15_000);
      online.push(up.receivedAt - backAt);
      // Split: waiting for the next poll, then opening the port and identifying the unit.
      const openedAt = logTimes(bridge.process.output(), 'serial port opened', lostAt)[0];
      assert.ok(openedAt !== undefined, `cycle ${i}: the port was opened again`);
      untilOpen.push(openedAt - backAt);
      openToOnline.push(up.receivedAt - openedAt);
    }
    assertOnlyRealReadings(
      statesSince(rec, UPS, campaignStart),
      { status: 'online', input_voltage_v: 231.8, battery_charge_pct: 100 },
      'serial campaign',
    );
    assert.ok(bridge.process.running(), bridge.process.output());
    assert.deepEqual(sim.model.violations, []);

    // A few readings on the last port before counting.
    await statusRequests(sim, 3);
    const end = await bridge.settledSnapshot();
    const off = latencyFigures(offline, INTERVAL_MS);
    const on = latencyFigures(online, INTERVAL_MS);
    printFigures('serial port vanishes and returns', {
      cycles: CYCLES,
      intervalMs: INTERVAL_MS,
      offline: off,
      backOnline: on,
      portBackToReopened: latencyFigures(untilOpen, INTERVAL_MS),
      reopenedToOnline: latencyFigures(openToOnline, INTERVAL_MS),
      before: counts(baseline),
      after: counts(end),
    });
    assert.deepEqual(resourceGrowth(baseline, end), []);
    assert.ok(off.maxMs <= 2 * INTERVAL_MS + 1000, `offline ${JSON.stringify(off)}`);
    // The port is tried again on the next poll (within one interval); identifying the unit
    // (its start-up queries at 2400 baud) comes on top.
    const reopen = latencyFigures(untilOpen, INTERVAL_MS);
    assert.ok(reopen.maxMs <= INTERVAL_MS + 500, `reopened after ${JSON.stringify(reopen)}`);
    assert.ok(on.maxMs <= INTERVAL_MS + 1500, `back online ${JSON.stringify(on)}`);
  });
});
