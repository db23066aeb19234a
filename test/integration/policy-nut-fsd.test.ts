/**
 * The power policy with the NUT server: FSD goes to NUT clients first, and the host command
 * waits until the logged-in upsmon secondary has logged out (a raw NUT session here plays
 * the secondary). startBridge, a real mosquitto, sim://; the host command is a marker script.
 */
import * as assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import YAML from 'yaml';
import type { BridgeApp } from '../../src/bridge/app.ts';
import { nutServerOf } from '../../src/cli/nut-server.ts';
import { startBridge } from '../../src/cli/run.ts';
import { loadConfig } from '../../src/config/load.ts';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, type RecordedMessage, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { pollUntil } from '../helpers/ports.ts';
import { ProcessRegistry } from '../helpers/process.ts';

const B = 'ups2mqtt/sim';
const json = (m: RecordedMessage): Record<string, unknown> =>
  JSON.parse(m.text) as Record<string, unknown>;

/** One NUT session: sends a line, resolves with the next reply line. */
function session(port: number): Promise<{ ask(line: string): Promise<string>; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buffer = '';
    const waiters: ((line: string) => void)[] = [];
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        waiters.shift()?.(line);
      }
    });
    socket.once('error', reject);
    socket.once('connect', () =>
      resolve({
        socket,
        ask: (line) =>
          new Promise((r) => {
            waiters.push(r);
            socket.write(`${line}\n`);
          }),
      }),
    );
  });
}

describe('power policy with the NUT server: FSD, secondaries first', { timeout: 60_000 }, () => {
  const registry = new ProcessRegistry();
  const dir = mkdtempSync(join(tmpdir(), 'ups2mqtt-policy-fsd-'));
  const marker = join(dir, 'marker');
  let broker: MosquittoHandle;
  let rec: MqttRecording;
  let app: BridgeApp;

  before(async () => {
    const script = join(dir, 'poweroff.sh');
    writeFileSync(script, `#!/bin/sh\necho poweroff >> "${marker}"\n`);
    chmodSync(script, 0o755);
    broker = await startMosquitto({ registry });
    rec = await recordMqtt(broker.url, [`${B}/#`]);
    registry.track(rec);
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      YAML.stringify({
        source: 'sim://?serial=SIMFSD1&load_drift=0&speed=20&fail_at=2',
        ups_id: 'sim',
        poll_interval: 0.5,
        data_dir: join(dir, 'data'),
        mqtt: { url: broker.url },
        http: { enabled: false },
        nut_server: {
          enabled: true,
          port: 0,
          users: [{ name: 'mon', password: 'mon-secret', upsmon: 'secondary' }],
        },
        shutdown: {
          mode: 'act',
          on_battery_for: 1,
          secondaries_grace: 30,
          command: [script],
          grace: 1,
        },
        commands: { shutdown_delay: 1 },
      }),
    );
    const result = loadConfig({ file, env: {}, args: [] });
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    app = await startBridge(result.config, pino({ level: 'silent' }));
  });

  after(async () => {
    await app?.stop();
    await registry.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const ran = (): boolean => {
    try {
      return readFileSync(marker, 'utf8').includes('poweroff');
    } catch {
      return false;
    }
  };

  it('raises FSD, holds the host command while the secondary is logged in, then runs it', async () => {
    const port = nutServerOf(app)?.port ?? 0;
    const secondary = await session(port);
    assert.equal(await secondary.ask('USERNAME mon'), 'OK');
    assert.equal(await secondary.ask('PASSWORD mon-secret'), 'OK');
    assert.equal(await secondary.ask('LOGIN sim'), 'OK');
    const reader = await session(port);
    await pollUntil(
      async () => ((await reader.ask('GET VAR sim ups.status')).includes('FSD') ? true : undefined),
      15_000,
      { what: 'FSD in ups.status' },
    );
    const fsd = await rec.waitFor(
      (m) => m.topic === `${B}/event` && json(m).command === 'nut.fsd',
      5_000,
    );
    assert.match(String(json(fsd).message), /1 NUT secondary/);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(ran(), false, 'the host command waits for the secondary');
    assert.equal(await secondary.ask('LOGOUT'), 'OK Goodbye');
    await pollUntil(async () => (ran() ? true : undefined), 5_000, { what: 'host command' });
    const wait = await rec.waitFor(
      (m) => m.topic === `${B}/event` && json(m).command === 'nut.secondaries',
      5_000,
    );
    assert.equal(json(wait).code, 'done');
    const result = json(
      await rec.waitFor((m) => m.topic === `${B}/command/shutdown.return/result`, 10_000),
    );
    assert.equal(result.code, 'done');
    reader.socket.destroy();
    secondary.socket.destroy();
  });
});
