/**
 * The power policy against a (simulated) Smart-UPS on a socat pty, through the real CLI and
 * a real mosquitto: the UPS command reaches the wire as APC Smart bytes — `S` (soft
 * shutdown, returns with mains) on battery, and `@000` (hibernate, comes back by itself)
 * when mains returned during the grace, so the host that went down is powered up again.
 */
import * as assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
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
const ACTION_BYTES = new Set(['W', 'K', 'Z', 'S', 'U', 'A', 'D', '@', '0', '\x0e', '\x7f']);

describe('power policy → APC Smart UPS over a pty', { timeout: 120_000 }, () => {
  const registry = new ProcessRegistry();
  const dir = mkdtempSync(join(tmpdir(), 'ups2mqtt-policy-smart-'));
  const marker = join(dir, 'marker');
  let sim: SmartUpsSimulator;
  let broker: MosquittoHandle;
  let rec: MqttRecording;
  let bridge: ManagedProcess;

  before(async () => {
    const script = join(dir, 'poweroff.sh');
    writeFileSync(script, `#!/bin/sh\necho "poweroff" >> "${marker}"\n`);
    chmodSync(script, 0o755);
    // The UPS cuts its output 1.5 s after S / @nnn (instead of its EEPROM's 20 s).
    sim = await SmartUpsSimulator.start({ registry, timing: { graceMs: 1500 } });
    broker = await startMosquitto({ registry });
    rec = await recordMqtt(broker.url, [`${B}/#`]);
    registry.track(rec);
    bridge = await registry.spawn('bridge', process.execPath, ['--import', 'tsx', MAIN], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        UPS2MQTT_SOURCE: `apcsmart://${sim.devicePath}`,
        UPS2MQTT_UPS_ID: 'smart',
        UPS2MQTT_MQTT_URL: broker.url,
        UPS2MQTT_DATA_DIR: join(dir, 'data'),
        UPS2MQTT_SHUTDOWN_MODE: 'act',
        UPS2MQTT_SHUTDOWN_ON_BATTERY_FOR: '2',
        UPS2MQTT_SHUTDOWN_COMMAND: JSON.stringify([script]),
        UPS2MQTT_SHUTDOWN_GRACE: '4',
        // Not above the UPS's own delay (p = 20 s): the source would hold the rest on this
        // host, and a host that is shutting down cannot hold it (docs/power-policy.md).
        UPS2MQTT_COMMANDS_SHUTDOWN_DELAY: '20',
        UPS2MQTT_LOG_FORMAT: 'json',
        UPS2MQTT_HTTP_ENABLED: 'false',
      },
    });
    await rec.waitFor((m) => m.topic === `${B}/availability` && m.text === 'online', 30_000);
    await rec.waitFor((m) => m.topic === `${B}/state` && json(m).shutdown_state === 'idle', 10_000);
  });

  after(async () => {
    await registry.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const actionBytes = (): string =>
    [...sim.receivedBytes()]
      .map((b) => String.fromCharCode(b))
      .filter((c) => ACTION_BYTES.has(c))
      .join('');
  const runs = (): number => {
    try {
      return readFileSync(marker, 'utf8').split('\n').filter(Boolean).length;
    } catch {
      return 0;
    }
  };
  const stateAfter = (earlier: Set<RecordedMessage>, shutdownState: string, ms: number) =>
    rec.waitFor(
      (m) =>
        !earlier.has(m) && m.topic === `${B}/state` && json(m).shutdown_state === shutdownState,
      ms,
    );

  it('on battery: the host command, then S on the wire after the grace; the output returns with mains', async () => {
    const earlier = new Set(rec.messages);
    sim.clearLog();
    sim.model.failMains();
    await stateAfter(earlier, 'pending', 10_000);
    await stateAfter(earlier, 'shutting_down', 10_000);
    await pollUntil(async () => (runs() === 1 ? true : undefined), 10_000, {
      what: 'host command',
    });
    assert.equal(actionBytes(), '', 'nothing sent during the grace');
    const result = json(
      await rec.waitFor(
        (m) => !earlier.has(m) && m.topic === `${B}/command/shutdown.return/result`,
        15_000,
      ),
    );
    assert.deepEqual([result.status, result.code], ['ok', 'done'], JSON.stringify(result));
    assert.match(String(result.message), /\(S, acknowledged OK\)/);
    assert.equal(actionBytes(), 'S');
    await stateAfter(earlier, 'waiting_for_mains', 5_000);
    await pollUntil(async () => (sim.model.shutdowns.includes('S') ? true : undefined), 5_000, {
      what: 'the output cut by S',
    });
    const beforeRestore = new Set(rec.messages);
    sim.model.restoreMains();
    await stateAfter(beforeRestore, 'idle', 15_000).catch((err) => {
      throw new Error(`${err}\n${bridge.output().slice(-6000)}`);
    });
    assert.equal(sim.model.outputOn, true, 'the output came back with mains');
    assert.equal(runs(), 1);
  });

  it('mains back during the grace: @000 reaches the wire, so the host comes back', async () => {
    const earlier = new Set(rec.messages);
    sim.clearLog();
    sim.model.failMains();
    await stateAfter(earlier, 'shutting_down', 15_000).catch((err) => {
      const seen = rec.messages
        .filter((m) => m.topic === `${B}/state`)
        .map(json)
        .map((st) => [st.shutdown_state, st.online, st.on_battery, st.output_off, st.updated_at]);
      throw new Error(`${err}: ${JSON.stringify(seen)}`);
    });
    await pollUntil(async () => (runs() === 2 ? true : undefined), 10_000, {
      what: 'host command',
    });
    sim.model.restoreMains();
    const resultMsg = await rec.waitFor(
      (m) => !earlier.has(m) && m.topic === `${B}/command/shutdown.return/result`,
      15_000,
    );
    const result = json(resultMsg);
    assert.equal(result.code, 'done', JSON.stringify(result));
    assert.match(String(result.message), /@000/);
    assert.equal(actionBytes(), '@000');
    const note = rec.messages
      .filter((m) => !earlier.has(m) && m.topic === `${B}/event`)
      .map(json)
      .find((e) => e.code === 'mains_returned');
    assert.match(String(note?.message), /still sent/);
    // `idle` needs a reading taken after the UPS command: strictly after its result.
    const sent = new Set(rec.messages.slice(0, rec.messages.indexOf(resultMsg) + 1));
    await stateAfter(sent, 'idle', 15_000);
  });
});
