/**
 * The `nis_server` settings and `upses[].nis_port`: defaults, environment and flags, and
 * the port rules (one UPS per port, first UPS on nis_server.port, no collisions).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatProblems, loadConfig } from '../../../src/config/load.ts';

function yaml(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ups2mqtt-nis-server-')), 'c.yaml');
  writeFileSync(file, text);
  return file;
}

const ONE = { UPS2MQTT_SOURCE: 'sim://' };

describe('nis_server configuration', () => {
  it('is off by default, on loopback port 3551, and nothing is served', () => {
    const r = loadConfig({ env: ONE, args: [] });
    assert.ok(r.ok);
    assert.deepEqual(r.config.nisServer, { enabled: false, host: '127.0.0.1', port: 3551 });
    assert.equal(r.config.upses[0]?.nisPort, undefined);
  });

  it('is set from the environment, serving the only UPS on nis_server.port', () => {
    const r = loadConfig({
      env: {
        ...ONE,
        UPS2MQTT_NIS_SERVER_ENABLED: 'true',
        UPS2MQTT_NIS_SERVER_HOST: '0.0.0.0',
        UPS2MQTT_NIS_SERVER_PORT: '13551',
      },
      args: [],
    });
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.config.nisServer, { enabled: true, host: '0.0.0.0', port: 13551 });
    assert.equal(r.config.upses[0]?.nisPort, 13551);
  });

  it('is set from command-line flags', () => {
    const r = loadConfig({
      env: ONE,
      args: [
        '--nis-server-enabled',
        'true',
        '--nis-server-host',
        '127.0.0.2',
        '--nis-server-port',
        '3600',
      ],
    });
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.config.nisServer, { enabled: true, host: '127.0.0.2', port: 3600 });
  });

  it('serves the first UPS on nis_server.port and others only where nis_port is set', () => {
    const file = yaml(
      'nis_server:\n  enabled: true\nupses:\n  - id: a\n    source: sim://\n  - id: b\n    source: sim://\n    nis_port: 3552\n  - id: c\n    source: sim://\n',
    );
    const r = loadConfig({ file, env: {}, args: [] });
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(
      r.config.upses.map((u) => [u.id, u.nisPort]),
      [
        ['a', 3551],
        ['b', 3552],
        ['c', undefined],
      ],
    );
  });

  it("lets the first UPS's own nis_port replace nis_server.port", () => {
    const file = yaml(
      'nis_server:\n  enabled: true\nupses:\n  - id: a\n    source: sim://\n    nis_port: 4000\n  - id: b\n    source: sim://\n    nis_port: 3551\n',
    );
    const r = loadConfig({ file, env: {}, args: [] });
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(
      r.config.upses.map((u) => u.nisPort),
      [4000, 3551],
    );
  });

  const bad: [string, string, RegExp][] = [
    [
      'two UPSes on one port',
      'nis_server:\n  enabled: true\nupses:\n  - id: a\n    source: sim://\n    nis_port: 3600\n  - id: b\n    source: sim://\n    nis_port: 3600\n',
      /upses \(UPS2MQTT_UPSES\): NIS port 3600 of upses\[1\] \("b"\) is already used by upses\[0\] \("a"\)/,
    ],
    [
      "a UPS on the first UPS's port",
      'nis_server:\n  enabled: true\nupses:\n  - id: a\n    source: sim://\n  - id: b\n    source: sim://\n    nis_port: 3551\n',
      /NIS port 3551 of upses\[1\] \("b"\) is already used by upses\[0\] \("a"\)/,
    ],
    [
      "the HTTP endpoint's port",
      'nis_server:\n  enabled: true\n  port: 1551\nsource: sim://\n',
      /nis_server.port \(UPS2MQTT_NIS_SERVER_PORT\): NIS port 1551 of upses\[0\] is the HTTP endpoint's port/,
    ],
    [
      'a nis_port that is not a port',
      'upses:\n  - id: a\n    source: sim://\n    nis_port: 70000\n',
      /nis_port must be a port number from 1 to 65535/,
    ],
    [
      'a nis_port as text',
      "upses:\n  - id: a\n    source: sim://\n    nis_port: '3551'\n",
      /nis_port must be a port/,
    ],
    ['a port out of range', 'nis_server:\n  port: 99999\nsource: sim://\n', /nis_server.port/],
  ];
  for (const [name, text, message] of bad) {
    it(`rejects ${name} with a clear problem`, () => {
      const r = loadConfig({ file: yaml(text), env: {}, args: [] });
      assert.equal(r.ok, false);
      assert.match(formatProblems(r.ok ? [] : r.problems), message);
    });
  }

  it('accepts port 0 (a free port) on several UPSes without calling it a collision', () => {
    const file = yaml(
      'nis_server:\n  enabled: true\n  port: 0\nupses:\n  - id: a\n    source: sim://\n  - id: b\n    source: sim://\n    nis_port: 3552\n',
    );
    const r = loadConfig({ file, env: {}, args: [] });
    assert.ok(r.ok, JSON.stringify(r));
  });
});
