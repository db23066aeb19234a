import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatProblems, loadConfig } from '../../../src/config/load.ts';

function configFile(body: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ups2mqtt-config-')), 'config.json');
  writeFileSync(file, JSON.stringify({ source: 'sim://', ...body }));
  return file;
}

describe('nut_server configuration', () => {
  it('is off by default, on loopback port 3493, without users', () => {
    const r = loadConfig({ env: { UPS2MQTT_SOURCE: 'sim://' }, args: [] });
    assert.ok(r.ok);
    assert.deepEqual(r.config.nutServer, {
      enabled: false,
      host: '127.0.0.1',
      port: 3493,
      users: [],
    });
  });

  it('takes enabled, host and port from the environment and from flags', () => {
    const env = loadConfig({
      env: {
        UPS2MQTT_SOURCE: 'sim://',
        UPS2MQTT_NUT_SERVER_ENABLED: 'true',
        UPS2MQTT_NUT_SERVER_HOST: '0.0.0.0',
        UPS2MQTT_NUT_SERVER_PORT: '13493',
      },
      args: [],
    });
    assert.ok(env.ok);
    assert.deepEqual(
      { ...env.config.nutServer, users: undefined },
      { enabled: true, host: '0.0.0.0', port: 13493, users: undefined },
    );
    const flags = loadConfig({
      env: { UPS2MQTT_SOURCE: 'sim://' },
      args: ['--nut-server-enabled', '--nut-server-port', '3494'],
    });
    assert.ok(flags.ok);
    assert.equal(flags.config.nutServer.enabled, true);
    assert.equal(flags.config.nutServer.port, 3494);
  });

  it('reads users from the config file, and masks their passwords in the effective config', () => {
    const r = loadConfig({
      file: configFile({
        nut_server: {
          enabled: true,
          users: [
            { name: 'admin', password: 'hunter2-nut', instcmds: ['all'], upsmon: 'primary' },
            { name: 'nas', password: 'other-pw', upsmon: 'secondary' },
            { name: 'ha', password: 'ha-pw', instcmds: ['test.battery.start.quick'] },
          ],
        },
      }),
      env: {},
      args: [],
    });
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
    assert.deepEqual(r.config.nutServer.users, [
      { name: 'admin', password: 'hunter2-nut', instcmds: ['all'], upsmon: 'primary' },
      { name: 'nas', password: 'other-pw', instcmds: [], upsmon: 'secondary' },
      { name: 'ha', password: 'ha-pw', instcmds: ['test.battery.start.quick'] },
    ]);
    const text = JSON.stringify(r.effective);
    for (const pw of ['hunter2-nut', 'other-pw', 'ha-pw']) assert.ok(!text.includes(pw), pw);
    assert.deepEqual((r.effective.nut_server as { users: unknown[] }).users, [
      { name: 'admin', password: '***', instcmds: ['all'], upsmon: 'primary' },
      { name: 'nas', password: '***', upsmon: 'secondary' },
      { name: 'ha', password: '***', instcmds: ['test.battery.start.quick'] },
    ]);
  });

  /** [users, a problem message contains] */
  const bad: [unknown, RegExp][] = [
    [[{ name: 'a b', password: 'x' }], /\[0\]\.name must be a non-empty word/],
    [[{ password: 'x' }], /\[0\]\.name must be/],
    [[{ name: 'a' }], /\[0\]\.password is required/],
    [[{ name: 'a', password: '' }], /\[0\]\.password is required/],
    [
      [{ name: 'a', password: 'x', upsmon: 'master' }],
      /\[0\]\.upsmon must be primary or secondary/,
    ],
    [[{ name: 'a', password: 'x', instcmds: 'all' }], /\[0\]\.instcmds must be a list/],
    [[{ name: 'a', password: 'x', role: 'admin' }], /\[0\]\.role is not a known key/],
    [
      [
        { name: 'a', password: 'x' },
        { name: 'a', password: 'y' },
      ],
      /\[1\]\.name "a" is used twice/,
    ],
  ];
  for (const [users, message] of bad) {
    it(`refuses users ${JSON.stringify(users)} without echoing a password`, () => {
      const r = loadConfig({ file: configFile({ nut_server: { users } }), env: {}, args: [] });
      assert.ok(!r.ok);
      const text = formatProblems(r.problems);
      assert.match(text, message);
      assert.match(text, /nut_server\.users/);
      assert.ok(!/"password":"[^*]/.test(text), text);
    });
  }
});
