/**
 * Static checks of the container files: no Docker engine runs here (the test
 * machine has none), and hadolint is not packaged for Debian nor on npm, so the hadolint rules that
 * matter for these files are written down as data (ids as in hadolint's wiki) and checked
 * on the parsed Dockerfiles; the compose file is parsed with `yaml` and every setting it
 * passes is checked against the configuration schema. The HEALTHCHECK command itself runs
 * here against a real endpoint.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { envNames, loadConfig } from '../../../src/config/load.ts';
import { ManualClock } from '../../../src/core/clock.ts';
import { StatusServer } from '../../../src/http/server.ts';
import { FakeBridge, FakeUps, onlineState, silentLogger } from '../http/fakes.ts';
import { execForm, type Instruction, parseDockerfile } from './dockerfile.ts';

const root = new URL('../../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
const settingNames = new Set(envNames().values());

const DOCKERFILES = ['Dockerfile', 'addon/Dockerfile', 'contrib/apcupsd/Dockerfile'] as const;

/** hadolint rules (by id) that apply to every Dockerfile here. */
const RULES: { id: string; what: string; check: (all: Instruction[]) => string[] }[] = [
  {
    id: 'DL3006/DL3007',
    what: 'every base image has a tag, and not latest',
    check: (all) =>
      all
        .filter((i) => i.keyword === 'FROM')
        .map((i) => i.args.split(' ')[0] ?? '')
        .filter((image) => !image.startsWith('$'))
        .filter((image) => !/:[\w.-]+$/.test(image) || image.endsWith(':latest')),
  },
  {
    id: 'DL3000',
    what: 'WORKDIR is absolute',
    check: (all) =>
      all.filter((i) => i.keyword === 'WORKDIR' && !i.args.startsWith('/')).map((i) => i.args),
  },
  {
    id: 'DL3004',
    what: 'no sudo',
    check: (all) =>
      all.filter((i) => i.keyword === 'RUN' && /\bsudo\b/.test(i.args)).map((i) => i.args),
  },
  {
    id: 'DL3003',
    what: 'no cd in RUN (use WORKDIR)',
    check: (all) =>
      all.filter((i) => i.keyword === 'RUN' && /(^|&&|;)\s*cd\s/.test(i.args)).map((i) => i.args),
  },
  {
    id: 'DL3015/DL3009',
    what: 'apt-get install with --no-install-recommends and -y, lists removed in the same RUN',
    check: (all) =>
      all
        .filter((i) => i.keyword === 'RUN' && /apt-get install/.test(i.args))
        .filter(
          (i) =>
            !/--no-install-recommends/.test(i.args) ||
            !/install -y|-y /.test(i.args) ||
            !/rm -rf \/var\/lib\/apt\/lists/.test(i.args),
        )
        .map((i) => i.args),
  },
  {
    id: 'DL3025',
    what: 'CMD and ENTRYPOINT in exec (JSON) form',
    check: (all) =>
      all
        .filter((i) => (i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT') && !execForm(i.args))
        .map((i) => `${i.keyword} ${i.args}`),
  },
  {
    id: 'DL4006/SC',
    what: 'no curl | sh pipelines',
    check: (all) =>
      all
        .filter((i) => i.keyword === 'RUN' && /(curl|wget)[^|]*\|\s*(ba)?sh/.test(i.args))
        .map((i) => i.args),
  },
];

describe('Dockerfiles: hadolint rules as data', () => {
  for (const file of DOCKERFILES) {
    const all = parseDockerfile(read(file));
    for (const rule of RULES) {
      it(`${file}: ${rule.id} ${rule.what}`, () => assert.deepEqual(rule.check(all), []));
    }
  }
});

describe('Dockerfile (the image built from this repository)', () => {
  const all = parseDockerfile(read('Dockerfile'));
  const last = Math.max(...all.map((i) => i.stage));
  const final = all.filter((i) => i.stage === last);
  const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string> };

  it('is multi-stage on Node 20, Debian slim', () => {
    assert.ok(last >= 1, 'one build stage and one runtime stage');
    const arg = all.find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_IMAGE='));
    assert.equal(arg?.args, 'NODE_IMAGE=node:20-bookworm-slim');
    assert.deepEqual(
      all.filter((i) => i.keyword === 'FROM').map((i) => i.args),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile ARG syntax, not a template
      ['${NODE_IMAGE} AS build', '${NODE_IMAGE}'],
    );
  });

  it('builds in the first stage and keeps production dependencies only', () => {
    const build = all.filter((i) => i.stage === 0 && i.keyword === 'RUN').map((i) => i.args);
    assert.ok(build.some((r) => /\bnpm ci\b/.test(r)));
    assert.ok(build.some((r) => /npm run build/.test(r) && /npm prune --omit=dev/.test(r)));
    assert.ok(!final.some((i) => i.keyword === 'RUN' && /\bnpm\b/.test(i.args)));
    const copied = final.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    assert.ok(copied.includes('--from=build /app/node_modules ./node_modules'));
    assert.ok(copied.includes('--from=build /app/dist ./dist'));
  });

  it('installs libusb for node-hid in the runtime stage', () => {
    assert.ok(final.some((i) => i.keyword === 'RUN' && /\blibusb-1\.0-0\b/.test(i.args)));
  });

  it('gives the non-root user a writable data_dir (./data under WORKDIR /app)', () => {
    const load = loadConfig({ env: { UPS2MQTT_SOURCE: 'sim://' }, args: [] });
    assert.ok(load.ok);
    // The default is ./data, resolved against the working directory (WORKDIR below).
    assert.equal(load.config.dataDir, join(process.cwd(), 'data'));
    assert.deepEqual(
      final.filter((i) => i.keyword === 'WORKDIR').map((i) => i.args),
      ['/app'],
    );
    assert.ok(
      final.some(
        (i) => i.keyword === 'RUN' && i.args === 'mkdir /app/data && chown node:node /app/data',
      ),
    );
  });

  it('runs as a non-root user, the package bin, with a HEALTHCHECK', () => {
    const users = final.filter((i) => i.keyword === 'USER').map((i) => i.args);
    assert.deepEqual(users, ['node']);
    const entry = final.find((i) => i.keyword === 'ENTRYPOINT');
    assert.deepEqual(execForm(entry?.args ?? ''), ['node', `/app/${pkg.bin.ups2mqtt}`]);
    assert.deepEqual(execForm(final.find((i) => i.keyword === 'CMD')?.args ?? ''), ['run']);
    const health = final.find((i) => i.keyword === 'HEALTHCHECK');
    assert.match(
      health?.args ?? '',
      /^--interval=\S+ --timeout=\S+ --start-period=\S+ --retries=\d+ CMD \[/,
    );
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const ignore = read('.dockerignore')
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/\*\*$/, ''));
    const sources = all
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(' ').slice(0, -1));
    for (const source of sources) {
      assert.ok(existsSync(new URL(source, root)), `${source} does not exist`);
      assert.ok(ignore.includes(source), `${source} is excluded by .dockerignore`);
    }
  });

  it('sets only UPS2MQTT_* variables that are settings', () => {
    const env = final.filter((i) => i.keyword === 'ENV').flatMap((i) => i.args.split(' '));
    const names = env.map((kv) => kv.split('=')[0] ?? '').filter((n) => n.startsWith('UPS2MQTT_'));
    assert.deepEqual(names, ['UPS2MQTT_HTTP_HOST', 'UPS2MQTT_HTTP_PORT']);
    for (const n of names) assert.ok(settingNames.has(n), n);
  });

  it('uses the same HEALTHCHECK command as the add-on', () => {
    const cmd = (file: string) =>
      execForm(parseDockerfile(read(file)).find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '');
    assert.deepEqual(cmd('Dockerfile'), cmd('addon/Dockerfile'));
  });
});

