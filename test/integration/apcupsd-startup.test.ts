/**
 * apcupsd's start-up window: while it runs its start-up queries against a Smart-UPS (several
 * seconds), its NIS already answers, with placeholders (an empty STATUS, -1 thresholds). A
 * bridge that polls then must not publish that as a reading: no `status: unknown` /
 * `online: false` while the UPS is on mains, which an on-battery automation could act on.
 * The bridge polls every 100 ms while apcupsd (fed by the Smart-UPS simulator over a pty)
 * is started again on the same NIS port, several times.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freshDataDir } from '../helpers/data-dir.ts';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { type ManagedProcess, ProcessRegistry } from '../helpers/process.ts';
import { type SmartApcupsd, startSmartApcupsd } from '../helpers/smart-ups-sim/apcupsd-smart.ts';
import { SmartUpsSimulator } from '../helpers/smart-ups-sim/simulator.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const RESTARTS = 3;

describe('apcupsd starting under a fast-polling bridge', { timeout: 240_000 }, () => {
  const registry = new ProcessRegistry();
  let broker: MosquittoHandle;
  let sim: SmartUpsSimulator;
  let apcupsd: SmartApcupsd;
  let rec: MqttRecording;
  let bridge: ManagedProcess;

  before(async () => {
    broker = await startMosquitto({ registry });
    sim = await SmartUpsSimulator.start({ registry });
    apcupsd = await startSmartApcupsd({ device: sim.devicePath, registry });
    rec = await recordMqtt(broker.url, ['ups2mqtt/#']);
    registry.track(rec);
    bridge = await registry.spawn('bridge', process.execPath, ['--import', 'tsx', MAIN, 'run'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        UPS2MQTT_SOURCE: `nis://127.0.0.1:${apcupsd.nisPort}`,
        UPS2MQTT_UPS_ID: 'rack',
        UPS2MQTT_MQTT_URL: broker.url,
        UPS2MQTT_DATA_DIR: freshDataDir(),
        UPS2MQTT_POLL_INTERVAL: '0.1',
        UPS2MQTT_LOG_FORMAT: 'json',
        UPS2MQTT_LOG_LEVEL: 'debug',
        UPS2MQTT_HTTP_ENABLED: 'false',
      },
    });
  });

  after(async () => {
    await apcupsd?.stop();
    await registry.stopAll();
  });

  it('publishes no placeholder reading as state, and is online again after each start', async () => {
    const online = (m: { topic: string; text: string }): boolean =>
      m.topic === 'ups2mqtt/rack/state' && JSON.parse(m.text).status === 'online';
    await rec.waitFor(online, 20_000);
    for (let i = 0; i < RESTARTS; i++) {
      const port = apcupsd.nisPort;
      await apcupsd.stop();
      rec.clear();
      apcupsd = await startSmartApcupsd({ device: sim.devicePath, registry, nisPort: port });
      await rec.waitFor(online, 30_000);
    }
    const states = rec.messages
      .filter((m) => m.topic === 'ups2mqtt/rack/state')
      .map((m) => JSON.parse(m.text) as Record<string, unknown>);
    // Every state is the honest reduced one (comm_lost) or a real reading on mains.
    assert.deepEqual(
      states.filter(
        (s) => !(s.status === 'comm_lost' || (s.status === 'online' && s.online === true)),
      ),
      [],
    );
    const hits = (bridge.output().match(/apcupsd has not read the UPS yet/g) ?? []).length;
    // How often the window was hit depends on timing: reported, not asserted.
    console.log(`placeholder replies refused during ${RESTARTS} starts: ${hits}`);
  });
});
