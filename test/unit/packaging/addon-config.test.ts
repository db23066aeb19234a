/**
 * addon/config.yaml, translations, docs and images against the Supervisor's rules
 * (supervisor-rules.ts), and every option against ups2mqtt's own configuration schema.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { envNames, loadConfig } from '../../../src/config/load.ts';
import { execForm, parseDockerfile } from './dockerfile.ts';
import {
  CURRENT_ARCHES,
  DEFAULTS,
  KNOWN_KEYS,
  PORT_KEY_PATTERN,
  REJECTED_KEYS,
  REQUIRED_KEYS,
  SCHEMA_ELEMENT,
  SERVICE_PATTERN,
  schemaLeaves,
  validateOption,
  valueMatches,
} from './supervisor-rules.ts';

const root = new URL('../../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
const config = YAML.parse(read('addon/config.yaml')) as Record<string, unknown>;
const schema = config.schema as Record<string, unknown>;
const options = config.options as Record<string, unknown>;
const pkg = JSON.parse(read('package.json')) as { version: string };

interface StartModule {
  OPTION_MAP: { option: string; key: string; env: string; kind: string }[];
  FIXED_ENV: Record<string, string>;
  optionsToEnv(options: unknown): Record<string, string>;
}
const startPath = new URL('addon/rootfs/usr/lib/ups2mqtt-addon/start.mjs', root).href;
const start = (await import(startPath)) as StartModule;

describe('Supervisor schema element grammar (one row per type form)', () => {
  const valid = [
    'str',
    'str?',
    'str(1,)',
    'str(,64)',
    'bool',
    'bool?',
    'int',
    'int(1,)',
    'int(1,3600)',
    'int(-5,5)',
    'float',
    'float(0.5,10)',
    'email',
    'url',
    'port',
    'port?',
    'password',
    'password?',
    'password(8,)',
    'device',
    'device(subsystem=tty)',
    'device(subsystem=tty)?',
    'match(^[a-z]+$)',
    'match(^a$)?',
    'list(a|b)',
    'list(a|b|c)?',
    'list(shutdown.return|load.off)',
  ];
  const invalid = [
    'string',
    'integer',
    'boolean',
    'int(a,b)',
    'list()',
    'enum(a|b)',
    'str??',
    'Str',
    'str ',
    'device(tty)',
    'float(x,)',
    '',
  ];
  for (const type of valid) it(`accepts ${type}`, () => assert.match(type, SCHEMA_ELEMENT));
  for (const type of invalid) {
    it(`rejects ${JSON.stringify(type)}`, () => assert.doesNotMatch(type, SCHEMA_ELEMENT));
  }
  const values: [string, unknown, boolean][] = [
    ['int(1,3600)', 1, true],
    ['int(1,3600)', 0, false],
    ['int(1,3600)', 1.5, false],
    ['int(1,)', 99999, true],
    ['port', 1883, true],
    ['port', 70000, false],
    ['bool', false, true],
    ['bool', 'false', false],
    ['str', '', true],
    ['str(1,)', '', false],
    ['list(a|b)', 'b', true],
    ['list(a|b)', 'c', false],
    ['match(^[a-z]+$)', 'abc', true],
    ['match(^[a-z]+$)', 'aBc', false],
    ['float(0.5,10)', 0.25, false],
  ];
  for (const [type, value, ok] of values) {
    it(`${type} ${ok ? 'takes' : 'refuses'} ${JSON.stringify(value)}`, () =>
      assert.equal(valueMatches(type, value), ok));
  }
});

describe('addon/config.yaml', () => {
  it('has every required key, with the version of package.json', () => {
    for (const key of REQUIRED_KEYS) assert.ok(config[key] !== undefined, `missing ${key}`);
    assert.equal(typeof config.version, 'string');
    assert.equal(config.version, pkg.version);
    assert.match(String(config.slug), /^[a-z0-9_]+$/);
  });

  it('lists only current architectures: aarch64 and amd64', () => {
    assert.deepEqual([...(config.arch as string[])].sort(), [...CURRENT_ARCHES]);
  });

  it('uses only known keys, none the linter rejects, none at its default value', () => {
    for (const key of Object.keys(config)) {
      assert.ok(KNOWN_KEYS.has(key), `unknown key ${key}`);
      assert.ok(!(key in REJECTED_KEYS), `${key}: ${REJECTED_KEYS[key]}`);
      if (key in DEFAULTS) {
        assert.notDeepEqual(config[key], DEFAULTS[key], `${key} is set to its default`);
      }
    }
  });

  it('declares what the issue asks: init false, mqtt:need, usb, uart, ingress', () => {
    assert.equal(config.init, false);
    assert.deepEqual(config.services, ['mqtt:need']);
    for (const s of config.services as string[]) assert.match(s, SERVICE_PATTERN);
    assert.equal(config.usb, true);
    assert.equal(config.uart, true);
    assert.equal(config.ingress, true);
    assert.equal(config.ingress_port, 1551);
    assert.equal(start.FIXED_ENV.UPS2MQTT_HTTP_PORT, String(config.ingress_port));
  });

  it('pulls a prebuilt image per architecture from GHCR (the release workflow pushes it)', () => {
    // The Supervisor replaces {arch} and pulls <image>:<version>; release.yml's addon job
    // pushes exactly these names (workflows.test.ts).
    assert.equal(config.image, 'ghcr.io/ups2mqtt/{arch}-addon-ups2mqtt');
    assert.match(String(config.image), /^ghcr\.io\/[a-z0-9-]+\/\{arch\}-addon-[a-z0-9_-]+$/);
    assert.ok(String(config.image).endsWith(`-${config.slug}`));
  });

  it('combines no forbidden keys (webui with ingress, full_access with devices)', () => {
    assert.ok(!('webui' in config && config.ingress === true));
    assert.ok(!(config.full_access === true && (config.usb || config.uart || config.devices)));
  });

  it('ports: tcp/udp keys, 1-65535 or null, each described', () => {
    const ports = config.ports as Record<string, number | null>;
    const described = config.ports_description as Record<string, string>;
    for (const [key, value] of Object.entries(ports)) {
      assert.match(key, PORT_KEY_PATTERN);
      assert.ok(value === null || (Number.isInteger(value) && value >= 1 && value <= 65535));
      assert.equal(typeof described[key], 'string', `${key} has no description`);
    }
    assert.deepEqual(Object.keys(described).sort(), Object.keys(ports).sort());
  });

  it('every schema element parses, nested at most two deep', () => {
    for (const leaf of schemaLeaves(schema)) {
      assert.match(leaf.type, SCHEMA_ELEMENT, `${leaf.path}: ${leaf.type}`);
      assert.ok(leaf.depth <= 2, `${leaf.path} is nested ${leaf.depth} deep`);
    }
  });

  it('every option has a schema, no optional (?) one has a default, and defaults validate', () => {
    for (const [key, value] of Object.entries(options)) {
      assert.ok(key in schema, `option ${key} has no schema`);
      const type = schema[key];
      assert.ok(!(typeof type === 'string' && type.endsWith('?')), `${key}: optional with default`);
      assert.deepEqual(validateOption(type, value, key), []);
    }
    // Optional options are absent from options; required ones need a default.
    for (const [key, type] of Object.entries(schema)) {
      const optional = typeof type === 'string' && type.endsWith('?');
      if (!optional) assert.ok(key in options, `required option ${key} has no default`);
    }
  });

  it('a filled-in example passes the schema (the Supervisor would save it)', () => {
    const filled = {
      ...options,
      ups_id: 'office',
      ups_name: 'Office UPS',
      upses: [{ id: 'rack', source: 'nis://10.0.0.5:3551', poll_interval: 5 }],
      commands_allow: ['shutdown.return', 'load.off'],
      mqtt_url: 'mqtts://broker.lan:8883',
      mqtt_username: 'ups',
      mqtt_password: 'secret',
    };
    assert.deepEqual(validateOption(schema, filled, 'options'), []);
    assert.notDeepEqual(validateOption(schema, { ...filled, log_level: 'verbose' }, 'o'), []);
    assert.notDeepEqual(validateOption(schema, { ...filled, base_topic: 'a/#' }, 'o'), []);
    assert.notDeepEqual(validateOption(schema, { ...filled, upses: [{ source: 'x' }] }, 'o'), []);
  });
});

describe('add-on options and ups2mqtt configuration', () => {
  const env = envNames();

  it('every option maps to an existing config key and its environment variable', () => {
    const mapped = new Set(start.OPTION_MAP.map((m) => m.option));
    assert.deepEqual([...mapped].sort(), Object.keys(schema).sort());
    for (const m of start.OPTION_MAP) {
      assert.equal(env.get(m.key), m.env, `${m.option} → ${m.key}`);
    }
    for (const name of Object.keys(start.FIXED_ENV)) {
      assert.ok([...env.values()].includes(name), `${name} is not a setting`);
    }
  });

  it('the upses entries use the keys of the config schema', () => {
    const entry = (schema.upses as Record<string, unknown>[])[0] ?? {};
    assert.deepEqual(Object.keys(entry).sort(), [
      'id',
      'name',
      'nominal_power_w',
      'poll_interval',
      'source',
    ]);
  });

  const loads = (extra: Record<string, unknown>) => {
    const vars = {
      ...start.optionsToEnv({ ...options, ...extra }),
      ...start.FIXED_ENV,
      UPS2MQTT_MQTT_URL: 'mqtt://core-mosquitto:1883',
    };
    return loadConfig({ env: vars, args: [] });
  };

  it('the default options make a valid ups2mqtt configuration', () => {
    const result = loads({});
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    assert.equal(result.config.upses[0]?.source, 'nis://a0d7b954-apcupsd:3551');
    assert.deepEqual(result.config.http, { enabled: true, host: '0.0.0.0', port: 1551 });
  });

  it('a filled-in example makes a valid configuration with every value in place', () => {
    const result = loads({
      upses: [
        { id: 'rack', name: 'Rack', source: 'nis://10.0.0.5:3551', poll_interval: 5 },
        { id: 'desk', source: 'sim://', nominal_power_w: 865 },
      ],
      commands_allow: ['shutdown.return', 'load.off'],
      log_level: 'debug',
      base_topic: 'home/ups',
    });
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    assert.deepEqual(
      result.config.upses.map((u) => [u.id, u.name, u.source, u.pollIntervalMs]),
      [
        ['rack', 'Rack', 'nis://10.0.0.5:3551', 5000],
        ['desk', undefined, 'sim://', 1000],
      ],
    );
    assert.deepEqual(
      result.config.upses.map((u) => u.nominalPowerW),
      [undefined, 865],
    );
    assert.deepEqual(result.config.commands.allow, ['shutdown.return', 'load.off']);
    assert.equal(result.config.log.level, 'debug');
    assert.equal(result.config.mqtt.baseTopic, 'home/ups');
  });
});

describe('add-on power policy options', () => {
  it('map to shutdown.* of the single UPS', () => {
    const vars = {
      ...start.optionsToEnv({
        ...options,
        shutdown_mode: 'act',
        shutdown_runtime_s: 300,
        shutdown_battery_charge_pct: 25,
        shutdown_grace: 90,
        shutdown_ups_command: 'shutdown.stayoff',
      }),
      ...start.FIXED_ENV,
    };
    const result = loadConfig({ env: vars, args: [] });
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    const sd = result.config.upses[0]?.shutdown;
    assert.deepEqual(
      [
        sd?.mode,
        sd?.runtimeS,
        sd?.batteryChargePct,
        sd?.graceMs,
        sd?.upsCommand,
        sd?.onBatteryForMs,
      ],
      ['act', 300, 25, 90_000, 'shutdown.stayoff', null],
    );
  });

  it('asks for the least Supervisor role that allows POST /host/shutdown', () => {
    assert.equal(config.hassio_api, true);
    assert.equal(config.hassio_role, 'manager');
  });
});

describe('translations/en.yaml', () => {
  const en = YAML.parse(read('addon/translations/en.yaml')) as {
    configuration: Record<string, { name?: unknown; description?: unknown }>;
    network?: Record<string, unknown>;
  };

  it('names and describes every option, and nothing else', () => {
    assert.deepEqual(Object.keys(en.configuration).sort(), Object.keys(schema).sort());
    for (const [key, t] of Object.entries(en.configuration)) {
      assert.equal(typeof t.name, 'string', `${key}.name`);
      assert.ok(String(t.description).length > 10, `${key}.description`);
    }
  });

  it('describes every port', () => {
    assert.deepEqual(
      Object.keys(en.network ?? {}).sort(),
      Object.keys(config.ports as object).sort(),
    );
  });
});

describe('add-on folder and repository.yaml', () => {
  it('has the documentation files, with a changelog entry for this version', () => {
    assert.match(read('addon/DOCS.md'), /^# /m);
    assert.match(read('addon/README.md'), /^# /m);
    assert.match(read('addon/CHANGELOG.md'), new RegExp(`^## \\[?${pkg.version}\\]?`, 'm'));
  });

  it('repository.yaml names the repository', () => {
    const repo = YAML.parse(read('repository.yaml')) as Record<string, unknown>;
    assert.equal(typeof repo.name, 'string');
    assert.match(String(repo.url), /^https:\/\//);
    assert.equal(typeof repo.maintainer, 'string');
  });

  it('the Dockerfile has a default BUILD_FROM and installs the version of config.yaml', () => {
    const dockerfile = read('addon/Dockerfile');
    assert.match(dockerfile, /^ARG BUILD_FROM=\S+$/m);
    assert.match(dockerfile, /^FROM \$\{BUILD_FROM\}/m);
    const versions = [...dockerfile.matchAll(/^ARG UPS2MQTT_VERSION=(\S+)$/gm)].map((m) => m[1]);
    assert.ok(versions.length >= 1);
    for (const v of versions) assert.equal(v, config.version);
    // From the registry by default, or a local tarball (addon/packages) for a test build.
    const all = parseDockerfile(dockerfile);
    const build = all.filter((i) => i.stage === 0);
    const packageArg = 'UPS2MQTT_PACKAGE=ups2mqtt@$' + '{UPS2MQTT_VERSION}';
    assert.ok(build.some((i) => i.keyword === 'ARG' && i.args === packageArg));
    assert.ok(build.some((i) => i.keyword === 'COPY' && i.args === 'packages /tmp/packages'));
    assert.match(read('addon/packages/README.md'), /UPS2MQTT_PACKAGE=\/tmp\/packages\//);
    const install = build.find((i) => i.keyword === 'RUN' && /npm install --global/.test(i.args));
    assert.match(install?.args ?? '', /"\$\{UPS2MQTT_PACKAGE\}"/);
    assert.match(install?.args ?? '', /ups2mqtt --version\)" = "\$\{UPS2MQTT_VERSION\}"/);
    const health = parseDockerfile(dockerfile).find((i) => i.keyword === 'HEALTHCHECK');
    assert.ok(health, 'no HEALTHCHECK');
    assert.deepEqual(execForm(health.args)?.slice(0, 2), ['node', '-e']);
    assert.match(health.args, /\/healthz/);
  });
});
