import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { isUps2MqttError } from '../../../src/core/errors.ts';
import { StatusServer } from '../../../src/http/server.ts';
import type { StatusJson } from '../../../src/http/status-json.ts';
import { FakeBridge, FakeUps, onlineState, silentLogger } from './fakes.ts';

const T0 = 1_800_000_000_000;

describe('StatusServer', () => {
  const clock = new ManualClock(T0);
  const office = new FakeUps({
    id: 'office',
    name: 'Office <UPS>',
    currentAvailability: 'online',
    state: onlineState(),
  });
  office.stats.lastReadingAt = T0 - 500;
  const view = new FakeBridge([office]);
  const server = new StatusServer(
    {
      host: '127.0.0.1',
      port: 0,
      version: '9.8.7',
      staleAfterMs: 10_000,
      historyWindowMs: 60_000,
      historyResolutionMs: 1000,
    },
    { view, clock, logger: silentLogger },
  );
  let base = '';

  before(async () => {
    await server.start();
    base = server.address?.url ?? '';
  });
  after(() => server.stop());

  it('binds the configured host and reports the chosen port', () => {
    assert.equal(server.address?.host, '127.0.0.1');
    assert.ok((server.address?.port ?? 0) > 0);
    assert.equal(base, `http://127.0.0.1:${server.address?.port}/`);
  });

  it('GET /healthz: 200 with the report while healthy, 503 with reasons when not', async () => {
    view.mqttConnected = true;
    let res = await fetch(`${base}healthz`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), {
      status: 'ok',
      mqtt: { connected: true },
      upses: [{ ups: 'office', availability: 'online', last_reading_age_s: 0.5 }],
      reasons: [],
    });
    view.mqttConnected = false;
    res = await fetch(`${base}healthz`);
    assert.equal(res.status, 503);
    const body = (await res.json()) as { status: string; reasons: { code: string }[] };
    assert.equal(body.status, 'unhealthy');
    assert.deepEqual(
      body.reasons.map((r) => r.code),
      ['mqtt_disconnected'],
    );
    view.mqttConnected = true;
  });

  it('GET /metrics: Prometheus text', async () => {
    const res = await fetch(`${base}metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    assert.match(text, /^ups2mqtt_ups_battery_charge_percent\{ups="office"\} 100$/m);
    assert.match(text, /^ups2mqtt_build_info\{version="9\.8\.7"\} 1$/m);
  });

  it('GET /: the page, with relative asset URLs and a same-origin-only CSP', async () => {
    const res = await fetch(base);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(
      res.headers.get('content-security-policy'),
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'",
    );
    assert.equal(res.headers.get('x-frame-options'), null, 'ingress shows the page in a frame');
    const html = await res.text();
    assert.match(html, /<script src="app\.js" defer><\/script>/);
    assert.match(html, /<link rel="stylesheet" href="app\.css">/);
    assert.match(html, /ups2mqtt 9\.8\.7/);
  });

  for (const [path, type] of [
    ['app.js', 'text/javascript; charset=utf-8'],
    ['app.css', 'text/css; charset=utf-8'],
    ['favicon.svg', 'image/svg+xml'],
  ] as const) {
    it(`GET /${path}: ${type}`, async () => {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), type);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.ok((await res.text()).length > 100);
    });
  }

  it('GET /api/status: cards and chart points, all or only those after ?since', async () => {
    clock.advance(1000);
    office.publish(onlineState({ battery_charge_pct: 99 }));
    const all = (await (await fetch(`${base}api/status`)).json()) as StatusJson;
    assert.equal(all.version, '9.8.7');
    assert.equal(all.now, T0 + 1000);
    assert.deepEqual(all.history.window_s, 60);
    assert.deepEqual(all.history.resolution_s, 1);
    const ups = all.upses[0];
    assert.equal(ups?.key, 'office');
    assert.equal(ups?.name, 'Office <UPS>');
    assert.equal(ups?.availability, 'online');
    assert.equal(ups?.state.battery_charge_pct, 99);
    assert.equal(ups?.last_reading_at, new Date(T0 - 500).toISOString());
    assert.deepEqual(ups?.points, [
      [T0, 100, 18, 230.4, 3000],
      [T0 + 1000, 99, 18, 230.4, 3000],
    ]);
    const newer = (await (await fetch(`${base}api/status?since=${T0}`)).json()) as StatusJson;
    assert.deepEqual(newer.upses[0]?.points, [[T0 + 1000, 99, 18, 230.4, 3000]]);
  });

  it('rejects a since that is not a number with 400', async () => {
    const res = await fetch(`${base}api/status?since=yesterday`);
    assert.equal(res.status, 400);
  });

  it('answers HEAD without a body, other methods with 405, unknown paths with 404', async () => {
    const head = await fetch(`${base}healthz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    const post = await fetch(`${base}healthz`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    const missing = await fetch(`${base}index.php`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'not found' });
  });
});

describe('StatusServer start/stop', () => {
  const options = { host: '127.0.0.1', port: 0, version: '1', staleAfterMs: 10_000 };

  it('stop() releases the port and the history timer; a second stop is harmless', async () => {
    const clock = new ManualClock(0);
    const ups = new FakeUps({ id: 'a', currentAvailability: 'online', state: onlineState() });
    const server = new StatusServer(options, {
      view: new FakeBridge([ups]),
      clock,
      logger: silentLogger,
    });
    await server.start();
    const port = server.address?.port ?? 0;
    // A kept-alive connection must not hold stop() up.
    await fetch(`http://127.0.0.1:${port}/healthz`);
    await server.stop();
    await server.stop();
    assert.equal(server.address, undefined);
    assert.equal(clock.pending(), 0);
    assert.equal(ups.listenerCount, 0);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
  });

  it('rejects with CONFIG_INVALID naming the settings when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const server = new StatusServer(
      { ...options, port },
      { view: new FakeBridge([]), clock: new ManualClock(0), logger: silentLogger },
    );
    try {
      await assert.rejects(server.start(), (err: unknown) => {
        assert.ok(isUps2MqttError(err, 'CONFIG_INVALID'));
        assert.match(err.message, /cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/);
        assert.match(err.message, /UPS2MQTT_HTTP_PORT/);
        return true;
      });
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
