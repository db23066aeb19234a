import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { envNames, formatProblems, loadConfig } from '../../../src/config/load.ts';

function tmpFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ups2mqtt-config-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  it('serves one UPS from the environment alone, with the documented defaults', () => {
    const r = loadConfig({
      env: { UPS2MQTT_SOURCE: 'nis://127.0.0.1:3551', UPS2MQTT_MQTT_URL: 'mqtt://broker:1883' },
      args: [],
    });
    assert.ok(r.ok);
    assert.deepEqual(r.config.upses, [
      {
        source: 'nis://127.0.0.1:3551',
        spec: { kind: 'nis', host: '127.0.0.1', port: 3551 },
        pollIntervalMs: 1000,
        shutdown: {
          mode: 'off',
          onBatteryForMs: null,
          batteryChargePct: null,
          runtimeS: null,
          secondariesGraceMs: 30_000,
          command: [],
          commandTimeoutMs: 30_000,
          graceMs: 60_000,
          upsCommand: 'shutdown.return',
        },
      },
    ]);
    assert.equal(r.config.mqtt.url, 'mqtt://broker:1883');
    assert.equal(r.config.mqtt.baseTopic, 'ups2mqtt');
    assert.equal(r.config.homeassistant.discoveryPrefix, 'homeassistant');
    assert.equal(r.config.homeassistant.statusTopic, 'homeassistant/status');
    assert.equal(r.config.mqtt.protocolVersion, 5);
    assert.equal(r.config.nis.reuseConnection, true);
  });

  it('turns NIS connection reuse off from the environment or a flag', () => {
    const base = { UPS2MQTT_SOURCE: 'nis://127.0.0.1:3551' };
    const fromEnv = loadConfig({
      env: { ...base, UPS2MQTT_NIS_REUSE_CONNECTION: 'false' },
      args: [],
    });
    assert.ok(fromEnv.ok);
    assert.equal(fromEnv.config.nis.reuseConnection, false);
    const fromFlag = loadConfig({ env: base, args: ['--nis-reuse-connection', 'false'] });
    assert.ok(fromFlag.ok);
    assert.equal(fromFlag.config.nis.reuseConnection, false);
  });

  it('takes nominal_power_w for the single UPS (env, flag) and per upses entry', () => {
    const single = loadConfig({
      env: { UPS2MQTT_SOURCE: 'sim://', UPS2MQTT_NOMINAL_POWER_W: '865' },
      args: [],
    });
    assert.ok(single.ok, JSON.stringify(single));
    assert.equal(single.config.upses[0]?.nominalPowerW, 865);
    const flag = loadConfig({
      env: { UPS2MQTT_SOURCE: 'sim://' },
      args: ['--nominal-power-w', '540'],
    });
    assert.ok(flag.ok);
    assert.equal(flag.config.upses[0]?.nominalPowerW, 540);
    const unset = loadConfig({ env: { UPS2MQTT_SOURCE: 'sim://' }, args: [] });
    assert.ok(unset.ok);
    assert.equal(unset.config.upses[0]?.nominalPowerW, undefined, '0 (default) is not set');
    const file = tmpFile(
      'w.yaml',
      'upses:\n  - id: rack\n    source: sim://\n    nominal_power_w: 1200\n  - id: desk\n    source: sim://\n',
    );
    const many = loadConfig({ file, env: {}, args: [] });
    assert.ok(many.ok, JSON.stringify(many));
    assert.deepEqual(
      many.config.upses.map((u) => u.nominalPowerW),
      [1200, undefined],
    );
  });

  it('rejects a nominal_power_w that is not a number of watts', () => {
    const bad = loadConfig({
      env: { UPS2MQTT_SOURCE: 'sim://', UPS2MQTT_NOMINAL_POWER_W: 'lots' },
      args: [],
    });
    assert.ok(!bad.ok);
    assert.equal(bad.problems[0]?.key, 'nominal_power_w');
    assert.equal(bad.problems[0]?.env, 'UPS2MQTT_NOMINAL_POWER_W');
    const entry = loadConfig({
      env: { UPS2MQTT_UPSES: '[{"id":"a","source":"sim://","nominal_power_w":-5}]' },
      args: [],
    });
    assert.ok(!entry.ok);
    assert.match(
      entry.problems[0]?.message ?? '',
      /\[0\]\.nominal_power_w must be a number of watts/,
    );
  });

  it('reads a YAML file with several UPSes', () => {
    const file = tmpFile(
      'c.yaml',
      'upses:\n  - id: rack\n    name: Rack UPS\n    source: nis://10.0.0.5\n  - id: desk\n    source: sim://\n    poll_interval: 5\nmqtt:\n  base_topic: home/ups\n',
    );
    const r = loadConfig({ file, env: {}, args: [] });
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(
      r.config.upses.map((u) => [u.id, u.name, u.spec.kind, u.pollIntervalMs]),
      [
        ['rack', 'Rack UPS', 'nis', 1000],
        ['desk', undefined, 'sim', 5000],
      ],
    );
    assert.equal(r.config.mqtt.baseTopic, 'home/ups');
  });

  it('applies precedence: defaults < file < environment < flags', () => {
    const file = tmpFile(
      'c.json',
      JSON.stringify({
        source: 'sim://',
        poll_interval: 2,
        mqtt: { base_topic: 'file', url: 'mqtt://file' },
      }),
    );
    const r = loadConfig({
      file,
      env: { UPS2MQTT_MQTT_BASE_TOPIC: 'env', UPS2MQTT_MQTT_URL: 'mqtt://env' },
      args: ['--mqtt-url', 'mqtt://flag'],
    });
    assert.ok(r.ok);
    assert.equal(r.config.upses[0]?.pollIntervalMs, 2000, 'file over default');
    assert.equal(r.config.mqtt.baseTopic, 'env', 'env over file');
    assert.equal(r.config.mqtt.url, 'mqtt://flag', 'flag over env');
  });

  it('lists every problem at once, each with its key and environment name', () => {
    const r = loadConfig({
      env: {
        UPS2MQTT_SOURCE: 'foo://bar',
        UPS2MQTT_MQTT_URL: 'http://x',
        UPS2MQTT_POLL_INTERVAL: '-1',
        UPS2MQTT_LOG_LEVEL: 'loud',
        UPS2MQTT_MQTT_BASE_TOPIC: 'a/#',
      },
      args: [],
    });
    assert.ok(!r.ok);
    assert.deepEqual(
      r.problems.map((p) => [p.key, p.env]),
      [
        ['source', 'UPS2MQTT_SOURCE'],
        ['poll_interval', 'UPS2MQTT_POLL_INTERVAL'],
        ['mqtt.url', 'UPS2MQTT_MQTT_URL'],
        ['mqtt.base_topic', 'UPS2MQTT_MQTT_BASE_TOPIC'],
        ['log.level', 'UPS2MQTT_LOG_LEVEL'],
      ],
    );
    assert.match(
      formatProblems(r.problems),
      /source \(UPS2MQTT_SOURCE\): invalid source "foo:\/\/bar": unknown scheme "foo"/,
    );
  });

  it('reports unknown keys in a file and an unreadable file', () => {
    const bad = tmpFile('c.yaml', 'source: sim://\nmqtt:\n  hots: x\n');
    const r = loadConfig({ file: bad, env: {}, args: [] });
    assert.ok(!r.ok);
    assert.deepEqual(r.problems, [{ key: 'mqtt.hots', message: 'is not a known setting' }]);
    const missing = loadConfig({ file: '/nonexistent/ups2mqtt.yaml', env: {}, args: [] });
    assert.ok(!missing.ok);
    assert.equal(missing.problems[0]?.key, 'config');
  });

  it('requires a UPS, unique ids, ids for several UPSes, and cert with key', () => {
    const none = loadConfig({ env: {}, args: [] });
    assert.ok(!none.ok);
    assert.match(none.problems[0]?.message ?? '', /no UPS configured/);
    const dup = loadConfig({
      env: { UPS2MQTT_UPSES: '[{"id":"a","source":"sim://"},{"id":"a","source":"sim://"}]' },
      args: [],
    });
    assert.ok(!dup.ok);
    assert.match(dup.problems[0]?.message ?? '', /used twice/);
    const noIds = loadConfig({
      env: { UPS2MQTT_UPSES: '[{"source":"sim://"},{"source":"nis://h"}]' },
      args: [],
    });
    assert.ok(!noIds.ok);
    assert.match(noIds.problems[0]?.message ?? '', /needs an `id`/);
    const certOnly = loadConfig({
      env: { UPS2MQTT_SOURCE: 'sim://', UPS2MQTT_MQTT_CERT: '/etc/hostname' },
      args: [],
    });
    assert.ok(!certOnly.ok);
    assert.deepEqual(
      certOnly.problems.map((p) => p.key),
      ['mqtt.key'],
    );
  });

  it('masks secrets in the effective configuration', () => {
    const r = loadConfig({
      env: { UPS2MQTT_SOURCE: 'nut://admin:hunter2@nas/ups', UPS2MQTT_MQTT_PASSWORD: 's3cret' },
      args: [],
    });
    assert.ok(r.ok);
    const text = JSON.stringify(r.effective);
    assert.ok(!text.includes('s3cret'));
    assert.ok(!text.includes('hunter2'));
    assert.match(text, /"password":"\*\*\*"/);
    assert.match(text, /nut:\/\/admin:\*\*\*@nas\/ups/);
  });

  it('masks a password given inside mqtt.url', () => {
    const r = loadConfig({
      env: { UPS2MQTT_SOURCE: 'sim://', UPS2MQTT_MQTT_URL: 'mqtts://bridge:pa55word@broker:8883' },
      args: [],
    });
    assert.ok(r.ok);
    assert.equal(r.config.mqtt.url, 'mqtts://bridge:pa55word@broker:8883');
    const text = JSON.stringify(r.effective);
    assert.ok(!text.includes('pa55word'));
    assert.match(text, /"url":"mqtts:\/\/bridge:\*\*\*@broker:8883"/);
  });

  it('nut://: a wildcard entry needs no id, nut.timeout and nut.ca, an unreadable CA is refused', () => {
    const ok = loadConfig({
      env: {
        UPS2MQTT_UPSES:
          '[{"source":"nut://mon:p%40ss@nas"},{"id":"rack","source":"nut://nas/rack?tls=prefer"}]',
        UPS2MQTT_NUT_TIMEOUT: '1.5',
      },
      args: ['--nut-ca', '/etc/hostname'],
    });
    assert.ok(ok.ok, JSON.stringify(!ok.ok && ok.problems));
    assert.deepEqual(ok.config.nut, { timeoutMs: 1500, caFile: '/etc/hostname' });
    assert.deepEqual(ok.config.upses[0]?.spec, {
      kind: 'nut',
      host: 'nas',
      port: 3493,
      ups: '*',
      username: 'mon',
      password: 'p@ss',
      tls: 'off',
    });
    const text = JSON.stringify(ok.effective);
    assert.ok(!text.includes('p%40ss') && !text.includes('p@ss'), text);
    const named = loadConfig({
      env: { UPS2MQTT_UPSES: '[{"source":"nut://nas/a"},{"source":"nut://nas/b"}]' },
      args: [],
    });
    assert.ok(!named.ok);
    assert.match(named.problems[0]?.message ?? '', /needs an `id`/);
    const badCa = loadConfig({
      env: { UPS2MQTT_SOURCE: 'nut://nas/ups', UPS2MQTT_NUT_CA: '/nonexistent/ca.pem' },
      args: [],
    });
    assert.ok(!badCa.ok);
    assert.deepEqual(
      badCa.problems.map((p) => [p.key, p.message]),
      [['nut.ca', 'cannot read file /nonexistent/ca.pem']],
    );
  });

  it('gives every schema key an environment name with the UPS2MQTT_ prefix', () => {
    const names = envNames();
    assert.ok(names.size >= 25);
    for (const [key, env] of names) {
      assert.match(env, /^UPS2MQTT_[A-Z0-9_]+$/, key);
      assert.equal(env, `UPS2MQTT_${key.replace(/\./g, '_').toUpperCase()}`, key);
    }
  });
});
