/**
 * The command framework end to end over a real broker, against the simulated UPS: the
 * guard chain as a Home Assistant user meets it (buttons in discovery, results, events,
 * arming), and proof that refused commands never reach the UPS.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { freshDataDir } from '../helpers/data-dir.ts';
import { validateDiscovery } from '../helpers/ha-validator.ts';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, type RecordedMessage, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { pollUntil } from '../helpers/ports.ts';
import { ProcessRegistry } from '../helpers/process.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const B = 'ups2mqtt/sim';
const json = (m: RecordedMessage): Record<string, unknown> =>
  JSON.parse(m.text) as Record<string, unknown>;

describe('commands over MQTT (simulated UPS)', { timeout: 120_000 }, () => {
  const registry = new ProcessRegistry();
  let broker: MosquittoHandle;
  let rec: MqttRecording;
  let client: MqttClient;

  before(async () => {
    broker = await startMosquitto({ registry });
    rec = await recordMqtt(broker.url, ['ups2mqtt/#', 'homeassistant/#']);
    registry.track(rec);
    client = await mqtt.connectAsync(broker.url);
    await registry.spawn('bridge', process.execPath, ['--import', 'tsx', MAIN], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        UPS2MQTT_SOURCE: 'sim://?serial=SIMCMD1&load_drift=0',
        UPS2MQTT_UPS_ID: 'sim',
        UPS2MQTT_MQTT_URL: broker.url,
        UPS2MQTT_DATA_DIR: freshDataDir(),
        UPS2MQTT_POLL_INTERVAL: '0.5',
        UPS2MQTT_COMMANDS_ALLOW: 'shutdown.return',
        UPS2MQTT_COMMANDS_ARM_WINDOW: '20',
        UPS2MQTT_COMMANDS_RATE_LIMIT: '1',
        UPS2MQTT_LOG_FORMAT: 'json',
        UPS2MQTT_HTTP_ENABLED: 'false',
      },
    });
    await rec.waitFor((m) => m.topic === `${B}/availability` && m.text === 'online', 20_000);
  });

  after(async () => {
    await client.endAsync();
    await registry.stopAll();
  });

  let seq = 0;
  /** Sends a command with a unique transaction (unless a raw payload is given) and returns its result. */
  async function send(
    name: string,
    raw?: string,
    retain = false,
  ): Promise<Record<string, unknown>> {
    const tx = `tx-${++seq}`;
    const payload = raw ?? JSON.stringify({ transaction: tx });
    const earlier = new Set(rec.messages);
    await client.publishAsync(`${B}/command/${name}`, payload, { qos: 1, retain });
    const mine = (m: RecordedMessage): boolean =>
      !earlier.has(m) &&
      (raw === undefined || json(m).transaction === undefined || json(m).transaction === tx);
    return json(
      await rec.waitFor((m) => m.topic === `${B}/command/${name}/result` && mine(m), 5_000),
    );
  }

  it('offers buttons for the enabled commands, destructive ones disabled by default', async () => {
    const d = await rec.waitFor(
      (m) => m.topic === 'homeassistant/device/ups2mqtt_sim/config' && m.payload.length > 0,
      10_000,
    );
    const payload = json(d) as { cmps: Record<string, Record<string, unknown>> };
    assert.deepEqual(validateDiscovery(d.topic, payload, { baseTopic: 'ups2mqtt' }), []);
    assert.equal(
      payload.cmps.cmd_test_battery_start_quick?.cmd_t,
      `${B}/command/test.battery.start.quick`,
    );
    assert.equal(payload.cmps.cmd_shutdown_return?.en, false);
    assert.equal(payload.cmps.cmd_shutdown_return?.ent_cat, 'config');
    assert.equal(payload.cmps.cmd_arm?.p, 'button');
    assert.equal(payload.cmps.shutdown_delay?.p, 'number');
    assert.equal(payload.cmps.cmd_load_off, undefined, 'load.off is not allowed: no button');
    assert.equal((await rec.retained(`${B}/shutdown_delay`))?.text, '60');
  });

  it('runs a self-test: result, event, and the lifecycle sensor goes running then passed', async () => {
    const res = await send('test.battery.start.quick');
    assert.deepEqual([res.status, res.code], ['ok', 'done']);
    assert.match(String(res.transaction), /^tx-\d+$/, 'the transaction is echoed');
    const ev = json(
      await rec.waitFor(
        (m) => m.topic === `${B}/event` && json(m).event_type === 'command_executed',
        5_000,
      ),
    );
    assert.equal(ev.command, 'test.battery.start.quick');
    await rec.waitFor(
      (m) => m.topic === `${B}/state` && json(m).self_test_state === 'running',
      5_000,
    );
    const onBatt = json(
      await rec.waitFor(
        (m) => m.topic === `${B}/event` && json(m).event_type === 'power_lost',
        5_000,
      ),
    );
    assert.equal(onBatt.during_self_test, true, 'on-battery during a self-test is marked');
    const done = json(
      await rec.waitFor(
        (m) => m.topic === `${B}/state` && json(m).self_test_state === 'passed',
        30_000,
      ),
    );
    assert.equal(done.self_test_result, 'passed');
    assert.match(String(done.self_test_finished_at), /^\d{4}-/);
  });

  it('refuses garbage, unknown commands, retained messages, unarmed and not-allowed shutdowns', async () => {
    assert.equal((await send('test.battery.start.quick', 'bogus')).code, 'bad_payload');
    assert.equal((await send('bypass.start')).code, 'unsupported');
    assert.equal((await send('load.off')).code, 'disabled');
    assert.equal((await send('shutdown.return')).code, 'not_armed');
    assert.equal((await send('shutdown.return', undefined, true)).code, 'retained');
    await client.publishAsync(`${B}/command/shutdown.return`, '', { qos: 1, retain: true }); // clear it
    // Each refusal is also an event, published right after its result.
    const refusedEvents = (): number =>
      rec.messages.filter(
        (m) => m.topic === `${B}/event` && json(m).event_type === 'command_refused',
      ).length;
    await pollUntil(async () => (refusedEvents() >= 5 ? true : undefined), 5_000, {
      what: 'five command_refused events',
    });
    // Nothing reached the UPS: its output never went off.
    assert.ok(!rec.messages.some((m) => m.topic === `${B}/state` && json(m).output_off === true));
  });

  it('runs an allowed shutdown once armed, with the delay from Home Assistant, then cancels it', async () => {
    await client.publishAsync(`${B}/shutdown_delay/set`, '30', { qos: 1 });
    await rec.waitFor((m) => m.topic === `${B}/shutdown_delay` && m.text === '30', 5_000);
    const armed = await send('arm');
    assert.equal(armed.code, 'armed');
    const res = await send('shutdown.return');
    assert.equal(res.code, 'done', JSON.stringify(res));
    assert.match(String(res.message), /30/);
    assert.equal((await send('shutdown.return')).code, 'not_armed', 'one arming, one shutdown');
    assert.equal((await send('shutdown.stop')).code, 'done', 'cancel needs no arming');
  });
});
