import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { attachNutServer, type NutServedBridge, nutServerOf } from '../../../src/cli/nut-server.ts';
import { type AppConfig, loadConfig } from '../../../src/config/load.ts';
import { isUps2MqttError } from '../../../src/core/errors.ts';
import type { ProtocolServerInfo } from '../../../src/core/ports.ts';
import { captureLogger } from '../bridge/fakes.ts';

function config(env: Record<string, string>): AppConfig {
  const r = loadConfig({ env: { UPS2MQTT_SOURCE: 'sim://', ...env }, args: [] });
  assert.ok(r.ok);
  return r.config;
}

function fakeApp(): NutServedBridge & {
  hooks: (() => Promise<void>)[];
  servers: ProtocolServerInfo[];
} {
  const hooks: (() => Promise<void>)[] = [];
  const servers: ProtocolServerInfo[] = [];
  return {
    bridges: [],
    commandTarget: () => undefined,
    onStop: (fn) => hooks.push(fn),
    addServer: (s) => servers.push(s),
    hooks,
    servers,
  };
}

const commands = { enabledCommands: () => [], execute: () => Promise.reject(new Error('none')) };

describe('attachNutServer', () => {
  it('does nothing while nut_server is disabled', async () => {
    const app = fakeApp();
    const { logger } = captureLogger();
    assert.equal(
      await attachNutServer(app, config({}), { commands, logger, version: '1' }),
      undefined,
    );
    assert.deepEqual(app.servers, []);
  });

  it('starts, lists itself for /metrics as "nut", and stops with the bridge', async () => {
    const app = fakeApp();
    const { logger, lines } = captureLogger();
    const server = await attachNutServer(
      app,
      config({ UPS2MQTT_NUT_SERVER_ENABLED: 'true', UPS2MQTT_NUT_SERVER_PORT: '0' }),
      { commands, logger, version: '1' },
    );
    assert.ok(server);
    assert.equal(nutServerOf(app), server);
    assert.equal(app.servers[0]?.protocol, 'nut');
    assert.equal(app.servers[0]?.port, server.port);
    assert.ok(server.port > 0);
    assert.ok(lines.some((l) => l.msg?.includes('no users')));
    for (const hook of app.hooks) await hook();
    assert.equal(server.stats.active, 0);
  });

  it('a port that cannot be bound is LISTEN_FAILED naming the address', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const { logger } = captureLogger();
      await assert.rejects(
        attachNutServer(
          fakeApp(),
          config({ UPS2MQTT_NUT_SERVER_ENABLED: 'true', UPS2MQTT_NUT_SERVER_PORT: String(port) }),
          { commands, logger, version: '1' },
        ),
        (err: unknown) =>
          isUps2MqttError(err, 'LISTEN_FAILED') &&
          err.message.includes(`the NUT server cannot listen on 127.0.0.1:${port}`),
      );
    } finally {
      blocker.close();
    }
  });
});