describe('the HEALTHCHECK command against a real endpoint', () => {
  const health = execForm(
    parseDockerfile(read('Dockerfile')).find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '',
  );
  const ups = new FakeUps({ id: 'a', currentAvailability: 'online', state: onlineState() });
  const view = new FakeBridge([ups]);
  const clock = new ManualClock(Date.now());
  const server = new StatusServer(
    { host: '127.0.0.1', port: 0, version: '1', staleAfterMs: 10_000 },
    { view, clock, logger: silentLogger },
  );
  before(() => server.start());
  after(() => server.stop());

  /** Runs the command as Docker would (async: the endpoint answers from this process). */
  function probe(port: number): Promise<number | null> {
    const [command, ...args] = health ?? [];
    assert.equal(command, 'node');
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('UPS2MQTT_')),
    );
    const child = spawn(process.execPath, args, {
      env: { ...clean, UPS2MQTT_HTTP_PORT: String(port) },
      stdio: 'ignore',
      timeout: 10_000,
    });
    return new Promise((resolve) => child.on('close', (code) => resolve(code)));
  }

  it('exits 0 while healthy, 1 while unhealthy, 1 when nothing listens', async () => {
    const port = server.address?.port ?? 0;
    ups.stats.lastReadingAt = clock.now();
    assert.equal(await probe(port), 0);
    view.mqttConnected = false;
    assert.equal(await probe(port), 1);
    await server.stop();
    assert.equal(await probe(port), 1);
  });
});

