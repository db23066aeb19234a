/**
 * Outages and energy end to end: startBridge with a simulated UPS (`sim://`, sped up) and a
 * real mosquitto. A simulated mains failure and return produce exactly one
 * `outage_started` / `outage_ended` pair with the figures the state shows, and a restart of
 * the bridge with the same data_dir keeps the counters and never lowers `energy_kwh`.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { BridgeApp } from '../../src/bridge/app.ts';
import { startBridge } from '../../src/cli/run.ts';
import { type AppConfig, loadConfig } from '../../src/config/load.ts';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, type RecordedMessage, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { pollUntil } from '../helpers/ports.ts';
import { ProcessRegistry } from '../helpers/process.ts';

const B = 'ups2mqtt/sim';
const logger = pino({ level: 'silent' });
type Json = Record<string, unknown>;
const json = (m: RecordedMessage): Json => JSON.parse(m.text) as Json;
const OUTAGE_KEYS = [
  'last_outage_duration_s',
  'last_outage_ended_at',
  'last_outage_min_charge_pct',
  'last_outage_started_at',
  'outages_total',
];

describe('outages and energy over MQTT (simulated UPS, real broker)', { timeout: 120_000 }, () => {
  const registry = new ProcessRegistry();
  const dataDir = mkdtempSync(join(tmpdir(), 'ups2mqtt-energy-it-'));
  let broker: MosquittoHandle;
  let rec: MqttRecording;
  let app: BridgeApp | undefined;
  let config: AppConfig;

  before(async () => {
    broker = await startMosquitto({ registry });
    rec = await recordMqtt(broker.url, ['ups2mqtt/#']);
    registry.track(rec);
    const result = loadConfig({
      env: {
        // 500 kW so energy grows visibly within seconds; a battery big enough to ride it out.
        UPS2MQTT_SOURCE:
          'sim://?serial=SIMENERGY1&nominal_w=1000000&load=50&load_drift=0&battery_wh=400000&speed=20',
        UPS2MQTT_UPS_ID: 'sim',
        UPS2MQTT_MQTT_URL: broker.url,
        UPS2MQTT_POLL_INTERVAL: '0.5',
        UPS2MQTT_DATA_DIR: dataDir,
        UPS2MQTT_HTTP_ENABLED: 'false',
        UPS2MQTT_HOMEASSISTANT_ENABLED: 'false',
        UPS2MQTT_COMMANDS_RATE_LIMIT: '1',
      },
      args: [],
    });
    assert.ok(result.ok, JSON.stringify(result));
    config = result.config;
    app = await startBridge(config, logger);
  });

  after(async () => {
    await app?.stop();
    await registry.stopAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const states = (): Json[] => rec.messages.filter((m) => m.topic === `${B}/state`).map(json);
  const events = (type: string): Json[] =>
    rec.messages.filter((m) => m.topic === `${B}/event` && json(m).event_type === type).map(json);

  /** Runs a simulate.* command, again while the router's rate limit refuses it. */
  async function simulate(name: 'simulate.power_fail' | 'simulate.power_restore'): Promise<void> {
    await pollUntil(
      async () => {
        const res = await app?.runCommand(0, name);
        if (res?.code === 'rate_limited') return undefined;
        assert.equal(res?.status, 'ok', JSON.stringify(res));
        return res;
      },
      5_000,
      { what: `${name} accepted`, intervalMs: 100 },
    );
  }

  it('counts from zero with no last outage, and shows energy from the start', async () => {
    const first = json(await rec.waitFor((m) => m.topic === `${B}/state`, 15_000));
    assert.equal(first.outages_total, 0);
    assert.equal(first.energy_kwh, 0);
    assert.equal(first.load_w, 500_000);
    for (const key of OUTAGE_KEYS.filter((k) => k !== 'outages_total'))
      assert.equal(first[key], undefined, `${key} absent before any outage`);
  });

  it('a mains failure and return give one outage with exact figures', async () => {
    await simulate('simulate.power_fail');
    const started = json(
      await rec.waitFor(
        (m) => m.topic === `${B}/event` && json(m).event_type === 'outage_started',
        10_000,
      ),
    );
    // Let the battery discharge over a few readings.
    const onBattery = await rec.waitFor(
      (m) =>
        m.topic === `${B}/state` &&
        json(m).on_battery === true &&
        (json(m).battery_charge_pct as number) < (started.min_charge_pct as number) &&
        Date.parse(String(json(m).updated_at)) - Date.parse(String(started.at)) >= 1500,
      15_000,
    );
    assert.equal(json(onBattery).last_outage_started_at, started.at);
    await simulate('simulate.power_restore');
    const ended = json(
      await rec.waitFor(
        (m) => m.topic === `${B}/event` && json(m).event_type === 'outage_ended',
        10_000,
      ),
    );
    const endState = json(
      await rec.waitFor(
        (m) => m.topic === `${B}/state` && json(m).last_outage_ended_at !== undefined,
        5_000,
      ),
    );
    assert.deepEqual(
      Object.keys(endState)
        .filter((k) => k.includes('outage'))
        .sort(),
      OUTAGE_KEYS,
    );
    // The figures: the state, the events and the readings agree exactly.
    const startMs = Date.parse(String(started.at));
    const endMs = Date.parse(String(ended.at));
    assert.ok((ended.duration_s as number) >= 2, `duration ${ended.duration_s}`);
    assert.equal(started.outages_total, 1);
    assert.equal(started.origin, 'bridge');
    assert.deepEqual(
      {
        at: ended.at,
        started_at: ended.started_at,
        duration_s: ended.duration_s,
        outages_total: ended.outages_total,
      },
      {
        at: endState.last_outage_ended_at,
        started_at: started.at,
        duration_s: Math.round((endMs - startMs) / 1000),
        outages_total: 1,
      },
    );
    assert.equal(endState.outages_total, 1);
    assert.equal(endState.last_outage_started_at, started.at);
    assert.equal(endState.last_outage_duration_s, ended.duration_s);
    assert.equal(endState.last_outage_min_charge_pct, ended.min_charge_pct);
    // Good readings only: a reduced state (UPS briefly unread on a busy machine) has no charge.
    const during = states().filter((s) => {
      const t = Date.parse(String(s.updated_at));
      return t >= startMs && t <= endMs && s.comm_lost !== true;
    });
    const lowest = Math.min(...during.map((s) => s.battery_charge_pct as number));
    assert.equal(ended.min_charge_pct, lowest);
    assert.ok(lowest < 100);
    assert.equal(events('outage_started').length, 1);
    assert.equal(events('outage_ended').length, 1);
    // power_lost comes before outage_started, power_restored before outage_ended.
    const order = rec.messages
      .filter((m) => m.topic === `${B}/event`)
      .map((m) => json(m).event_type);
    assert.ok(order.indexOf('power_lost') < order.indexOf('outage_started'));
    assert.ok(order.indexOf('power_restored') < order.indexOf('outage_ended'));
  });

  it('a restart with the same data_dir keeps the figures and never lowers energy_kwh', async () => {
    const before = states();
    const lastBefore = before.at(-1) as Json;
    const energiesBefore = before.map((s) => s.energy_kwh as number);
    for (let i = 1; i < energiesBefore.length; i++)
      assert.ok((energiesBefore[i] as number) >= (energiesBefore[i - 1] as number));
    await app?.stop();
    app = undefined;
    assert.deepEqual(readdirSync(dataDir).sort(), ['sim.energy.json', 'sim.outages.json']);
    rec.clear();
    app = await startBridge(config, logger);
    const first = json(await rec.waitFor((m) => m.topic === `${B}/state`, 15_000));
    // Seconds at 500 kW were counted and flushed on stop: the restart shows them.
    assert.ok(
      (first.energy_kwh as number) > (lastBefore.energy_kwh as number),
      `${first.energy_kwh} > ${lastBefore.energy_kwh}`,
    );
    for (const key of OUTAGE_KEYS) assert.equal(first[key], lastBefore[key], key);
    await simulate('simulate.power_fail');
    const again = json(
      await rec.waitFor(
        (m) => m.topic === `${B}/event` && json(m).event_type === 'outage_started',
        10_000,
      ),
    );
    assert.equal(again.outages_total, 2);
    await simulate('simulate.power_restore');
    await rec.waitFor(
      (m) => m.topic === `${B}/event` && json(m).event_type === 'outage_ended',
      10_000,
    );
    const after = states().map((s) => s.energy_kwh as number);
    for (let i = 1; i < after.length; i++)
      assert.ok((after[i] as number) >= (after[i - 1] as number), `energy dropped: ${after}`);
  });

  it('a restart mid-outage resumes it: no second start, the end comes after the gap', async () => {
    rec.clear();
    await simulate('simulate.power_fail');
    const started = json(
      await rec.waitFor(
        (m) => m.topic === `${B}/event` && json(m).event_type === 'outage_started',
        10_000,
      ),
    );
    assert.equal(started.outages_total, 3);
    await app?.stop();
    app = undefined;
    const stoppedAt = Date.now();
    rec.clear();
    // The simulator starts again on mains: the first reading ends the outage.
    app = await startBridge(config, logger);
    const ended = json(
      await rec.waitFor(
        (m) => m.topic === `${B}/event` && json(m).event_type === 'outage_ended',
        15_000,
      ),
    );
    assert.equal(ended.started_at, started.at);
    assert.equal(ended.outages_total, 3);
    const gapS = (stoppedAt - Date.parse(String(started.at))) / 1000;
    assert.ok((ended.duration_s as number) >= Math.floor(gapS), `${ended.duration_s} ≥ ${gapS}`);
    assert.equal(events('outage_started').length, 0, 'not announced again');
    const state = json(
      await rec.waitFor(
        (m) => m.topic === `${B}/state` && json(m).last_outage_ended_at === ended.at,
        5_000,
      ),
    );
    assert.equal(state.outages_total, 3);
    assert.equal(state.last_outage_duration_s, ended.duration_s);
  });
});
