import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));

function cli(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('UPS2MQTT_')),
  );
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { ...clean, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('ups2mqtt CLI', () => {
  it('exits 78 on invalid configuration, lists every problem, starts nothing, leaks no secret', () => {
    const r = cli(['run'], {
      UPS2MQTT_SOURCE: 'nis://h:99999',
      UPS2MQTT_MQTT_URL: 'ftp://x',
      UPS2MQTT_MQTT_PASSWORD: 'pw-123',
    });
    assert.equal(r.status, 78);
    assert.match(r.stderr, /invalid configuration \(nothing was started\)/);
    assert.match(
      r.stderr,
      /source \(UPS2MQTT_SOURCE\): invalid source "nis:\/\/h:99999": port "99999" is not 1-65535/,
    );
    assert.match(r.stderr, /mqtt\.url \(UPS2MQTT_MQTT_URL\)/);
    assert.ok(!r.stderr.includes('pw-123'));
  });

  it('config check prints the effective config with secrets masked', () => {
    const r = cli(['config', 'check'], {
      UPS2MQTT_SOURCE: 'sim://',
      UPS2MQTT_MQTT_PASSWORD: 'pw-123',
    });
    assert.equal(r.status, 0, r.stderr);
    const effective = JSON.parse(r.stdout);
    assert.equal(effective.mqtt.password, '***');
    assert.ok(!r.stdout.includes('pw-123'));
  });

  it('status --json prints one reading as the state topic carries it', () => {
    const r = cli(['status', '--source', 'sim://?serial=SIMTEST1', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const state = JSON.parse(r.stdout);
    assert.equal(state.serial_number, 'SIMTEST1');
    assert.equal(state.status, 'online');
    assert.equal(typeof state.battery_charge_pct, 'number');
    // The bridge-tracked lifecycle is on the state topic from the first message; so here.
    assert.equal(state.self_test_state, 'idle');
    assert.match(state.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$/);
  });

  it('status on a descriptor-only hid-replay capture prints identity and the read plan', () => {
    const fixture = fileURLToPath(
      new URL('../../fixtures/hid/apc-051d-0002-back-ups-es-850g2.json', import.meta.url),
    );
    const full = JSON.parse(readFileSync(fixture, 'utf8')) as Record<string, unknown>;
    const { featureReports: _f, inputReports: _i, decodedPaths: _d, ...descOnly } = full;
    const dir = mkdtempSync(join(tmpdir(), 'ups2mqtt-desc-'));
    const file = join(dir, 'descriptor-only.json');
    writeFileSync(file, JSON.stringify(descOnly));
    try {
      const r = cli(['status', '--source', `hid-replay://${file}`]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^note: this capture has a report descriptor but no report values/);
      assert.match(r.stdout, /^model : Back-UPS ES 850G2$/m);
      assert.match(r.stdout, /^ {2}inputVoltage +feature 0x31 {2}UPS\.Input\.Voltage$/m);
      const j = cli(['status', '--source', `hid-replay://${file}`, '--json']);
      assert.equal(j.status, 0, j.stderr);
      assert.equal(JSON.parse(j.stdout).identity.model, 'Back-UPS ES 850G2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('status on an unreachable upsd never prints the password of the URI', () => {
    const r = cli(['status', '--source', 'nut://user:topsecret@127.0.0.1:1/ups']);
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      'ups2mqtt: cannot read nut://user:***@127.0.0.1:1/ups: cannot connect to upsd 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1 [CONNECT_FAILED]\n',
    );
    assert.ok(!`${r.stdout}${r.stderr}`.includes('topsecret'));
  });

  it('status on an unreachable NIS server exits 1 with a clear reason', () => {
    const r = cli(['status', '--source', 'nis://127.0.0.1:1']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot read nis:\/\/127\.0\.0\.1:1: .*\[CONNECT_FAILED\]/);
  });

  it('prints --version and help for every subcommand', () => {
    assert.match(cli(['--version']).stdout, /^\d+\.\d+\.\d+\n$/);
    for (const sub of ['run', 'status', 'config', 'demo']) {
      const h = cli([sub, '--help']);
      assert.equal(h.status, 0);
      assert.match(h.stdout, /^Usage: ups2mqtt/);
      assert.match(h.stdout, /UPS2MQTT_MQTT_URL/);
    }
    assert.equal(cli(['bogus']).status, 64);
  });
});
