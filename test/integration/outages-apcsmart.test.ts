/**
 * Outages and energy with a UPS that reports its load only in percent: the Smart-UPS
 * simulator over a real pseudo-terminal (socat), startBridge with `nominal_power_w` set,
 * and a real mosquitto. The configured rating gives `load_w` and so `energy_kwh`; a mains
 * failure on the simulated unit gives one outage whose lowest charge is the lowest the
 * unit reported.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
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
import { SmartUpsSimulator } from '../helpers/smart-ups-sim/simulator.ts';

const B = 'ups2mqtt/su420';
const logger = pino({ level: 'silent' });
type Json = Record<string, unknown>;
const json = (m: RecordedMessage): Json => JSON.parse(m.text) as Json;

describe('outages and energy from a Smart-UPS over a pty', { timeout: 120_000 }, () => {
  const registry = new ProcessRegistry();
  const dataDir = mkdtempSync(join(tmpdir(), 'ups2mqtt-apcsmart-energy-'));
  let sim: SmartUpsSimulator;
  let broker: MosquittoHandle;
  let rec: MqttRecording;
  let app: BridgeApp | undefined;

  before(async () => {
    sim = await SmartUpsSimulator.start({ registry });
    broker = await startMosquitto({ registry });
    rec = await recordMqtt(broker.url, [`${B}/#`]);
    registry.track(rec);
    const result = loadConfig({
      env: {
        UPS2MQTT_SOURCE: `apcsmart://${sim.devicePath}`,
        UPS2MQTT_UPS_ID: 'su420',
        UPS2MQTT_NOMINAL_POWER_W: '260',
        UPS2MQTT_MQTT_URL: broker.url,
        UPS2MQTT_POLL_INTERVAL: '0.5',
        UPS2MQTT_DATA_DIR: dataDir,
        UPS2MQTT_HTTP_ENABLED: 'false',
        UPS2MQTT_HOMEASSISTANT_ENABLED: 'false',
      },
      args: [],
    });
    assert.ok(result.ok, JSON.stringify(result));
    app = await startBridge(result.config, logger);
  });

  after(async () => {
    await app?.stop();
    await registry.stopAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('derives load_w from the configured rating and shows energy', async () => {
    const state = json(
      await rec.waitFor((m) => m.topic === `${B}/state` && json(m).load_pct !== undefined, 20_000),
    );
    assert.equal(state.nominal_power_w, 260);
    assert.equal(state.load_w, Math.round((state.load_pct as number) * 260 * 10) / 1000);
    assert.equal(state.energy_kwh, 0);
    assert.equal(state.outages_total, 0);
  });

  it('a mains failure and return on the unit give one outage with its lowest charge', async () => {
    sim.model.values.set('f', '093.0');
    sim.model.failMains();
    const started = json(
      await rec.waitFor(
        (m) => m.topic === `${B}/event` && json(m).event_type === 'outage_started',
        10_000,
      ),
    );
    assert.equal(started.outages_total, 1);
    sim.model.values.set('f', '081.0');
    await rec.waitFor(
      (m) => m.topic === `${B}/state` && json(m).last_outage_min_charge_pct === 81,
      10_000,
    );
    sim.model.values.set('f', '084.0');
    await rec.waitFor((m) => m.topic === `${B}/state` && json(m).battery_charge_pct === 84, 10_000);
    sim.model.restoreMains();
    const ended = json(
      await rec.waitFor(
        (m) => m.topic === `${B}/event` && json(m).event_type === 'outage_ended',
        10_000,
      ),
    );
    assert.equal(ended.started_at, started.at);
    assert.equal(ended.min_charge_pct, 81);
    assert.equal(
      ended.duration_s,
      Math.round((Date.parse(String(ended.at)) - Date.parse(String(started.at))) / 1000),
    );
    const state = json(
      await rec.waitFor(
        (m) => m.topic === `${B}/state` && json(m).last_outage_ended_at === ended.at,
        5_000,
      ),
    );
    assert.equal(state.on_battery, false);
    assert.equal(state.outages_total, 1);
    assert.equal(state.last_outage_min_charge_pct, 81);
    assert.equal(state.last_outage_duration_s, ended.duration_s);
  });
});
