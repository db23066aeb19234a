/**
 * Fault: the broker connection goes silent (every packet dropped, no socket closed), the
 * failure a refused port never shows: a NAT or firewall that forgets the connection, a
 * Wi-Fi link that stalls, a broker VM that is paused. A relay of our own (tcp-relay.ts)
 * between the bridge CLI and a real mosquitto freezes both directions for 8 s, twice: once
 * the link simply comes back (what was held flows again), once the frozen connections are
 * closed and new ones let through. Meanwhile the NIS UPS goes on battery and back.
 *
 * Keepalive 2 s (UPS2MQTT_MQTT_KEEPALIVE, default 30): the bridge must notice within 1.5×
 * keepalive (mqtt.js pings after one keepalive without an answer, gives up half a keepalive
 * later), keep polling all along, reconnect within a reconnect period of the return, then
 * hold the state of *now* retained; the freeze's events arrive once, the broker published
 * the bridge's last will during the freeze, and nothing is held beyond the baseline after.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backUpsRecords, FakeNisMaster } from '../helpers/fake-nis-master.ts';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, type RecordedMessage, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { pollUntil } from '../helpers/ports.ts';
import { ProcessRegistry } from '../helpers/process.ts';
import { logTimes } from './campaign.ts';
import { BridgeUnderTest, type ResourceSnapshot, resourceGrowth } from './harness.ts';
import { json, KEEP_ALL_OUTPUT, logLines, mib, resourceFigures, updatedAt } from './mqtt-faults.ts';
import { TcpRelay } from './tcp-relay.ts';

const KEEPALIVE_S = 2;
const FREEZE_MS = 8000;
const POLL_MS = 500;
const RECONNECT_MS = 500;
const UPS = 'frozen';
const T = {
  bridge: 'ups2mqtt/bridge/state',
  availability: `ups2mqtt/${UPS}/availability`,
  state: `ups2mqtt/${UPS}/state`,
  event: `ups2mqtt/${UPS}/event`,
};
const LOST = 'lost the MQTT broker; reconnecting';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('broker connection blackholed (packets dropped, sockets kept open)', {
  timeout: 150_000,
}, () => {
  const registry = new ProcessRegistry();
  let broker: MosquittoHandle;
  let relay: TcpRelay;
  let peer: FakeNisMaster;
  let rec: MqttRecording;
  let bridge: BridgeUnderTest;

  before(async () => {
    broker = await startMosquitto({ registry });
    relay = registry.track(await TcpRelay.start(broker.port));
    peer = new FakeNisMaster();
    peer.setStatus(backUpsRecords(new Date()), { liveTimestamps: false });
    await peer.start();
    registry.track(peer);
    rec = registry.track(await recordMqtt(broker.url, ['ups2mqtt/#']));
    bridge = await BridgeUnderTest.start(
      registry,
      'bridge',
      {
        UPS2MQTT_SOURCE: `nis://127.0.0.1:${peer.port}`,
        UPS2MQTT_UPS_ID: UPS,
        UPS2MQTT_MQTT_URL: relay.url,
        UPS2MQTT_POLL_INTERVAL: String(POLL_MS / 1000),
        UPS2MQTT_MQTT_RECONNECT_PERIOD: String(RECONNECT_MS / 1000),
        UPS2MQTT_MQTT_KEEPALIVE: String(KEEPALIVE_S),
        UPS2MQTT_HOMEASSISTANT_ENABLED: 'false',
      },
      [],
      { ringChars: KEEP_ALL_OUTPUT },
    );
    await rec.waitFor((m) => m.topic === T.availability && m.text === 'online', 30_000);
    await rec.waitFor((m) => m.topic === T.state, 10_000);
  });

  after(() => registry.stopAll());

  for (const ending of ['the link comes back', 'the frozen connections close'] as const) {
    it(`frozen ${FREEZE_MS / 1000} s, then ${ending}`, async (t) => {
      await sleep(3 * POLL_MS);
      const baseline = await bridge.settledSnapshot();
      // The first round freezes just after a PINGRESP: the longest the client can take to
      // notice (1.5 keepalives); the second at whatever point of the ping cycle it comes.
      if (ending === 'the link comes back') await relay.nextPingResponse();
      const pollsBefore = peer.requestCount('status');
      const frozenAt = Date.now();
      relay.freeze();
      // On battery one second in (before the bridge can know), back on mains 2 s before the
      // return: two events and two state changes nobody can receive while frozen.
      await sleep(1000);
      peer.setUpsStatus('ONBATT');
      const detectedAt = await pollUntil(
        async () => logTimes(bridge.process.output(), LOST, frozenAt)[0],
        FREEZE_MS,
        { what: 'the bridge noticing the silent broker' },
      );
      const during: ResourceSnapshot[] = [];
      while (Date.now() - frozenAt < FREEZE_MS - 2000) {
        during.push(await bridge.snapshot());
        await sleep(1000);
      }
      peer.setUpsStatus('ONLINE');
      await sleep(FREEZE_MS - (Date.now() - frozenAt));
      const polls = peer.requestCount('status') - pollsBefore;
      if (ending === 'the frozen connections close') relay.killAll();
      relay.unfreeze();
      const backAt = Date.now();

      const after = (m: RecordedMessage): boolean => m.receivedAt >= backAt;
      // The broker's own keepalive check publishes the will during the freeze, or the
      // takeover by the new connection does at the return.
      const will = await rec.waitFor(
        (m) => m.topic === T.bridge && m.text === 'offline' && m.receivedAt >= frozenAt,
        15_000,
      );
      const online = await rec.waitFor(
        (m) => m.topic === T.bridge && m.text === 'online' && m.receivedAt >= will.receivedAt,
        15_000,
      );
      // What the new connection carries: from the bridge's `online` on.
      const fresh = (m: RecordedMessage): boolean => m.receivedAt >= online.receivedAt;
      const state = await rec.waitFor((m) => fresh(m) && m.topic === T.state, 15_000);
      const avail = await rec.waitFor(
        (m) => fresh(m) && m.topic === T.availability && m.text === 'online',
        15_000,
      );
      await rec.waitFor(
        (m) => m.topic === T.event && json(m).event_type === 'outage_ended',
        10_000,
      );
      await sleep(3 * POLL_MS);
      const end = await bridge.settledSnapshot();

      const lines = logLines(bridge.process).filter((l) => l.time >= frozenAt);
      const figures = {
        ending,
        keepalive_s: KEEPALIVE_S,
        freeze_to_detected_ms: detectedAt - frozenAt,
        freeze_to_will_ms: will.receivedAt - frozenAt,
        polls_during: polls,
        connections_accepted: relay.accepted,
        return_to_online_ms: online.receivedAt - backAt,
        return_to_state_ms: state.receivedAt - backAt,
        return_to_availability_ms: avail.receivedAt - backAt,
        state_age_at_arrival_ms: state.receivedAt - updatedAt(state),
        // Published before the bridge noticed, held by the link, delivered on the old
        // connection when it came back (the broker still held it): ages on arrival.
        late_from_old_connection_ms: rec.messages
          .filter((m) => after(m) && !fresh(m) && m.topic === T.state)
          .map((m) => m.receivedAt - updatedAt(m)),
        warnings: lines.filter((l) => l.level >= 40).map((l) => l.msg),
        first_error: (lines.find((l) => l.msg === 'MQTT error')?.fields.err as { message?: string })
          ?.message,
        peak_during: {
          fds: Math.max(...during.map((s) => s.fds)),
          sockets: Math.max(...during.map((s) => s.sockets)),
          timers: Math.max(...during.map((s) => s.timers)),
          heap_mib: mib(Math.max(...during.map((s) => s.heapUsed))),
        },
        ...resourceFigures(baseline, end),
      };
      t.diagnostic(`mqtt-broker-blackhole ${JSON.stringify(figures)}`);

      assert.ok(bridge.process.running(), bridge.process.output());
      // Noticed within 1.5 keepalives of the last packet received, plus a loaded machine.
      assert.ok(
        figures.freeze_to_detected_ms <= 1500 * KEEPALIVE_S + 1000,
        JSON.stringify(figures),
      );
      // The broker, hearing nothing either, published the bridge's will, and the bridge's
      // `online` replaced it after the return.
      assert.equal(will.retain, true);
      assert.ok(online.receivedAt >= backAt);
      // Polled all along: two a second, a third lost to a loaded machine at most.
      assert.ok(polls >= ((FREEZE_MS / POLL_MS) * 2) / 3, `only ${polls} polls while frozen`);
      // The broker's silence is not the UPS's: never declared unavailable meanwhile.
      assert.deepEqual(
        lines.filter((l) => /UPS unavailable/.test(l.msg)).map((l) => l.msg),
        [],
      );
      // Back within one reconnect period plus connecting and a loaded machine, with the
      // state of now (on mains), retained, and nothing the new connection carries claims
      // the battery state of the freeze (the old one may deliver what the link held).
      assert.ok(figures.return_to_state_ms <= RECONNECT_MS + 4000, JSON.stringify(figures));
      for (const m of [online, state, avail]) assert.equal(m.retain, true, m.topic);
      assert.equal(json(state).on_battery, false, state.text);
      assert.ok(updatedAt(state) >= backAt - POLL_MS - 250, `stale state: ${state.text}`);
      const afterStates = rec.messages.filter((m) => fresh(m) && m.topic === T.state);
      assert.deepEqual(
        afterStates.filter((m) => json(m).on_battery === true).map((m) => m.text),
        [],
      );
      const kept = await rec.retained(T.state);
      assert.ok(kept !== undefined && json(kept).on_battery === false, kept?.text);
      assert.equal((await rec.retained(T.bridge))?.text, 'online');
      // The freeze's events, once each, after the return.
      const events = rec.messages
        .filter((m) => m.topic === T.event && m.receivedAt >= frozenAt)
        .map((m) => String(json(m).event_type));
      assert.deepEqual(
        events.filter((e) => e.startsWith('outage_') || e.startsWith('comm_')),
        ['outage_started', 'outage_ended'],
      );
      // While frozen: the frozen connection and one connection attempt at most, besides the
      // baseline; after: the baseline.
      for (const s of during) {
        assert.deepEqual(resourceGrowth(baseline, s, { fds: 1, sockets: 1, timers: 2 }), []);
      }
      assert.deepEqual(resourceGrowth(baseline, end), []);
    });
  }
});
