/**
 * contrib/ups2mqtt.service: the hardening the deployment docs promise, settings that exist,
 * and `systemd-analyze verify` (parsing only, nothing is started) when it is installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { envNames } from '../../../src/config/load.ts';

const UNIT = readFileSync(new URL('../../../contrib/ups2mqtt.service', import.meta.url), 'utf8');

/** Section → key → values (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1] ?? '', current);
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    assert.ok(kv && current, `unparsable line: ${line}`);
    const values = current.get(kv[1] ?? '') ?? [];
    values.push(kv[2] ?? '');
    current.set(kv[1] ?? '', values);
  }
  return sections;
}

const unit = parseUnit(UNIT);
const service = unit.get('Service') ?? new Map<string, string[]>();
const one = (key: string): string | undefined => service.get(key)?.at(-1);

describe('contrib/ups2mqtt.service', () => {
  it('has Unit, Service and Install sections', () => {
    assert.deepEqual([...unit.keys()], ['Unit', 'Service', 'Install']);
    assert.equal(unit.get('Install')?.get('WantedBy')?.[0], 'multi-user.target');
  });

  it('runs `ups2mqtt run` with settings and secrets from an env file', () => {
    assert.match(one('ExecStart') ?? '', /^\/\S+\/ups2mqtt run$/);
    assert.equal(one('EnvironmentFile'), '/etc/ups2mqtt/ups2mqtt.env');
  });

  const hardening: [string, RegExp][] = [
    ['DynamicUser', /^yes$/],
    ['NoNewPrivileges', /^yes$/],
    ['ProtectSystem', /^strict$/],
    ['ProtectHome', /^yes$/],
    ['PrivateTmp', /^yes$/],
    ['PrivateDevices', /^yes$/],
    ['CapabilityBoundingSet', /^$/],
    ['RestrictAddressFamilies', /^AF_INET AF_INET6 AF_UNIX/],
    ['SystemCallFilter', /^@system-service$/],
    ['RestrictSUIDSGID', /^yes$/],
    ['UMask', /^0077$/],
  ];
  for (const [key, value] of hardening) {
    it(`is hardened: ${key}=${value.source.replace(/[\^$]/g, '')}`, () => {
      assert.match(one(key) ?? '<unset>', value);
    });
  }

  it('leaves the JIT alone (no MemoryDenyWriteExecute) and does not restart a bad config', () => {
    assert.equal(one('MemoryDenyWriteExecute'), undefined);
    assert.equal(one('RestartPreventExitStatus'), '78');
    assert.equal(one('Restart'), 'on-failure');
  });

  it('sets only UPS2MQTT_* variables that are settings', () => {
    const names = new Set(envNames().values());
    const set = (service.get('Environment') ?? [])
      .flatMap((v) => v.split(' '))
      .map((kv) => kv.split('=')[0] ?? '')
      .filter((n) => n.startsWith('UPS2MQTT_'));
    assert.ok(set.length > 0);
    for (const n of set) assert.ok(names.has(n), n);
  });

  const analyze = '/usr/bin/systemd-analyze';
  it('passes systemd-analyze verify without a warning', {
    skip: existsSync(analyze) ? false : `${analyze} is not installed`,
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'ups2mqtt-unit-'));
    try {
      // ExecStart must exist for verify; everything else is checked as written.
      const file = join(dir, 'ups2mqtt.service');
      writeFileSync(file, UNIT.replace(/^ExecStart=\S+/m, 'ExecStart=/bin/true'));
      const r = spawnSync(analyze, ['verify', file], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim(), '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
