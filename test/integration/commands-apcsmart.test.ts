/**
 * Commands from MQTT to the wire of a (simulated) Smart-UPS on a socat pty, through the
 * real CLI and a real mosquitto: an accepted command arrives as the exact protocol bytes;
 * a shutdown that is not enabled, not armed, or retained sends no byte at all.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { freshDataDir } from '../helpers/data-dir.ts';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, type RecordedMessage, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { pollUntil } from '../helpers/ports.ts';
import { type ManagedProcess, ProcessRegistry } from '../helpers/process.ts';
import { SmartUpsSimulator } from '../helpers/smart-ups-sim/simulator.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const B = 'ups2mqtt/smart';
const json = (m: RecordedMessage): Record<string, unknown> =>
  JSON.parse(m.text) as Record<string, unknown>;
/** Letters the bridge's polling never sends: seeing one means a command went out. */
const ACTION_BYTES = new Set([
  'W',
  'K',
  'Z',
  'S',
  'U',
  'A',
  'D',
  '@',
  String.fromCharCode(0x0e),
  String.fromCharCode(0x7f),
]);

describe('commands to an APC Smart UPS over a pty', { timeout: 120_000 }, () => {
  const registry = new ProcessRegistry();
  let sim: SmartUpsSimulator;
  let broker: MosquittoHandle;
  let rec: MqttRecording;
  let client: MqttClient;
  let bridge: ManagedProcess;
  let seq = 0;

  before(async () => {
    sim = await SmartUpsSimulator.start({ registry, timing: { selfTestMs: 1500 } });
    broker = await startMosquitto({ registry });
    rec = await recordMqtt(broker.url, [`${B}/#`, 'homeassistant/device/#']);
    registry.track(rec);
    client = await mqtt.connectAsync(broker.url);
    bridge = await registry.spawn('bridge', process.execPath, ['--import', 'tsx', MAIN], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        UPS2MQTT_SOURCE: `apcsmart://${sim.devicePath}`,
        UPS2MQTT_UPS_ID: 'smart',
        UPS2MQTT_MQTT_URL: broker.url,
        UPS2MQTT_DATA_DIR: freshDataDir(),
        UPS2MQTT_COMMANDS_ALLOW: 'shutdown.stayoff',
        UPS2MQTT_COMMANDS_RATE_LIMIT: '1',
        UPS2MQTT_LOG_FORMAT: 'json',
        UPS2MQTT_HTTP_ENABLED: 'false',
      },
    });
    await rec.waitFor((m) => m.topic === `${B}/availability` && m.text === 'online', 30_000);
  });

  after(async () => {
    await client.endAsync();
    await registry.stopAll();
  });

  async function send(
    name: string,
    retain = false,
    extra: Record<string, unknown> = {},
  ): Promise<Record<string, unknown>> {
    const tx = `tx-${++seq}`;
    await client.publishAsync(
      `${B}/command/${name}`,
      JSON.stringify({ transaction: tx, ...extra }),
      { qos: 1, retain },
    );
    const res = await rec.waitFor(
      (m) => m.topic === `${B}/command/${name}/result` && json(m).transaction === tx,
      10_000,
    );
    return json(res);
  }

  /** Bytes the UPS received since the log was cleared, polling letters removed. */
  const actionBytes = (): string =>
    [...sim.receivedBytes()]
      .map((b) => String.fromCharCode(b))
      .filter((c) => ACTION_BYTES.has(c))
      .join('');

  it('advertises the commands the unit supports as Home Assistant buttons', async () => {
    const d = await rec.waitFor(
      (m) => m.topic === 'homeassistant/device/ups2mqtt_smart/config' && m.payload.length > 0,
      10_000,
    );
    const cmps = (json(d) as { cmps: Record<string, { cmd_t?: string; en?: boolean }> }).cmps;
    assert.equal(cmps.cmd_test_battery_start_quick?.cmd_t, `${B}/command/test.battery.start.quick`);
    assert.equal(cmps.cmd_shutdown_stayoff?.en, false, 'destructive: disabled by default');
    assert.equal(cmps.cmd_load_off, undefined, 'not allowed in the config: no button');
  });

  it('a quick self-test arrives as one "W" on the wire', async () => {
    sim.clearLog();
    const res = await send('test.battery.start.quick');
    assert.deepEqual([res.status, res.code], ['ok', 'done'], JSON.stringify(res));
    await pollUntil(async () => (actionBytes().includes('W') ? true : undefined), 5_000, {
      what: 'W at the UPS',
    });
    assert.equal(actionBytes(), 'W');
    await rec.waitFor(
      (m) => m.topic === `${B}/event` && json(m).event_type === 'command_executed',
      5_000,
    );
  });

  it('sends no byte for a shutdown that is not enabled, not armed, or retained', async () => {
    // The self-test above runs on the UPS for a while: wait until it is back on line.
    await pollUntil(async () => ((sim.model.status() & 0x10) === 0 ? true : undefined), 10_000, {
      what: 'the self-test to end at the UPS',
    });
    sim.clearLog();
    const before = new Set(rec.messages);
    assert.equal((await send('load.off')).code, 'disabled');
    assert.equal((await send('shutdown.stayoff')).code, 'not_armed');
    assert.equal((await send('arm')).code, 'armed');
    assert.equal((await send('shutdown.stayoff', true)).code, 'retained');
    await client.publishAsync(`${B}/command/shutdown.stayoff`, '', { qos: 1, retain: true }); // clear it
    // The bridge handles one client's messages in order and answers a command only after the
    // UPS has taken it, so once this later command's answer is back, any byte the ones
    // above could have sent is already at the UPS.
    const marker = await send('load.off');
    assert.equal(marker.code, 'disabled');
    await rec.waitFor(
      (m) => m.topic === `${B}/event` && json(m).transaction === marker.transaction,
      5_000,
    );
    assert.equal(actionBytes(), '', `bytes at the UPS: ${JSON.stringify(sim.receivedText())}`);
    const commandEvents = rec.messages
      .filter((m) => !before.has(m) && m.topic === `${B}/event`)
      .filter((m) => String(json(m).event_type).startsWith('command_'))
      .map((m) => `${json(m).event_type} ${json(m).command} ${json(m).code}`);
    assert.deepEqual(commandEvents, [
      'command_refused load.off disabled',
      'command_refused shutdown.stayoff not_armed',
      'command_executed arm armed',
      'command_refused shutdown.stayoff retained',
      // Clearing the retained command is itself a retained publish: refused the same way.
      'command_refused shutdown.stayoff retained',
      'command_refused load.off disabled',
    ]);
  });

  it('an armed, allowed shutdown.stayoff arrives as K, a pause of at least 1.5 s, then K', async () => {
    sim.clearLog();
    assert.equal((await send('arm')).code, 'armed');
    const res = await send('shutdown.stayoff', false, { delay_s: 0 });
    assert.equal(res.code, 'done', JSON.stringify(res));
    await pollUntil(async () => (actionBytes() === 'KK' ? true : undefined), 10_000, {
      what: 'K K at the UPS',
    });
    const ks = sim.model.received.filter((r) => r.byte === 0x4b);
    assert.equal(ks.length, 2);
    const gap = (ks[1]?.at ?? 0) - (ks[0]?.at ?? 0);
    assert.ok(gap >= 1500, `gap between the two K: ${gap} ms`);
    assert.equal(bridge.running(), true);
  });
});
