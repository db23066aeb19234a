/**
 * The add-on's power policy through the composition root: startBridge with a Supervisor
 * (a fake one on loopback, base URL injected) shuts the "host" down with
 * `POST /host/shutdown` and the add-on's token instead of running `shutdown.command`, then
 * sends the UPS command to the simulated UPS; a real mosquitto carries the result.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { BridgeApp } from '../../src/bridge/app.ts';
import { startBridge } from '../../src/cli/run.ts';
import { loadConfig } from '../../src/config/load.ts';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, type RecordedMessage, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { ProcessRegistry } from '../helpers/process.ts';

const B = 'ups2mqtt/addon';
const json = (m: RecordedMessage): Record<string, unknown> =>
  JSON.parse(m.text) as Record<string, unknown>;

describe('power policy in the add-on: the Supervisor host shutdown', { timeout: 60_000 }, () => {
  const registry = new ProcessRegistry();
  const dir = mkdtempSync(join(tmpdir(), 'ups2mqtt-policy-sup-'));
  const requests: {
    method: string | undefined;
    url: string | undefined;
    auth: string | undefined;
  }[] = [];
  let supervisor: Server;
  let broker: MosquittoHandle;
  let rec: MqttRecording;
  let app: BridgeApp;

  before(async () => {
    supervisor = createServer((req, res) => {
      requests.push({ method: req.method, url: req.url, auth: req.headers.authorization });
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"result":"ok","data":{}}');
      });
    });
    await new Promise<void>((r) => supervisor.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(supervisor.address() as AddressInfo).port}`;
    broker = await startMosquitto({ registry });
    rec = await recordMqtt(broker.url, [`${B}/#`]);
    registry.track(rec);
    const result = loadConfig({
      env: {
        UPS2MQTT_SOURCE: 'sim://?serial=SIMADDON1&load_drift=0&speed=20&fail_at=1',
        UPS2MQTT_UPS_ID: 'addon',
        UPS2MQTT_MQTT_URL: broker.url,
        UPS2MQTT_POLL_INTERVAL: '0.5',
        UPS2MQTT_HTTP_ENABLED: 'false',
        UPS2MQTT_DATA_DIR: join(dir, 'data'),
        UPS2MQTT_SHUTDOWN_MODE: 'act',
        UPS2MQTT_SHUTDOWN_ON_BATTERY_FOR: '1',
        // Set, but the add-on shuts the host down through the Supervisor instead.
        UPS2MQTT_SHUTDOWN_COMMAND: '["/bin/false"]',
        UPS2MQTT_SHUTDOWN_GRACE: '1',
        UPS2MQTT_COMMANDS_SHUTDOWN_DELAY: '1',
      },
      args: [],
    });
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    app = await startBridge(result.config, pino({ level: 'silent' }), {
      supervisor: { url, token: 'addon-token' },
      runner: async () => assert.fail('the local command must not run in the add-on'),
    });
  });

  after(async () => {
    await app?.stop();
    await registry.stopAll();
    await new Promise<void>((r) => supervisor.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('POSTs /host/shutdown with the token, then sends shutdown.return to the UPS', async () => {
    const result = json(
      await rec.waitFor((m) => m.topic === `${B}/command/shutdown.return/result`, 30_000),
    );
    assert.deepEqual([result.status, result.code], ['ok', 'done']);
    assert.deepEqual(requests, [
      { method: 'POST', url: '/host/shutdown', auth: 'Bearer addon-token' },
    ]);
    const host = rec.messages
      .filter((m) => m.topic === `${B}/event`)
      .map(json)
      .find((e) => e.command === 'host.shutdown');
    assert.deepEqual([host?.event_type, host?.code], ['command_executed', 'done']);
    assert.match(String(host?.message), /the Supervisor accepted the host shutdown/);
    await rec.waitFor(
      (m) => m.topic === `${B}/state` && json(m).shutdown_state === 'waiting_for_mains',
      5_000,
    );
  });
});
