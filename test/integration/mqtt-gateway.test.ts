/**
 * MqttGateway against a real mosquitto and the real mqtt.js: what only the pair shows.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { MqttGateway } from '../../src/mqtt/gateway.ts';
import { captureLogger } from '../helpers/log-capture.ts';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { pollUntil } from '../helpers/ports.ts';
import { ProcessRegistry } from '../helpers/process.ts';

const FILTER = 'homeassistant/device/+/config';
const SEEDED = 'homeassistant/device/ups2mqtt_old/config';

describe('MqttGateway on a real broker', { timeout: 60_000 }, () => {
  const registry = new ProcessRegistry();
  let broker: MosquittoHandle;

  before(async () => {
    broker = await startMosquitto({ registry });
    const seed = await mqtt.connectAsync(broker.url);
    await seed.publishAsync(SEEDED, '{"dev":{"ids":["ups2mqtt_old"]}}', { retain: true, qos: 1 });
    await seed.endAsync();
  });

  after(async () => {
    await registry.stopAll();
  });

  for (const protocolVersion of [4, 5] as const) {
    it(`a retained scan finds what the broker holds even when the filter is already subscribed (MQTT ${protocolVersion === 5 ? '5' : '3.1.1'})`, async () => {
      // mqtt.js answers a SUBSCRIBE for a filter it already holds without sending one, so a
      // scan that relied on it saw only the retained messages that happened to arrive after
      // its handler was added: the bridge then kept a removed UPS's device (a race under load).
      const { logger } = captureLogger();
      const gateway = new MqttGateway(
        {
          url: broker.url,
          rejectUnauthorized: true,
          clientId: `gw-test-${protocolVersion}`,
          protocolVersion,
          keepaliveS: 30,
          reconnectPeriodMs: 500,
          bridgeStateTopic: `gw-test-${protocolVersion}/bridge/state`,
        },
        logger,
      );
      const connected = new Promise<void>((resolve) => gateway.onConnected(() => resolve()));
      gateway.start();
      try {
        await connected;
        const live: string[] = [];
        await gateway.subscribe(FILTER, (m) => live.push(m.topic));
        // The earlier subscription's retained copy has come and gone before the scan starts.
        await pollUntil(async () => live.includes(SEEDED) || undefined, 5000);
        const found = await gateway.scanRetained(FILTER, `gw-test-${protocolVersion}/sync`);
        assert.deepEqual([...new Set(found.map((m) => m.topic))], [SEEDED]);
        assert.ok(found.every((m) => m.retain));
        // The live handler is kept after the scan: a later deletion is still seen.
        const del = await mqtt.connectAsync(broker.url);
        await del.publishAsync('homeassistant/device/ups2mqtt_gone/config', 'x', { qos: 1 });
        await del.endAsync();
        await pollUntil(
          async () => live.includes('homeassistant/device/ups2mqtt_gone/config') || undefined,
          5000,
        );
      } finally {
        await gateway.stop();
      }
    });
  }
});
