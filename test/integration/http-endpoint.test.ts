/**
 * The HTTP endpoint on a real bridge: startBridge with a simulated UPS and the embedded
 * broker, http port 0. /healthz follows the broker connection, /metrics and api/status
 * carry the simulated UPS's values, and stopping the bridge releases the port.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { BridgeApp } from '../../src/bridge/app.ts';
import { startBridge } from '../../src/cli/run.ts';
import { statusServerOf } from '../../src/cli/status-server.ts';
import { loadConfig } from '../../src/config/load.ts';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/demo/broker.ts';
import type { HealthReport } from '../../src/http/health.ts';
import type { StatusJson } from '../../src/http/status-json.ts';
import { freshDataDir } from '../helpers/data-dir.ts';
import { pollUntil } from '../helpers/ports.ts';

const logger = pino({ level: 'silent' });

async function health(base: string): Promise<{ status: number; body: HealthReport }> {
  const res = await fetch(`${base}healthz`);
  return { status: res.status, body: (await res.json()) as HealthReport };
}

describe('HTTP endpoint on a running bridge', () => {
  let broker: EmbeddedBroker;
  let app: BridgeApp;
  let base = '';

  before(async () => {
    broker = await startEmbeddedBroker({ port: 0, logger });
    const result = loadConfig({
      env: {
        UPS2MQTT_SOURCE: 'sim://?speed=10&serial=SIMHTTP0001',
        UPS2MQTT_UPS_ID: 'office',
        UPS2MQTT_MQTT_URL: broker.url,
        UPS2MQTT_DATA_DIR: freshDataDir(),
        UPS2MQTT_MQTT_PROTOCOL_VERSION: '4', // aedes speaks MQTT 3.1.1 only
        UPS2MQTT_MQTT_RECONNECT_PERIOD: '0.2',
        UPS2MQTT_HTTP_PORT: '0',
      },
      args: [],
    });
    assert.ok(result.ok);
    app = await startBridge(result.config, logger);
    base = statusServerOf(app)?.address?.url ?? '';
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  });
  after(async () => {
    await app?.stop(); // idempotent: the last test stops it already
    await broker?.close();
  });

  it('/healthz turns 200 once the broker is connected and the UPS read', async () => {
    const ok = await pollUntil(
      async () => {
        const h = await health(base);
        return h.status === 200 ? h : undefined;
      },
      10_000,
      { what: 'healthz 200' },
    );
    assert.equal(ok.body.status, 'ok');
    assert.deepEqual(ok.body.reasons, []);
    assert.equal(ok.body.upses[0]?.ups, 'office');
  });

  it('/metrics and api/status carry the simulated UPS', async () => {
    const metrics = await (await fetch(`${base}metrics`)).text();
    assert.match(metrics, /^ups2mqtt_ups_available\{ups="office"\} 1$/m);
    assert.match(metrics, /^ups2mqtt_ups_battery_charge_percent\{ups="office"\} \d+(\.\d+)?$/m);
    assert.match(metrics, /^ups2mqtt_ups_online\{ups="office"\} 1$/m);
    assert.match(metrics, /^ups2mqtt_mqtt_connected 1$/m);
    const status = (await (await fetch(`${base}api/status`)).json()) as StatusJson;
    assert.equal(status.upses[0]?.state.serial_number, 'SIMHTTP0001');
    assert.ok((status.upses[0]?.points.length ?? 0) >= 1);
  });

  it('a power failure shows in metrics at once', async () => {
    await app.runCommand(0, 'simulate.power_fail');
    await pollUntil(
      async () => {
        const text = await (await fetch(`${base}metrics`)).text();
        return /^ups2mqtt_ups_on_battery\{ups="office"\} 1$/m.test(text) ? true : undefined;
      },
      5000,
      { what: 'on_battery 1 in /metrics' },
    );
    await app.runCommand(0, 'simulate.power_restore');
  });

  it('/healthz answers 503 with mqtt_disconnected when the broker goes away', async () => {
    await broker.close();
    const down = await pollUntil(
      async () => {
        const h = await health(base);
        return h.status === 503 ? h : undefined;
      },
      10_000,
      { what: 'healthz 503' },
    );
    assert.deepEqual(
      down.body.reasons.map((r) => r.code),
      ['mqtt_disconnected'],
    );
    assert.equal(down.body.mqtt.connected, false);
  });

  it('/healthz is 200 again once a broker is back on the same port', async () => {
    broker = await startEmbeddedBroker({ port: broker.port, fallbackToFreePort: false, logger });
    await pollUntil(async () => ((await health(base)).status === 200 ? true : undefined), 10_000, {
      what: 'healthz 200 after the broker is back',
    });
  });

  it('stopping the bridge closes the endpoint', async () => {
    await app.stop();
    await assert.rejects(fetch(`${base}healthz`));
  });
});
