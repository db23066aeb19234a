/**
 * Secrets never reach the logs (issue 14, "Secrets"): the real CLI as a child process at log
 * level trace, against a real mosquitto that requires a password, with the password given in
 * `mqtt.url`, in UPS2MQTT_MQTT_PASSWORD, a wrong one (the refusal path logs errors), a
 * nut:// source with a password (refused while that source is not available, or failing to
 * connect once it is), and `config check` of all of them. Every line of stdout and stderr of
 * every run is scanned for every password configured: zero hits.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { freePort } from '../helpers/ports.ts';
import { type ManagedProcess, ProcessRegistry } from '../helpers/process.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const USER = 'ups2mqtt';
/** Random, so no other text can contain them; letters and digits, so no URL encoding. */
const secret = (label: string): string => `${label}${randomBytes(9).toString('hex')}`;
const SECRETS = {
  broker: secret('BrokerPw'),
  wrong: secret('WrongPw'),
  nut: secret('NutPw'),
} as const;
const ALL_SECRETS = Object.values(SECRETS);
/** Every run keeps all its output (a ring that drops nothing at this size). */
const KEEP_CHARS = 32 * 1024 * 1024;

/** One finished run: its name and everything it printed. */
interface RunOutput {
  name: string;
  text: string;
}

describe('secrets never reach the logs (CLI at log level trace)', { timeout: 120_000 }, () => {
  const registry = new ProcessRegistry();
  const outputs: RunOutput[] = [];
  let broker: MosquittoHandle;
  let rec: MqttRecording;

  const baseEnv = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    UPS2MQTT_LOG_LEVEL: 'trace',
    UPS2MQTT_LOG_FORMAT: 'json',
    UPS2MQTT_MQTT_RECONNECT_PERIOD: '0.5',
    UPS2MQTT_POLL_INTERVAL: '0.5',
    UPS2MQTT_HTTP_ENABLED: 'false',
  });

  function spawnCli(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<ManagedProcess> {
    return registry.spawn(name, process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { ...baseEnv(), ...env },
      ringChars: KEEP_CHARS,
    });
  }

  /** Stops (if running) and keeps the whole output for the scan. */
  async function finish(proc: ManagedProcess): Promise<string> {
    await proc.stop();
    const text = proc.output();
    assert.ok(!text.includes('chars dropped]'), `${proc.name}: output was cut`);
    outputs.push({ name: proc.name, text });
    return text;
  }

  /** A command that ends by itself (config check, a refused run). */
  async function runToExit(name: string, args: string[], env: NodeJS.ProcessEnv) {
    const proc = await spawnCli(name, args, env);
    const exit = await Promise.race([
      proc.exited,
      new Promise<undefined>((resolve) => {
        setTimeout(() => resolve(undefined), 30_000).unref();
      }),
    ]);
    assert.ok(exit !== undefined, `${name} did not exit: ${proc.output()}`);
    return { exit, text: await finish(proc) };
  }

  before(async () => {
    broker = await startMosquitto({ registry, auth: { username: USER, password: SECRETS.broker } });
    rec = await recordMqtt(broker.url, ['ups2mqtt/#'], {
      username: USER,
      password: SECRETS.broker,
    });
    registry.track(rec);
  });

  after(async () => {
    await registry.stopAll();
  });

  it('run with the password inside mqtt.url connects and publishes', async () => {
    const url = `mqtt://${USER}:${SECRETS.broker}@127.0.0.1:${broker.port}`;
    const bridge = await spawnCli('run-url-password', ['run'], {
      UPS2MQTT_SOURCE: 'sim://',
      UPS2MQTT_UPS_ID: 'secret-url',
      UPS2MQTT_MQTT_URL: url,
    });
    // Proof that the password was used: the broker refuses anonymous clients.
    await rec.waitFor((m) => m.topic === 'ups2mqtt/secret-url/state', 30_000);
    await bridge.waitForOutput(/"msg":"effective configuration"/, 10_000);
    await bridge.waitForOutput(/"msg":"connected to MQTT broker"/, 10_000);
    const text = await finish(bridge);
    // The run really logged at its most verbose (a quiet run would pass the scan proving
    // nothing): debug lines, the effective configuration among them.
    assert.match(text, /"level":20,/, 'debug lines present');
    assert.match(text, new RegExp(`mqtt://${USER}:\\*\\*\\*@127\\.0\\.0\\.1:${broker.port}`));
  });

  it('run with UPS2MQTT_MQTT_PASSWORD connects and publishes', async () => {
    const bridge = await spawnCli('run-env-password', ['run'], {
      UPS2MQTT_SOURCE: 'sim://',
      UPS2MQTT_UPS_ID: 'secret-env',
      UPS2MQTT_MQTT_URL: broker.url,
      UPS2MQTT_MQTT_USERNAME: USER,
      UPS2MQTT_MQTT_PASSWORD: SECRETS.broker,
    });
    await rec.waitFor((m) => m.topic === 'ups2mqtt/secret-env/state', 30_000);
    await bridge.waitForOutput(/"msg":"connected to MQTT broker"/, 10_000);
    const text = await finish(bridge);
    assert.match(text, /"password":"\*\*\*"/, 'the password shows masked in the effective config');
  });

  it('run with a wrong password (in the URL and in the environment) logs the refusal', async () => {
    const bridge = await spawnCli('run-wrong-password', ['run'], {
      UPS2MQTT_SOURCE: 'sim://',
      UPS2MQTT_UPS_ID: 'secret-wrong',
      UPS2MQTT_MQTT_URL: `mqtt://${USER}:${SECRETS.wrong}@127.0.0.1:${broker.port}`,
      UPS2MQTT_MQTT_PASSWORD: SECRETS.wrong,
    });
    // Several refusals: the bridge keeps retrying (it used to exit with code 0 after the
    // first one: mqtt.js gives up on a refused CONNACK unless reconnectOnConnackError).
    await bridge.waitForOutput(/Not authori[sz]ed[\s\S]*Not authori[sz]ed/i, 20_000);
    assert.equal(bridge.running(), true, 'still running after the broker refused it');
    await finish(bridge);
  });

  it('run with a nut:// source holding a password: refused or failing, never printed', async () => {
    const port = await freePort(); // nothing listens there
    const bridge = await spawnCli('run-nut-password', ['run'], {
      UPS2MQTT_SOURCE: `nut://monitor:${SECRETS.nut}@127.0.0.1:${port}/ups`,
      UPS2MQTT_UPS_ID: 'secret-nut',
      UPS2MQTT_MQTT_URL: `mqtt://${USER}:${SECRETS.broker}@127.0.0.1:${broker.port}`,
    });
    // Either refused at start (the source kind is not available) or, once it is, logging
    // its failure to connect; both paths are scanned.
    await Promise.race([
      bridge.exited,
      bridge.waitForOutput(/"level":(40|50),[^\n]*(nut|NUT|connect)/, 30_000),
    ]);
    const text = await finish(bridge);
    assert.match(text, /nut:\/\/monitor:\*\*\*@|not available/, 'the nut source is named, masked');
  });

  it('config check of every secret prints the effective config masked', async () => {
    const { exit, text } = await runToExit('config-check', ['config', 'check'], {
      UPS2MQTT_SOURCE: 'sim://',
      UPS2MQTT_MQTT_URL: `mqtt://${USER}:${SECRETS.broker}@127.0.0.1:${broker.port}`,
      UPS2MQTT_MQTT_PASSWORD: SECRETS.wrong,
    });
    assert.equal(exit.code, 0, text);
    assert.match(text, /"url": "mqtt:\/\/ups2mqtt:\*\*\*@127\.0\.0\.1:\d+"/);
    assert.match(text, /"password": "\*\*\*"/);
  });

  it('config check of a nut:// source with a password', async () => {
    const { text } = await runToExit('config-check-nut', ['config', 'check'], {
      UPS2MQTT_SOURCE: `nut://monitor:${SECRETS.nut}@127.0.0.1/ups`,
      UPS2MQTT_MQTT_URL: `mqtt://${USER}:${SECRETS.broker}@127.0.0.1:${broker.port}`,
    });
    assert.match(text, /nut:\/\/monitor:\*\*\*@|not available/);
  });

  it('config check of invalid values holding passwords (they are refused, not echoed)', async () => {
    const cases: [string, NodeJS.ProcessEnv][] = [
      ['bad-port', { UPS2MQTT_SOURCE: `nut://monitor:${SECRETS.nut}@127.0.0.1:99999/ups` }],
      [
        'bad-url',
        { UPS2MQTT_SOURCE: 'sim://', UPS2MQTT_MQTT_URL: `mqtt://${USER}:${SECRETS.broker}/x@h` },
      ],
      [
        'upper-case-scheme',
        {
          UPS2MQTT_SOURCE: 'sim://',
          UPS2MQTT_MQTT_URL: `MQTT://${USER}:${SECRETS.broker}@127.0.0.1:1`,
        },
      ],
      [
        'upses-list',
        { UPS2MQTT_UPSES: `[{"id":"a","source":"nut://m:${SECRETS.nut}@h:0/ups","x":1}]` },
      ],
      ['upses-not-json', { UPS2MQTT_UPSES: `[{"source":"nut://m:${SECRETS.nut}@h/ups"` }],
    ];
    for (const [name, env] of cases) {
      const { exit, text } = await runToExit(`config-check-${name}`, ['config', 'check'], env);
      assert.ok(exit.code === 78 || exit.code === 0, `${name}: exit ${exit.code}\n${text}`);
      assert.ok(!text.includes('fatal'), `${name}: crashed\n${text}`);
    }
  });

  it('no password appears in any line of any run', () => {
    const hits: string[] = [];
    for (const { name, text } of outputs) {
      text.split('\n').forEach((line, i) => {
        for (const s of ALL_SECRETS) {
          if (line.includes(s)) hits.push(`${name} line ${i + 1}: ${line.slice(0, 300)}`);
        }
      });
    }
    assert.deepEqual(hits, []);
    assert.ok(outputs.length >= 11, `${outputs.length} runs scanned`);
    const lines = outputs.reduce((n, o) => n + o.text.split('\n').length, 0);
    assert.ok(lines > 100, `only ${lines} lines scanned`);
  });
});
