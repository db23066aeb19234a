/**
 * The fault campaign's own instruments: the probe answers from inside the real bridge, the
 * counts react to what the process opens, and the probe does not keep the bridge alive.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { ProcessRegistry } from '../helpers/process.ts';
import { BridgeUnderTest, type ResourceSnapshot, resourceGrowth } from './harness.ts';

const base: ResourceSnapshot = {
  fds: 20,
  sockets: 3,
  timers: 4,
  handles: { Timeout: 4 },
  heapUsed: 10_000_000,
  rss: 60_000_000,
};

describe('resourceGrowth', () => {
  it('reports nothing within the allowance, and names what grew past it', () => {
    assert.deepEqual(resourceGrowth(base, { ...base, heapUsed: base.heapUsed + 1024 }), []);
    const grown = resourceGrowth(base, { ...base, fds: 21, timers: 6 }, { timers: 1 });
    assert.equal(grown[0], 'file descriptors: 20 -> 21 (allowed +0)');
    assert.equal(grown[1], 'timers: 4 -> 6 (allowed +1)');
    assert.match(grown[2] ?? '', /^handles then/);
  });
});

describe('BridgeUnderTest probe', { timeout: 60_000 }, () => {
  const registry = new ProcessRegistry();
  let broker: MosquittoHandle;
  let rec: MqttRecording;
  let bridge: BridgeUnderTest;

  before(async () => {
    broker = await startMosquitto({ registry });
    rec = await recordMqtt(broker.url, ['ups2mqtt/#']);
    registry.track(rec);
    bridge = await BridgeUnderTest.start(registry, 'bridge', {
      UPS2MQTT_SOURCE: 'sim://?serial=PROBE1',
      UPS2MQTT_UPS_ID: 'probe',
      UPS2MQTT_MQTT_URL: broker.url,
      UPS2MQTT_POLL_INTERVAL: '0.5',
    });
    await rec.waitFor((m) => m.topic === 'ups2mqtt/probe/state', 20_000);
  });

  after(() => registry.stopAll());

  it('counts the MQTT socket, live timers and a heap after GC', async () => {
    const snap = await bridge.settledSnapshot();
    assert.ok(snap.sockets >= 1, `the broker connection is a socket: ${JSON.stringify(snap)}`);
    assert.ok(snap.fds > snap.sockets);
    assert.ok(snap.timers >= 1, 'the poll timer is live');
    assert.ok(snap.heapUsed > 1_000_000 && snap.heapUsed < 200_000_000);
    assert.ok((snap.handles.TCPSocketWrap ?? 0) >= 1);
  });

  it('does not keep the bridge alive: SIGTERM ends it with code 0', async () => {
    const exit = await bridge.process.stop();
    assert.deepEqual(exit, { code: 0, signal: null });
  });
});
