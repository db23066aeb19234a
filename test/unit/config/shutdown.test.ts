/**
 * `shutdown.*`: the single UPS's top-level keys (file, environment, flags) and the
 * `shutdown` object of each `upses` entry, with a clear message for every mistake.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { loadConfig } from '../../../src/config/load.ts';

function yamlFile(doc: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'ups2mqtt-shutdown-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, YAML.stringify(doc));
  return file;
}

const problems = (r: ReturnType<typeof loadConfig>): string[] =>
  r.ok ? [] : r.problems.map((p) => `${p.key}: ${p.message}`);

describe('shutdown settings', () => {
  it('are off by default', () => {
    const r = loadConfig({ env: { UPS2MQTT_SOURCE: 'sim://' }, args: [] });
    assert.ok(r.ok);
    assert.equal(r.config.upses[0]?.shutdown.mode, 'off');
  });

  it('come from the environment for the single UPS, the command as a JSON argv', () => {
    const r = loadConfig({
      env: {
        UPS2MQTT_SOURCE: 'sim://',
        UPS2MQTT_SHUTDOWN_MODE: 'act',
        UPS2MQTT_SHUTDOWN_ON_BATTERY_FOR: '120',
        UPS2MQTT_SHUTDOWN_BATTERY_CHARGE_PCT: '30',
        UPS2MQTT_SHUTDOWN_RUNTIME_S: '',
        UPS2MQTT_SHUTDOWN_COMMAND: '["systemctl","poweroff"]',
        UPS2MQTT_SHUTDOWN_COMMAND_TIMEOUT: '10',
        UPS2MQTT_SHUTDOWN_GRACE: '90',
        UPS2MQTT_SHUTDOWN_SECONDARIES_GRACE: '45',
        UPS2MQTT_SHUTDOWN_UPS_COMMAND: 'none',
      },
      args: [],
    });
    assert.ok(r.ok, JSON.stringify(problems(r)));
    assert.deepEqual(r.config.upses[0]?.shutdown, {
      mode: 'act',
      onBatteryForMs: 120_000,
      batteryChargePct: 30,
      runtimeS: null,
      secondariesGraceMs: 45_000,
      command: ['systemctl', 'poweroff'],
      commandTimeoutMs: 10_000,
      graceMs: 90_000,
      upsCommand: null,
    });
  });

  it('take flags for the mode and triggers', () => {
    const r = loadConfig({
      env: { UPS2MQTT_SOURCE: 'sim://' },
      args: ['--shutdown-mode', 'dry_run', '--shutdown-runtime-s', '300'],
    });
    assert.ok(r.ok, JSON.stringify(problems(r)));
    assert.equal(r.config.upses[0]?.shutdown.mode, 'dry_run');
    assert.equal(r.config.upses[0]?.shutdown.runtimeS, 300);
  });

  it('refuse a bad mode, threshold, argv or UPS command with the key named', () => {
    const r = loadConfig({
      env: {
        UPS2MQTT_SOURCE: 'sim://',
        UPS2MQTT_SHUTDOWN_MODE: 'yes',
        UPS2MQTT_SHUTDOWN_BATTERY_CHARGE_PCT: '120',
        UPS2MQTT_SHUTDOWN_COMMAND: 'systemctl poweroff',
        UPS2MQTT_SHUTDOWN_UPS_COMMAND: 'beeper.mute',
      },
      args: [],
    });
    const text = problems(r).join('\n');
    assert.match(text, /shutdown\.mode: must be one of/);
    assert.match(text, /shutdown\.battery_charge_pct: must be a percentage from 0 to 100/);
    assert.match(text, /shutdown\.command: must be a list of strings \(argv, no shell\)/);
    assert.match(text, /shutdown\.ups_command: must be one of shutdown\.return, /);
  });

  it('are per UPS under each upses entry, defaults filled in', () => {
    const file = yamlFile({
      upses: [
        {
          id: 'rack',
          source: 'sim://',
          shutdown: { mode: 'act', runtime_s: 300, command: ['/usr/local/bin/off'] },
        },
        { id: 'desk', source: 'sim://desk', shutdown: { mode: 'notify', ups_command: 'none' } },
        { id: 'lab', source: 'sim://lab' },
      ],
    });
    const r = loadConfig({ file, env: {}, args: [] });
    assert.ok(r.ok, JSON.stringify(problems(r)));
    const [rack, desk, lab] = r.config.upses;
    assert.deepEqual(
      [
        rack?.shutdown.mode,
        rack?.shutdown.runtimeS,
        rack?.shutdown.command,
        rack?.shutdown.graceMs,
      ],
      ['act', 300, ['/usr/local/bin/off'], 60_000],
    );
    assert.deepEqual([desk?.shutdown.mode, desk?.shutdown.upsCommand], ['notify', null]);
    assert.equal(lab?.shutdown.mode, 'off');
  });

  it('name every mistake inside an upses entry', () => {
    const file = yamlFile({
      upses: [
        {
          id: 'rack',
          source: 'sim://',
          shutdown: {
            mode: 'now',
            on_battery_for: -5,
            battery_charge_pct: 'low',
            grace: 0,
            command: 'poweroff',
            ups_command: 'load.on',
            delay: 3,
          },
        },
        { id: 'desk', source: 'sim://d', shutdown: ['act'] },
      ],
    });
    const text = problems(loadConfig({ file, env: {}, args: [] })).join('\n');
    for (const want of [
      /\[0\]\.shutdown\.delay is not a known key/,
      /\[0\]\.shutdown\.mode must be one of off, notify, dry_run, act/,
      /\[0\]\.shutdown\.on_battery_for must be a positive number of seconds/,
      /\[0\]\.shutdown\.battery_charge_pct must be a number from 0 to 100/,
      /\[0\]\.shutdown\.grace must be a positive number of seconds/,
      /\[0\]\.shutdown\.command must be a list of strings/,
      /\[0\]\.shutdown\.ups_command must be one of/,
      /\[1\]\.shutdown must be an object/,
    ]) {
      assert.match(text, want);
    }
  });

  it('refuse top-level shutdown settings next to an upses list', () => {
    const file = yamlFile({
      upses: [{ id: 'rack', source: 'sim://' }],
      shutdown: { mode: 'act' },
    });
    const text = problems(loadConfig({ file, env: {}, args: [] })).join('\n');
    assert.match(text, /^shutdown: the top-level shutdown settings apply to a single UPS/m);
  });
});
