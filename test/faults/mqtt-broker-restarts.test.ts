/**
 * Fault: mosquitto restarted 20 times on the same port while the bridge publishes (issue 14).
 * The broker keeps nothing across a restart (`persistence false`), so after each one the
 * bridge must bring back, retained: its own `online`, the UPS's availability and a state that
 * is current (its `updated_at` at most a poll interval and a margin old when it arrives).
 * Afterwards the process holds what it held before, and a `kill -9` leaves the last will.
 *
 * The source is a quiet apcupsd (a NIS peer whose DATE does not move), so nothing changes
 * between polls: the state is published on a change or the 60 s heartbeat only, and what the
 * bridge sends after a reconnect is all the broker gets. The broker requires a password and
 * the bridge logs at trace; its whole output is scanned for that password.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backUpsRecords, FakeNisMaster } from '../helpers/fake-nis-master.ts';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, type RecordedMessage, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { ProcessRegistry } from '../helpers/process.ts';
import { BridgeUnderTest, type ResourceSnapshot, resourceGrowth } from './harness.ts';
import {
  assertNoSecrets,
  brokerLogin,
  KEEP_ALL_OUTPUT,
  median,
  resourceFigures,
  updatedAt,
} from './mqtt-faults.ts';

const RESTARTS = 20;
const POLL_MS = 500;
/**
 * How old a state may be when it arrives: the reading is at most one poll old, plus a margin
 * for a loaded 2-core machine (the bug this catches re-sent a state from before the restart).
 */
const MAX_STATE_AGE_MS = POLL_MS + 2000;
const T = {
  bridge: 'ups2mqtt/bridge/state',
  availability: 'ups2mqtt/restarts/availability',
  state: 'ups2mqtt/restarts/state',
};

describe(`mosquitto restarted ${RESTARTS} times under a publishing bridge`, {
  timeout: 150_000,
}, () => {
  const registry = new ProcessRegistry();
  const login = brokerLogin('Restarts');
  let broker: MosquittoHandle;
  let peer: FakeNisMaster;
  let rec: MqttRecording;
  let bridge: BridgeUnderTest;
  let baseline: ResourceSnapshot;

  before(async () => {
    broker = await startMosquitto({ registry, auth: login });
    peer = new FakeNisMaster();
    // A quiet UPS: DATE stays put, as apcupsd's does between its own 60 s polls.
    peer.setStatus(backUpsRecords(new Date()), { liveTimestamps: false });
    await peer.start();
    registry.track(peer);
    rec = await recordMqtt(broker.url, ['ups2mqtt/#'], login);
    registry.track(rec);
    bridge = await BridgeUnderTest.start(
      registry,
      'bridge',
      {
        UPS2MQTT_SOURCE: `nis://127.0.0.1:${peer.port}`,
        UPS2MQTT_UPS_ID: 'restarts',
        UPS2MQTT_MQTT_URL: broker.url,
        UPS2MQTT_MQTT_USERNAME: login.username,
        UPS2MQTT_MQTT_PASSWORD: login.password,
        UPS2MQTT_POLL_INTERVAL: String(POLL_MS / 1000),
        UPS2MQTT_LOG_LEVEL: 'trace',
      },
      [],
      { ringChars: KEEP_ALL_OUTPUT },
    );
    await rec.waitFor((m) => m.topic === T.state, 30_000);
    await rec.waitFor((m) => m.topic === T.availability && m.text === 'online', 10_000);
    baseline = await bridge.settledSnapshot();
  });

  after(() => registry.stopAll());

  it('comes back after every restart: online, availability and a current state, retained', async (t) => {
    const reconnectMs: number[] = [];
    const freshStateMs: number[] = [];
    const ages: number[] = [];
    for (let i = 0; i < RESTARTS; i++) {
      const down = Date.now();
      await broker.restart();
      const up = Date.now();
      const after = (m: RecordedMessage): boolean => m.receivedAt >= up;
      const online = await rec.waitFor(
        (m) => after(m) && m.topic === T.bridge && m.text === 'online',
        15_000,
      );
      assert.equal(online.retain, true, `restart ${i + 1}: bridge online is retained`);
      const avail = await rec.waitFor(
        (m) => after(m) && m.topic === T.availability && m.text === 'online',
        15_000,
      );
      assert.equal(avail.retain, true);
      const state = await rec.waitFor((m) => after(m) && m.topic === T.state, 15_000);
      assert.equal(state.retain, true);
      const age = state.receivedAt - updatedAt(state);
      assert.ok(
        age <= MAX_STATE_AGE_MS,
        `restart ${i + 1}: the first state after the reconnect is ${age} ms old (${state.text})`,
      );
      // What the broker now holds as current was read after the broker went away, or at
      // most one poll before (the reading in hand when it did).
      const kept = await rec.retained(T.state);
      assert.ok(kept !== undefined, `restart ${i + 1}: no retained state`);
      assert.ok(
        updatedAt(kept) >= down - POLL_MS - 250,
        `restart ${i + 1}: retained state from before the restart: ${kept.text}`,
      );
      reconnectMs.push(online.receivedAt - up);
      freshStateMs.push(state.receivedAt - online.receivedAt);
      ages.push(age);
      rec.clear();
    }
    const figures = {
      restarts: RESTARTS,
      reconnect_ms: { median: median(reconnectMs), max: Math.max(...reconnectMs) },
      reconnect_to_state_ms: { median: median(freshStateMs), max: Math.max(...freshStateMs) },
      state_age_at_arrival_ms: { median: median(ages), max: Math.max(...ages) },
    };
    t.diagnostic(`mqtt-broker-restarts ${JSON.stringify(figures)}`);
  });

  it('holds what it held before the restarts: fds, sockets, timers, heap', async (t) => {
    assert.ok(bridge.process.running(), bridge.process.output());
    const now = await bridge.settledSnapshot();
    t.diagnostic(
      `mqtt-broker-restarts resources ${JSON.stringify(resourceFigures(baseline, now))}`,
    );
    // Default allowance: exactly the descriptors, sockets and timers of before; the heap
    // within 3 MiB (what is in flight at one instant, see harness.ts).
    assert.deepEqual(resourceGrowth(baseline, now), []);
  });

  it('kill -9: the broker publishes the last will, bridge offline, retained', async () => {
    rec.clear();
    bridge.process.kill('SIGKILL');
    const exit = await bridge.process.exited;
    assert.equal(exit.signal, 'SIGKILL');
    const will = await rec.waitFor((m) => m.topic === T.bridge && m.text === 'offline', 15_000);
    assert.equal(will.retain, true);
    assert.equal((await rec.retained(T.bridge))?.text, 'offline');
  });

  it('never printed the broker password (trace level, whole run)', () => {
    assertNoSecrets(bridge.process, [login.password]);
  });
});
