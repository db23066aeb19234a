import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bridgeConfig, parseVariant } from '../lib/bridge-process.ts';

describe('bench config variants', () => {
  it('parses key=value settings, values as JSON when they parse', () => {
    assert.deepEqual(parseVariant('default'), {});
    assert.deepEqual(parseVariant('nis.reuse_connection=false, poll_interval=2,log.level=info'), {
      'nis.reuse_connection': false,
      poll_interval: 2,
      'log.level': 'info',
    });
    assert.throws(() => parseVariant('nis.reuse_connection'), /not key=value/);
  });

  it('sets overrides by dotted path on the generated config, keeping the rest', () => {
    const config = bridgeConfig({
      upses: [{ id: 'u0', port: 4000, pollIntervalS: 1 }],
      mqttUrl: 'mqtt://127.0.0.1:1883',
      overrides: { 'nis.reuse_connection': false, 'log.level': 'info' },
    }) as Record<string, Record<string, unknown>>;
    assert.deepEqual(config.nis, { reuse_connection: false });
    assert.deepEqual(config.log, { level: 'info', format: 'json' });
    assert.deepEqual(config.mqtt, { url: 'mqtt://127.0.0.1:1883' });
  });
});
