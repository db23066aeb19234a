/**
 * The add-on's start script (addon/rootfs/usr/lib/ups2mqtt-addon/start.mjs) against a fake
 * Supervisor on loopback: the options file and the MQTT service become UPS2MQTT_* settings,
 * and a missing service is a clear error before anything starts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const START = fileURLToPath(
  new URL('../../../addon/rootfs/usr/lib/ups2mqtt-addon/start.mjs', import.meta.url),
);

interface Settings {
  env: Record<string, string>;
  broker: 'options' | 'supervisor';
}
interface StartModule {
  buildSettings(args: {
    options: unknown;
    supervisorUrl: string;
    token: string | undefined;
  }): Promise<Settings>;
  brokerUrl(service: { host: string; port: number; ssl?: boolean }): string;
  EXIT_CONFIG: number;
}
const start = (await import(new URL(`file://${START}`).href)) as StartModule;

/** The Mosquitto add-on's answer, as the Supervisor's v1 route sends it. */
const MQTT_SERVICE = {
  result: 'ok',
  data: {
    addon: 'core_mosquitto',
    host: 'core-mosquitto',
    port: 1883,
    ssl: false,
    username: 'addons',
    password: 'Eiph7oht',
    protocol: '3.1.1',
  },
};

type Answer = { status: number; body: unknown };

