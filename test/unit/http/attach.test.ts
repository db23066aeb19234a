import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import {
  attachStatusServer,
  statusServerOf,
  statusServerOptions,
} from '../../../src/cli/status-server.ts';
import { type AppConfig, loadConfig } from '../../../src/config/load.ts';
import { ManualClock } from '../../../src/core/clock.ts';
import { FakeBridge, FakeUps, onlineState, recordingLogger, silentLogger } from './fakes.ts';

function config(env: Record<string, string>): AppConfig {
  const result = loadConfig({ env: { UPS2MQTT_SOURCE: 'sim://', ...env }, args: [] });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

/** Mirrors BridgeApp: stop() runs the registered hooks first, then stops the bridge. */
class StoppableFake extends FakeBridge {
  stops = 0;
  private readonly hooks: (() => Promise<void>)[] = [];
  /** Whether the attached server was already closed when the bridge itself stopped. */
  serverClosedFirst: boolean | undefined;
  onStop(fn: () => Promise<void>): void {
    this.hooks.push(fn);
  }
  async stop(): Promise<void> {
    for (const hook of this.hooks.splice(0)) await hook();
    this.stops++;
    this.serverClosedFirst = statusServerOf(this)?.address === undefined;
  }
}

describe('statusServerOptions', () => {
  it('takes host and port from the config; stale after 3 slow polls, never under 10 s', () => {
    assert.deepEqual(statusServerOptions(config({}), '1.0.0'), {
      host: '127.0.0.1',
      port: 1551,
      version: '1.0.0',
      staleAfterMs: 10_000,
    });
    const slow = config({ UPS2MQTT_POLL_INTERVAL: '30', UPS2MQTT_HTTP_HOST: '::1' });
    assert.equal(statusServerOptions(slow, '1').staleAfterMs, 90_000);
    assert.equal(statusServerOptions(slow, '1').host, '::1');
  });
});

describe('attachStatusServer', () => {
  const deps = { clock: new ManualClock(0), logger: silentLogger, version: '1' };

  it('does nothing when http.enabled is false', async () => {
    const app = new StoppableFake([]);
    const server = await attachStatusServer(app, config({ UPS2MQTT_HTTP_ENABLED: 'false' }), deps);
    assert.equal(server, undefined);
    assert.equal(statusServerOf(app), undefined);
  });

  it('starts the server, and the bridge stop() stops it before the bridge', async () => {
    const app = new StoppableFake([
      new FakeUps({ id: 'a', currentAvailability: 'online', state: onlineState() }),
    ]);
    const server = await attachStatusServer(app, config({ UPS2MQTT_HTTP_PORT: '0' }), deps);
    assert.ok(server);
    assert.equal(statusServerOf(app), server);
    const url = server.address?.url ?? '';
    assert.equal((await fetch(`${url}healthz`)).status, 503); // never read: not healthy
    await app.stop();
    assert.equal(app.stops, 1);
    assert.equal(app.serverClosedFirst, true);
    assert.equal(server.address, undefined);
    await assert.rejects(fetch(`${url}healthz`));
  });

  it('logs an error and leaves the bridge running when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const { logger, lines } = recordingLogger();
    const app = new StoppableFake([]);
    try {
      const server = await attachStatusServer(app, config({ UPS2MQTT_HTTP_PORT: String(port) }), {
        ...deps,
        logger,
      });
      assert.equal(server, undefined);
      const error = lines.find((l) => l.level === 'error');
      assert.equal(error?.msg, 'the HTTP endpoint could not start; the bridge runs without it');
      await app.stop();
      assert.equal(app.stops, 1);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
