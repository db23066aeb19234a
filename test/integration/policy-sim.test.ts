/**
 * The power policy end to end: the real CLI with `shutdown.mode: act` against a simulated
 * UPS (scripted outage), a real mosquitto, a marker script as the host command. Asserts
 * the exact retained `shutdown_state` sequence, the events, the discovery entity, and
 * that the UPS command reached the source (its result topic, the output going off).
 */
import * as assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, type RecordedMessage, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { ProcessRegistry } from '../helpers/process.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const B = 'ups2mqtt/sim';
const json = (m: RecordedMessage): Record<string, unknown> =>
  JSON.parse(m.text) as Record<string, unknown>;

describe('power policy end to end (CLI, mosquitto, sim://)', { timeout: 120_000 }, () => {
  const registry = new ProcessRegistry();
  const dir = mkdtempSync(join(tmpdir(), 'ups2mqtt-policy-e2e-'));
  const marker = join(dir, 'marker');
  const script = join(dir, 'poweroff.sh');
  let broker: MosquittoHandle;
  let rec: MqttRecording;
  let client: MqttClient;

  before(async () => {
    // The "host shutdown": appends its arguments to a marker file, nothing else.
    writeFileSync(script, `#!/bin/sh\necho "poweroff $*" >> "${marker}"\necho "bye"\n`);
    chmodSync(script, 0o755);
    broker = await startMosquitto({ registry });
    rec = await recordMqtt(broker.url, [`${B}/#`, 'homeassistant/device/#']);
    registry.track(rec);
    client = await mqtt.connectAsync(broker.url);
    await registry.spawn('bridge', process.execPath, ['--import', 'tsx', MAIN], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        // Mains fails 3 s after start; the simulated battery runs 20× fast.
        UPS2MQTT_SOURCE: 'sim://?serial=SIMPOLE2E&load_drift=0&speed=20&fail_at=3',
        UPS2MQTT_UPS_ID: 'sim',
        UPS2MQTT_MQTT_URL: broker.url,
        UPS2MQTT_POLL_INTERVAL: '0.5',
        UPS2MQTT_DATA_DIR: join(dir, 'data'),
        UPS2MQTT_SHUTDOWN_MODE: 'act',
        UPS2MQTT_SHUTDOWN_ON_BATTERY_FOR: '3',
        UPS2MQTT_SHUTDOWN_COMMAND: JSON.stringify([script, '--now']),
        UPS2MQTT_SHUTDOWN_COMMAND_TIMEOUT: '10',
        UPS2MQTT_SHUTDOWN_GRACE: '2',
        UPS2MQTT_COMMANDS_SHUTDOWN_DELAY: '1',
        UPS2MQTT_LOG_FORMAT: 'json',
        UPS2MQTT_HTTP_ENABLED: 'false',
      },
    });
    await rec.waitFor((m) => m.topic === `${B}/availability` && m.text === 'online', 20_000);
  });

  after(async () => {
    await client.endAsync();
    await registry.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const states = (): Record<string, unknown>[] =>
    rec.messages.filter((m) => m.topic === `${B}/state`).map(json);
  const sequence = (): unknown[] => {
    const out: unknown[] = [];
    for (const s of states()) if (out.at(-1) !== s.shutdown_state) out.push(s.shutdown_state);
    return out;
  };

  it('offers the Shutdown policy enum sensor in discovery', async () => {
    const d = await rec.waitFor(
      (m) =>
        m.topic === 'homeassistant/device/ups2mqtt_sim/config' &&
        m.payload.length > 0 &&
        'shutdown_state' in ((json(m).cmps ?? {}) as object),
      10_000,
    );
    const c = (json(d).cmps as Record<string, Record<string, unknown>>).shutdown_state;
    assert.equal(c?.dev_cla, 'enum');
    assert.deepEqual(c?.ops, [
      'idle',
      'pending',
      'shutting_down',
      'waiting_for_mains',
      'cancelled',
    ]);
    const evt = (json(d).cmps as Record<string, Record<string, unknown>>).event;
    assert.ok(((evt?.evt_typ ?? []) as string[]).includes('shutdown_cancelled'));
  });

  it('outage → pending → host command → grace → shutdown.return → waiting_for_mains → idle', async () => {
    await rec.waitFor(
      (m) => m.topic === `${B}/state` && json(m).shutdown_state === 'waiting_for_mains',
      30_000,
    );
    const result = json(
      await rec.waitFor((m) => m.topic === `${B}/command/shutdown.return/result`, 5_000),
    );
    assert.deepEqual([result.status, result.code], ['ok', 'done']);
    assert.match(String(result.message), /output turns off in 1 s/);
    assert.deepEqual(readFileSync(marker, 'utf8'), 'poweroff --now\n');
    // The UPS command reached the source: its output goes off (then waits for mains).
    await rec.waitFor((m) => m.topic === `${B}/state` && json(m).output_off === true, 10_000);
    assert.deepEqual(sequence(), ['idle', 'pending', 'shutting_down', 'waiting_for_mains']);

    const earlier = new Set(rec.messages);
    await client.publishAsync(`${B}/command/simulate.power_restore`, '{}', { qos: 1 });
    await rec.waitFor(
      (m) =>
        !earlier.has(m) &&
        m.topic === `${B}/state` &&
        json(m).shutdown_state === 'idle' &&
        json(m).online === true,
      15_000,
    );
    assert.deepEqual(sequence(), ['idle', 'pending', 'shutting_down', 'waiting_for_mains', 'idle']);
    for (const m of rec.messages.filter((x) => x.topic === `${B}/state`))
      assert.equal(m.retain, true, 'the state is retained');

    const events = rec.messages.filter((m) => m.topic === `${B}/event`).map(json);
    const policyEvents = events
      .filter((e) =>
        [
          'shutdown_initiated',
          'shutdown_cancelled',
          'command_executed',
          'command_refused',
        ].includes(String(e.event_type)),
      )
      .map((e) => [e.event_type, e.command ?? e.code]);
    assert.deepEqual(policyEvents.slice(0, 3), [
      ['shutdown_initiated', 'on_battery_for'],
      ['command_executed', 'host.shutdown'],
      ['command_executed', 'shutdown.return'],
    ]);
    const initiated = events.find((e) => e.event_type === 'shutdown_initiated');
    assert.match(String(initiated?.message), /on battery for shutdown\.on_battery_for/);
    assert.equal(
      (await rec.retained(`${B}/state`))?.text.includes('"shutdown_state":"idle"'),
      true,
    );
    assert.equal(readFileSync(marker, 'utf8'), 'poweroff --now\n', 'the host command ran once');
  });
});