/** A fake Supervisor: answers /services/mqtt with `answer` and records the requests. */
class FakeSupervisor {
  answer: Answer = { status: 200, body: MQTT_SERVICE };
  readonly requests: { url: string; authorization: string | undefined }[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    const server = createServer((req: IncomingMessage, res) => {
      this.requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
      const { status, body } =
        req.url === '/services/mqtt' ? this.answer : { status: 404, body: { result: 'error' } };
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The options the Supervisor writes for the default configuration (optionals absent). */
const DEFAULT_OPTIONS = {
  source: 'nis://a0d7b954-apcupsd:3551',
  upses: [],
  poll_interval: 1,
  commands_allow: [],
  base_topic: 'ups2mqtt',
  discovery_prefix: 'homeassistant',
  log_level: 'info',
};

describe('add-on start script: settings', () => {
  const supervisor = new FakeSupervisor();
  before(() => supervisor.start());
  after(() => supervisor.stop());

  it('default options + the Supervisor MQTT service → the expected settings', async () => {
    supervisor.answer = { status: 200, body: MQTT_SERVICE };
    const settings = await start.buildSettings({
      options: DEFAULT_OPTIONS,
      supervisorUrl: supervisor.url,
      token: 'tok-123',
    });
    assert.equal(settings.broker, 'supervisor');
    assert.deepEqual(settings.env, {
      UPS2MQTT_SOURCE: 'nis://a0d7b954-apcupsd:3551',
      UPS2MQTT_POLL_INTERVAL: '1',
      UPS2MQTT_MQTT_BASE_TOPIC: 'ups2mqtt',
      UPS2MQTT_HOMEASSISTANT_DISCOVERY_PREFIX: 'homeassistant',
      UPS2MQTT_LOG_LEVEL: 'info',
      UPS2MQTT_MQTT_URL: 'mqtt://core-mosquitto:1883',
      UPS2MQTT_MQTT_USERNAME: 'addons',
      UPS2MQTT_MQTT_PASSWORD: 'Eiph7oht',
      UPS2MQTT_MQTT_PROTOCOL_VERSION: '4',
      UPS2MQTT_HTTP_ENABLED: 'true',
      UPS2MQTT_HTTP_HOST: '0.0.0.0',
      UPS2MQTT_HTTP_PORT: '1551',
      UPS2MQTT_LOG_FORMAT: 'pretty',
      UPS2MQTT_DATA_DIR: '/data',
    });
    assert.deepEqual(supervisor.requests.at(-1), {
      url: '/services/mqtt',
      authorization: 'Bearer tok-123',
    });
  });

  it('writes lists: upses as a JSON array of known keys, commands comma-separated', async () => {
    const settings = await start.buildSettings({
      options: {
        ...DEFAULT_OPTIONS,
        ups_id: 'office',
        ups_name: '',
        upses: [
          { id: 'rack', name: 'Rack', source: 'nis://10.0.0.5:3551', poll_interval: 5 },
          { id: 'desk', source: 'sim://' },
        ],
        commands_allow: ['shutdown.return', 'load.off'],
      },
      supervisorUrl: supervisor.url,
      token: 'tok',
    });
    assert.equal(settings.env.UPS2MQTT_UPS_ID, 'office');
    assert.equal(settings.env.UPS2MQTT_UPS_NAME, undefined, 'empty options are not set');
    assert.equal(
      settings.env.UPS2MQTT_UPSES,
      '[{"id":"rack","name":"Rack","source":"nis://10.0.0.5:3551","poll_interval":5},{"id":"desk","source":"sim://"}]',
    );
    assert.equal(settings.env.UPS2MQTT_COMMANDS_ALLOW, 'shutdown.return,load.off');
  });

  it('an mqtt_url option wins: the Supervisor is not asked', async () => {
    const before = supervisor.requests.length;
    const settings = await start.buildSettings({
      options: {
        ...DEFAULT_OPTIONS,
        mqtt_url: 'mqtts://broker.lan:8883',
        mqtt_username: 'ups',
        mqtt_password: 'pw',
      },
      supervisorUrl: supervisor.url,
      token: undefined,
    });
    assert.equal(settings.broker, 'options');
    assert.equal(settings.env.UPS2MQTT_MQTT_URL, 'mqtts://broker.lan:8883');
    assert.equal(settings.env.UPS2MQTT_MQTT_USERNAME, 'ups');
    assert.equal(settings.env.UPS2MQTT_MQTT_PASSWORD, 'pw');
    assert.equal(settings.env.UPS2MQTT_MQTT_PROTOCOL_VERSION, undefined);
    assert.equal(supervisor.requests.length, before);
  });

  it('a user name in the options replaces the service credentials', async () => {
    supervisor.answer = { status: 200, body: MQTT_SERVICE };
    const settings = await start.buildSettings({
      options: { ...DEFAULT_OPTIONS, mqtt_username: 'mine', mqtt_password: 'secret' },
      supervisorUrl: supervisor.url,
      token: 'tok',
    });
    assert.equal(settings.env.UPS2MQTT_MQTT_URL, 'mqtt://core-mosquitto:1883');
    assert.equal(settings.env.UPS2MQTT_MQTT_USERNAME, 'mine');
    assert.equal(settings.env.UPS2MQTT_MQTT_PASSWORD, 'secret');
  });

  const urls: [{ host: string; port: number; ssl?: boolean }, string][] = [
    [{ host: 'core-mosquitto', port: 1883, ssl: false }, 'mqtt://core-mosquitto:1883'],
    [{ host: 'core-mosquitto', port: 8883, ssl: true }, 'mqtts://core-mosquitto:8883'],
    [{ host: 'fd00::5', port: 1883 }, 'mqtt://[fd00::5]:1883'],
  ];
  for (const [service, url] of urls) {
    it(`broker URL for ${JSON.stringify(service)} is ${url}`, () => {
      assert.equal(start.brokerUrl(service), url);
    });
  }

  const missing: [string, Answer, RegExp][] = [
    [
      'no broker add-on ("Service not enabled")',
      { status: 400, body: { result: 'error', message: 'Service not enabled' } },
      /no MQTT service for this add-on \("Service not enabled"\)/,
    ],
    [
      'mqtt not declared (403)',
      { status: 403, body: { result: 'error', message: 'No access to mqtt service!' } },
      /"No access to mqtt service!"/,
    ],
    ['an empty answer', { status: 200, body: { result: 'ok', data: {} } }, /HTTP 200/],
  ];
  for (const [name, answer, message] of missing) {
    it(`a clear error for ${name}`, async () => {
      supervisor.answer = answer;
      await assert.rejects(
        start.buildSettings({
          options: DEFAULT_OPTIONS,
          supervisorUrl: supervisor.url,
          token: 't',
        }),
        (err: Error) => {
          assert.equal(err.name, 'AddonSetupError');
          assert.match(err.message, message);
          assert.match(err.message, /Mosquitto broker add-on/);
          assert.match(err.message, /mqtt_url/);
          return true;
        },
      );
    });
  }

  it('a clear error without SUPERVISOR_TOKEN', async () => {
    await assert.rejects(
      start.buildSettings({ options: DEFAULT_OPTIONS, supervisorUrl: supervisor.url, token: '' }),
      /no SUPERVISOR_TOKEN/,
    );
  });
});

describe('add-on start script: the process', () => {
  const supervisor = new FakeSupervisor();
  let dir = '';
  before(async () => {
    await supervisor.start();
    dir = mkdtempSync(join(tmpdir(), 'ups2mqtt-addon-'));
  });
  after(async () => {
    await supervisor.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs start.mjs with a fake `ups2mqtt` that writes its argv and env to a file. */
  function run(options: unknown): Promise<{ code: number | null; stderr: string }> {
    const optionsFile = join(dir, 'options.json');
    writeFileSync(optionsFile, typeof options === 'string' ? options : JSON.stringify(options));
    const fake = join(dir, 'fake-ups2mqtt');
    writeFileSync(
      fake,
      `#!${process.execPath}\nrequire('node:fs').writeFileSync(${JSON.stringify(join(dir, 'seen.json'))}, JSON.stringify({ argv: process.argv.slice(2), env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('UPS2MQTT_'))) }));\nprocess.exit(3);\n`,
    );
    chmodSync(fake, 0o755);
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('UPS2MQTT_')),
    );
    const child = spawn(process.execPath, [START], {
      env: {
        ...clean,
        ADDON_OPTIONS_FILE: optionsFile,
        ADDON_SUPERVISOR_URL: supervisor.url,
        ADDON_EXEC: fake,
        SUPERVISOR_TOKEN: 'tok-xyz',
      },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  }

  it('runs `ups2mqtt run` with the settings and passes its exit status on', async () => {
    supervisor.answer = { status: 200, body: MQTT_SERVICE };
    const { code, stderr } = await run(DEFAULT_OPTIONS);
    assert.equal(code, 3);
    assert.match(
      stderr,
      /broker mqtt:\/\/core-mosquitto:1883 \(from the Supervisor's MQTT service\)/,
    );
    assert.ok(!stderr.includes('Eiph7oht'), 'the password is never printed');
    const seen = JSON.parse(readFileSync(join(dir, 'seen.json'), 'utf8')) as {
      argv: string[];
      env: Record<string, string>;
    };
    assert.deepEqual(seen.argv, ['run']);
    assert.equal(seen.env.UPS2MQTT_SOURCE, 'nis://a0d7b954-apcupsd:3551');
    assert.equal(seen.env.UPS2MQTT_MQTT_PASSWORD, 'Eiph7oht');
    assert.equal(seen.env.UPS2MQTT_HTTP_PORT, '1551');
  });

  it('exits 78 with the reason, starting nothing, when the MQTT service is missing', async () => {
    rmSync(join(dir, 'seen.json'), { force: true });
    supervisor.answer = { status: 400, body: { result: 'error', message: 'Service not enabled' } };
    const { code, stderr } = await run(DEFAULT_OPTIONS);
    assert.equal(code, start.EXIT_CONFIG);
    assert.equal(code, 78);
    assert.match(stderr, /^ups2mqtt add-on: the Supervisor has no MQTT service/);
    assert.throws(() => readFileSync(join(dir, 'seen.json')), /ENOENT/);
  });

  it('exits 78 when the options file is not JSON', async () => {
    supervisor.answer = { status: 200, body: MQTT_SERVICE };
    const { code, stderr } = await run('{not json');
    assert.equal(code, 78);
    assert.match(stderr, /options .*options\.json are not valid JSON/);
  });
});
