/**
 * A captured USB HID UPS (replayed from a real capture) through the CLI to a real broker:
 * the state a user sees, valid discovery with the buttons the descriptor supports, and a
 * command accepted end to end.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { freshDataDir } from '../helpers/data-dir.ts';
import { validateDiscovery } from '../helpers/ha-validator.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, type RecordedMessage, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { ProcessRegistry } from '../helpers/process.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const CAPTURE = fileURLToPath(
  new URL('../fixtures/hid/apc-051d-0002-back-ups-es-850g2.json', import.meta.url),
);
const B = 'ups2mqtt/es850';
const json = (m: RecordedMessage): Record<string, unknown> =>
  JSON.parse(m.text) as Record<string, unknown>;

describe('bridge with a replayed USB HID capture (Back-UPS ES 850G2)', { timeout: 60_000 }, () => {
  const registry = new ProcessRegistry();
  let rec: MqttRecording;
  let url: string;

  before(async () => {
    const broker = await startMosquitto({ registry });
    url = broker.url;
    rec = await recordMqtt(url, [`${B}/#`, 'homeassistant/device/#']);
    registry.track(rec);
    await registry.spawn('bridge', process.execPath, ['--import', 'tsx', MAIN], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        UPS2MQTT_SOURCE: `hid-replay://${CAPTURE}`,
        UPS2MQTT_UPS_ID: 'es850',
        UPS2MQTT_MQTT_URL: url,
        UPS2MQTT_DATA_DIR: freshDataDir(),
        UPS2MQTT_LOG_FORMAT: 'json',
        UPS2MQTT_HTTP_ENABLED: 'false',
      },
    });
  });

  after(() => registry.stopAll());

  it('publishes the decoded state with values from the capture', async () => {
    const s = json(await rec.waitFor((m) => m.topic === `${B}/state`, 20_000));
    assert.equal(s.status, 'online');
    assert.equal(s.model, 'Back-UPS ES 850G2');
    assert.equal(s.battery_voltage_v, 13.43);
    assert.equal(s.battery_charge_pct, 100);
    assert.equal(s.input_voltage_v, 228);
    assert.equal(s.self_test_state, 'idle');
  });

  it('announces valid discovery with buttons for the commands the descriptor supports', async () => {
    const d = await rec.waitFor(
      (m) => m.topic === 'homeassistant/device/ups2mqtt_es850/config' && m.payload.length > 0,
      10_000,
    );
    const payload = json(d) as { cmps: Record<string, { p: string }> };
    assert.deepEqual(validateDiscovery(d.topic, payload, { baseTopic: 'ups2mqtt' }), []);
    assert.equal(payload.cmps.cmd_test_battery_start_quick?.p, 'button');
    assert.equal(payload.cmps.bcharge?.p, 'sensor');
  });

  it('accepts a self-test command and answers on the result topic', async () => {
    const client = await mqtt.connectAsync(url);
    await client.publishAsync(`${B}/command/test.battery.start.quick`, '{"transaction":"hid-1"}', {
      qos: 1,
    });
    await client.endAsync();
    const res = json(
      await rec.waitFor((m) => m.topic === `${B}/command/test.battery.start.quick/result`, 10_000),
    );
    assert.deepEqual([res.status, res.code, res.transaction], ['ok', 'done', 'hid-1']);
  });
});
