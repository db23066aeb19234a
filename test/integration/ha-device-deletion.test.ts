/**
 * The policy when a user deletes the UPS's device in Home Assistant (docs/mqtt.md#deleting-a-
 * device-in-home-assistant): Home Assistant clears the retained discovery topic; the bridge
 * honours that until it restarts — not even Home Assistant's birth brings the device back —
 * and a restarted bridge re-creates it. Real mosquitto, the CLI as a child process, sim://.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { freshDataDir } from '../helpers/data-dir.ts';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { type ManagedProcess, ProcessRegistry } from '../helpers/process.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const DISCOVERY = 'homeassistant/device/ups2mqtt_del/config';
const AVAILABILITY = 'ups2mqtt/del/availability';

describe('device deleted in Home Assistant', { timeout: 120_000 }, () => {
  const registry = new ProcessRegistry();
  let broker: MosquittoHandle;
  let rec: MqttRecording;
  // One data folder for both runs: the restarted bridge is the same installation.
  const dataDir = freshDataDir();

  function spawnBridge(name: string): Promise<ManagedProcess> {
    return registry.spawn(name, process.execPath, ['--import', 'tsx', MAIN, 'run'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        UPS2MQTT_SOURCE: 'sim://?serial=SIMDEL1&load_drift=0',
        UPS2MQTT_UPS_ID: 'del',
        UPS2MQTT_MQTT_URL: broker.url,
        UPS2MQTT_POLL_INTERVAL: '0.5',
        UPS2MQTT_LOG_FORMAT: 'json',
        UPS2MQTT_HTTP_ENABLED: 'false',
        UPS2MQTT_DATA_DIR: dataDir,
      },
    });
  }

  before(async () => {
    broker = await startMosquitto({ registry });
    rec = await recordMqtt(broker.url, ['ups2mqtt/#', 'homeassistant/#']);
    registry.track(rec);
  });

  after(async () => {
    await registry.stopAll();
  });

  it('stays deleted through a Home Assistant restart and comes back when the bridge restarts', async () => {
    const bridge = await spawnBridge('bridge');
    await rec.waitFor((m) => m.topic === DISCOVERY && m.payload.length > 0, 20_000);
    // Availability is published when it changes, so once it said online, the next
    // `online` can only be the re-announce (which publishes discovery first).
    await rec.waitFor((m) => m.topic === AVAILABILITY && m.text === 'online', 20_000);

    // What Home Assistant does when the user deletes the device: an empty retained payload.
    const ha = await mqtt.connectAsync(broker.url);
    await ha.publishAsync(DISCOVERY, '', { retain: true, qos: 1 });
    await bridge.waitForOutput(/deleted in Home Assistant/, 10_000);
    rec.clear();

    // Home Assistant restarts: its birth makes the bridge re-announce (discovery, then
    // availability: the outcome to wait for), but the deleted device's discovery must not
    // come back.
    await ha.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await rec.waitFor((m) => m.topic === AVAILABILITY && m.text === 'online', 10_000);
    assert.deepEqual(
      rec.messages.filter((m) => m.topic === DISCOVERY).map((m) => m.text),
      [],
      'no discovery after the deletion',
    );
    assert.equal(await rec.retained(DISCOVERY), undefined, 'nothing retained on the topic');
    await ha.endAsync();

    // A restarted bridge re-creates the device (documented: remove the UPS from the
    // configuration to keep it away for good).
    await bridge.stop();
    rec.clear();
    await spawnBridge('bridge-again');
    const back = await rec.waitFor((m) => m.topic === DISCOVERY && m.payload.length > 0, 20_000);
    assert.equal(
      (JSON.parse(back.text) as { dev: { ids: string[] } }).dev.ids[0],
      'ups2mqtt_simdel1',
    );
  });
});