describe('docker-compose.yml', () => {
  const text = read('docker-compose.yml');
  const compose = YAML.parse(text) as {
    services: Record<string, Record<string, unknown>>;
  };
  const services = compose.services;
  const bridge = services.ups2mqtt ?? {};
  const environment = bridge.environment as Record<string, string | number>;

  /** `${NAME:-default}` → default (what compose uses when .env does not set NAME). */
  const withDefaults = (value: string | number): string =>
    String(value).replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');

  it('runs mosquitto, ups2mqtt, and apcupsd only in its profile', () => {
    assert.deepEqual(Object.keys(services).sort(), ['apcupsd', 'mosquitto', 'ups2mqtt']);
    assert.deepEqual(services.apcupsd?.profiles, ['apcupsd']);
    assert.equal(services.mosquitto?.profiles, undefined);
    assert.deepEqual(bridge.depends_on, ['mosquitto']);
  });

  it('passes only settings that exist in the configuration schema', () => {
    for (const name of Object.keys(environment)) {
      assert.ok(settingNames.has(name), `${name} is not a ups2mqtt setting`);
    }
  });

  it('the settings with their defaults make a valid configuration for the compose network', () => {
    const env = Object.fromEntries(
      Object.entries(environment).map(([k, v]) => [k, withDefaults(v)]),
    );
    const result = loadConfig({ env, args: [] });
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    assert.equal(result.config.mqtt.url, 'mqtt://mosquitto:1883');
    assert.equal(result.config.upses[0]?.source, 'nis://apcupsd:3551');
    assert.equal(result.config.http.host, '0.0.0.0');
    const nisPort = /^NISPORT (\d+)$/m.exec(read('contrib/apcupsd/apcupsd.conf'))?.[1];
    assert.equal(nisPort, '3551');
    assert.deepEqual(services.apcupsd?.expose, [nisPort]);
  });

  it('publishes ports on the host loopback only', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const port of (service.ports as string[] | undefined) ?? []) {
        assert.match(port, /^127\.0\.0\.1:\d+:\d+$/, `${name}: ${port}`);
      }
    }
  });

  it('shows (commented) how to map /dev/hidraw* and /dev/ttyUSB* devices', () => {
    assert.match(text, /^\s*#\s*- \/dev\/hidraw\d:\/dev\/hidraw\d$/m);
    assert.match(text, /^\s*#\s*- \/dev\/ttyUSB\d:\/dev\/ttyUSB\d$/m);
  });

  it('builds from folders that have a Dockerfile', () => {
    for (const service of Object.values(services)) {
      if (typeof service.build === 'string') {
        assert.ok(existsSync(new URL(`${service.build}/Dockerfile`, root)), String(service.build));
      }
    }
  });

  it('contrib/ups2mqtt.env.example names settings only', () => {
    const names = read('contrib/ups2mqtt.env.example')
      .split('\n')
      .map((l) => /^#?(UPS2MQTT_[A-Z0-9_]+)=/.exec(l)?.[1])
      .filter((n): n is string => n !== undefined);
    assert.ok(names.length >= 4);
    for (const n of names) assert.ok(settingNames.has(n), n);
  });
});
