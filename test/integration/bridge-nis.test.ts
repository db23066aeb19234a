/**
 * End to end: a real apcupsd (NIS slave of a scripted master) → the ups2mqtt CLI as a
 * child process → a real mosquitto → a subscriber. Asserts what users rely on: topics,
 * payloads, retain flags, availability going offline and back, re-announce on Home
 * Assistant's birth, broker restarts, clean exit and the last will.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { type ApcupsdHandle, startApcupsd } from '../helpers/apcupsd.ts';
import { freshDataDir } from '../helpers/data-dir.ts';
import { FakeNisMaster } from '../helpers/fake-nis-master.ts';
import { validateDiscovery } from '../helpers/ha-validator.ts';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, type RecordedMessage, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { pollUntil } from '../helpers/ports.ts';
import { type ManagedProcess, ProcessRegistry } from '../helpers/process.ts';
import { establishedClientPorts } from '../helpers/procnet.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const UPS = '3b1234x56789'; // the master's SERIALNO, slugified: no id is configured
const T = {
  availability: `ups2mqtt/${UPS}/availability`,
  state: `ups2mqtt/${UPS}/state`,
  event: `ups2mqtt/${UPS}/event`,
  discovery: `homeassistant/device/ups2mqtt_${UPS}/config`,
  bridge: 'ups2mqtt/bridge/state',
};

const json = (m: RecordedMessage): Record<string, unknown> =>
  JSON.parse(m.text) as Record<string, unknown>;

describe('bridge over NIS, end to end', { timeout: 240_000 }, () => {
  const registry = new ProcessRegistry();
  let broker: MosquittoHandle;
  let master: FakeNisMaster;
  let apcupsd: ApcupsdHandle;
  let rec: MqttRecording;
  let bridge: ManagedProcess;

  function spawnBridge(name: string): Promise<ManagedProcess> {
    return registry.spawn(name, process.execPath, ['--import', 'tsx', MAIN, 'run'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        UPS2MQTT_SOURCE: `nis://127.0.0.1:${apcupsd.nisPort}`,
        UPS2MQTT_MQTT_URL: broker.url,
        UPS2MQTT_DATA_DIR: freshDataDir(),
        UPS2MQTT_MQTT_RECONNECT_PERIOD: '0.5',
        UPS2MQTT_POLL_INTERVAL: '1',
        UPS2MQTT_NIS_EVENTS_INTERVAL: '5',
        UPS2MQTT_LOG_FORMAT: 'json',
        UPS2MQTT_LOG_LEVEL: 'debug',
        UPS2MQTT_HTTP_ENABLED: 'false',
      },
    });
  }

  before(async () => {
    broker = await startMosquitto({ registry });
    master = new FakeNisMaster();
    await master.start();
    registry.track(master);
    apcupsd = await startApcupsd({ masterPort: master.port, registry });
    // A device of a UPS this bridge served before but no longer does: it must be removed.
    const seed = await mqtt.connectAsync(broker.url);
    await seed.publishAsync(
      'homeassistant/device/ups2mqtt_old/config',
      JSON.stringify({
        dev: { ids: ['ups2mqtt_old'] },
        o: { name: 'ups2mqtt' },
        stat_t: 'ups2mqtt/old/state',
        cmps: { bcharge: { p: 'sensor' } },
      }),
      { retain: true, qos: 1 },
    );
    await seed.publishAsync('ups2mqtt/old/state', '{"status":"online"}', { retain: true, qos: 1 });
    await seed.publishAsync('ups2mqtt/old/availability', 'online', { retain: true, qos: 1 });
    await seed.endAsync();
    rec = await recordMqtt(broker.url, ['ups2mqtt/#', 'homeassistant/#']);
    registry.track(rec);
    bridge = await spawnBridge('bridge');
  });

  after(async () => {
    await registry.stopAll();
  });

  it('publishes bridge state, availability, state and discovery, all retained', async () => {
    const state = json(await rec.waitFor((m) => m.topic === T.state, 20_000));
    assert.equal(state.status, 'online');
    assert.equal(state.online, true);
    assert.equal(state.on_battery, false);
    assert.equal(state.battery_charge_pct, 100);
    assert.equal(state.input_voltage_v, 230);
    assert.equal(state.runtime_s, 2304, 'TIMELEFT 38.4 minutes in seconds');
    assert.equal(state.load_w, 103.8, '12 % of 865 W');
    assert.equal(state.model, 'Back-UPS XS 1400U');
    assert.equal(state.serial_number, '3B1234X56789');
    assert.match(
      String(state.updated_at),
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$/,
    );
    for (const topic of [T.bridge, T.availability, T.state, T.discovery]) {
      const held = await rec.retained(topic);
      assert.ok(held, `${topic} is retained`);
    }
    assert.equal((await rec.retained(T.bridge))?.text, 'online');
    assert.equal((await rec.retained(T.availability))?.text, 'online');
    const discovery = await rec.retained(T.discovery);
    assert.ok(discovery);
    const payload = json(discovery) as { cmps: Record<string, unknown>; dev: { ids: string[] } };
    assert.deepEqual(
      validateDiscovery(T.discovery, payload, {
        baseTopic: 'ups2mqtt',
        bridgeAvailabilityTopic: T.bridge,
      }),
      [],
    );
    assert.deepEqual(payload.dev.ids, ['ups2mqtt_3b1234x56789']);
    for (const key of [
      'bcharge',
      'linev',
      'timeleft',
      'loadpct',
      'battv',
      'status',
      'online',
      'event',
      'xonbatt',
      'laststest',
    ]) {
      assert.ok(key in payload.cmps, `component ${key}`);
    }
    assert.ok(
      !Object.keys(payload.cmps).some((k) => k.startsWith('cmd_')),
      'NIS is read-only: no buttons',
    );
  });

  it('polls apcupsd over one kept connection (nis.reuse_connection, the default)', async () => {
    // Counted from the kernel's socket table: the bridge's client end towards apcupsd's NIS.
    // Polls are 1 s apart; an events request may hold a second connection for a millisecond.
    // A measurement over time, not a wait for an outcome: one sample per poll interval.
    const samples: number[][] = [];
    for (let i = 0; i < 4; i++) {
      samples.push(establishedClientPorts(apcupsd.nisPort));
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
    const kept = samples[0]?.filter((port) => samples.every((s) => s.includes(port))) ?? [];
    assert.equal(kept.length, 1, `one connection across four polls: ${JSON.stringify(samples)}`);
    assert.ok(
      samples.every((s) => s.length <= 2),
      JSON.stringify(samples),
    );
  });

  it('removes the device of a UPS it no longer serves', async () => {
    await rec.waitFor(
      (m) => m.topic === 'homeassistant/device/ups2mqtt_old/config' && m.payload.length === 0,
      30_000,
    );
    assert.equal(await rec.retained('homeassistant/device/ups2mqtt_old/config'), undefined);
    assert.equal(await rec.retained('ups2mqtt/old/state'), undefined);
    assert.equal(await rec.retained('ups2mqtt/old/availability'), undefined);
  });

  it('follows a mains failure and its return, with apcupsd log events published once', async () => {
    rec.clear();
    master.setUpsStatus('ONBATT');
    const onBatt = json(
      await rec.waitFor((m) => m.topic === T.state && json(m).on_battery === true, 15_000),
    );
    assert.equal(onBatt.status, 'on_battery');
    assert.equal(onBatt.online, false);
    const lostMsg = await rec.waitFor(
      (m) => m.topic === T.event && json(m).event_type === 'power_lost',
      15_000,
    );
    const lost = json(lostMsg);
    assert.equal(lost.origin, 'source_log');
    assert.equal(lost.message, 'Power failure.');
    const eventMsg = rec.messages.find((m) => m.topic === T.event);
    assert.equal(eventMsg?.retain, false, 'events are not retained');
    master.setUpsStatus('ONLINE');
    await rec.waitFor((m) => m.topic === T.state && json(m).status === 'online', 15_000);
    await rec.waitFor(
      (m) => m.topic === T.event && json(m).event_type === 'power_restored',
      15_000,
    );
    // Wait for a later read of apcupsd's event log: a new line in it (another failure) is
    // published only by a read that also sees every line above, so once it is here, the old
    // lines have been read again and must not have been published twice.
    master.setUpsStatus('ONBATT');
    await rec.waitFor(
      (m) =>
        m.topic === T.event &&
        json(m).event_type === 'power_lost' &&
        json(m).origin === 'source_log' &&
        m !== lostMsg,
      15_000,
    );
    master.setUpsStatus('ONLINE');
    await rec.waitFor((m) => m.topic === T.state && json(m).status === 'online', 15_000);
    const messages = rec.messages
      .filter((m) => m.topic === T.event)
      .map((m) => `${json(m).at} ${json(m).message}`);
    assert.equal(
      new Set(messages).size,
      messages.length,
      `duplicates in ${JSON.stringify(messages)}`,
    );
  });

  it("re-announces discovery, availability and state on Home Assistant's birth", async () => {
    rec.clear();
    const ha = await mqtt.connectAsync(broker.url);
    await ha.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await ha.endAsync();
    await rec.waitFor((m) => m.topic === T.discovery && m.payload.length > 0, 8_000);
    await rec.waitFor((m) => m.topic === T.availability && m.text === 'online', 8_000);
    await rec.waitFor((m) => m.topic === T.state, 8_000);
  });

  it('goes offline within two missed polls when apcupsd dies, and back online when it returns', async () => {
    rec.clear();
    const killedAt = Date.now();
    apcupsd.kill('SIGKILL');
    const offline = await rec.waitFor(
      (m) => m.topic === T.availability && m.text === 'offline',
      10_000,
    );
    const tookMs = offline.receivedAt - killedAt;
    assert.ok(tookMs < 4_000, `offline after ${tookMs} ms (poll interval 1 s)`);
    const reduced = json(
      await rec.waitFor((m) => m.topic === T.state && json(m).status === 'comm_lost', 5_000),
    );
    assert.equal(reduced.comm_lost, true);
    assert.equal(
      reduced.battery_charge_pct,
      undefined,
      'no stale measurement in the retained state',
    );
    assert.equal(reduced.input_voltage_v, undefined);
    const retained = await rec.retained(T.state);
    assert.equal(retained ? json(retained).status : undefined, 'comm_lost');
    const ev = json(
      await rec.waitFor((m) => m.topic === T.event && json(m).event_type === 'comm_lost', 5_000),
    );
    assert.equal(ev.origin, 'bridge');
    await apcupsd.restart();
    await rec.waitFor((m) => m.topic === T.availability && m.text === 'online', 20_000);
    const back = json(
      await rec.waitFor((m) => m.topic === T.state && json(m).status === 'online', 20_000),
    );
    assert.equal(back.battery_charge_pct, 100);
  });

  it('goes offline when apcupsd reports COMMLOST (its UPS is gone), and recovers', async () => {
    rec.clear();
    await master.stop();
    await rec.waitFor((m) => m.topic === T.availability && m.text === 'offline', 15_000);
    const s = json(
      await rec.waitFor((m) => m.topic === T.state && json(m).status === 'comm_lost', 5_000),
    );
    assert.equal(s.online, undefined, 'the stale ONLINE bit is not published');
    await master.start();
    await rec.waitFor((m) => m.topic === T.availability && m.text === 'online', 20_000);
  });

  it('publishes everything again, retained, after a broker restart', async () => {
    await broker.restart();
    let missing: string[] = [];
    const all = async (): Promise<true | undefined> => {
      missing = [];
      for (const topic of [T.bridge, T.availability, T.state, T.discovery]) {
        if (!(await rec.retained(topic))) missing.push(topic);
      }
      return missing.length === 0 ? true : undefined;
    };
    await pollUntil(all, 15_000, { intervalMs: 500 }).catch(() => undefined);
    assert.deepEqual(missing, [], 'retained after the broker lost everything');
    assert.equal((await rec.retained(T.bridge))?.text, 'online');
  });

  it('SIGTERM publishes offline for the bridge and the UPS, and exits 0', async () => {
    bridge.kill('SIGTERM');
    const exit = await bridge.exited;
    assert.equal(exit.code, 0, bridge.output());
    assert.equal((await rec.retained(T.bridge))?.text, 'offline');
    assert.equal((await rec.retained(T.availability))?.text, 'offline');
  });

  it('the broker publishes the last will when the bridge dies without a goodbye', async () => {
    rec.clear();
    const second = await spawnBridge('bridge-2');
    await rec.waitFor((m) => m.topic === T.bridge && m.text === 'online', 20_000);
    second.kill('SIGKILL');
    await second.exited;
    await rec.waitFor((m) => m.topic === T.bridge && m.text === 'offline', 10_000);
    assert.equal((await rec.retained(T.bridge))?.text, 'offline');
  });
});

describe('bridge against a misbehaving NIS peer', { timeout: 120_000 }, () => {
  const registry = new ProcessRegistry();
  let broker: MosquittoHandle;
  let peer: FakeNisMaster;
  let rec: MqttRecording;
  let bridge: ManagedProcess;
  const A = 'ups2mqtt/direct/availability';

  before(async () => {
    broker = await startMosquitto({ registry });
    peer = new FakeNisMaster();
    await peer.start();
    registry.track(peer);
    rec = await recordMqtt(broker.url, ['ups2mqtt/direct/#']);
    registry.track(rec);
    bridge = await registry.spawn('bridge-direct', process.execPath, ['--import', 'tsx', MAIN], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        UPS2MQTT_SOURCE: `nis://127.0.0.1:${peer.port}`,
        UPS2MQTT_UPS_ID: 'direct',
        UPS2MQTT_MQTT_URL: broker.url,
        UPS2MQTT_DATA_DIR: freshDataDir(),
        UPS2MQTT_POLL_INTERVAL: '0.5',
        UPS2MQTT_NIS_TIMEOUT: '1',
        UPS2MQTT_LOG_FORMAT: 'json',
        UPS2MQTT_HTTP_ENABLED: 'false',
      },
    });
    await rec.waitFor((m) => m.topic === A && m.text === 'online', 20_000);
  });

  after(async () => {
    await registry.stopAll();
  });

  const faults: {
    name: string;
    mode: 'paused' | 'close-mid-reply' | 'close-on-accept';
    log: RegExp;
  }[] = [
    { name: 'accepts and never answers', mode: 'paused', log: /READ_TIMEOUT/ },
    { name: 'closes in the middle of a reply', mode: 'close-mid-reply', log: /PEER_CLOSED/ },
    {
      name: 'closes right after accepting',
      mode: 'close-on-accept',
      log: /PEER_CLOSED|CONNECT_FAILED/,
    },
  ];
  for (const fault of faults) {
    it(`a peer that ${fault.name}: offline with a clear log line, then recovers by itself`, async () => {
      // Only messages after the change count: a re-announce of `online` (after connect)
      // may still be on its way when a test starts.
      const faultAt = Date.now();
      peer.setMode(fault.mode);
      // The bridge keeps its connection open: a peer that now refuses every connection must
      // also lose the one it had, or the kept connection would carry on unharmed.
      if (fault.mode === 'close-on-accept') peer.dropConnections();
      let restoredAt = Date.now();
      try {
        await rec
          .waitFor((m) => m.topic === A && m.text === 'offline' && m.receivedAt >= faultAt, 10_000)
          .catch((err) => {
            throw new Error(`${err}\n${bridge.output()}`);
          });
        await bridge.waitForOutput(fault.log, 5_000);
        assert.equal(bridge.running(), true, 'the process keeps running');
      } finally {
        restoredAt = Date.now();
        peer.setMode('normal');
      }
      await rec.waitFor(
        (m) => m.topic === A && m.text === 'online' && m.receivedAt >= restoredAt,
        20_000,
      );
    });
  }
});
