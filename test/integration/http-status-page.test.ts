/**
 * The status page in a real browser: headless Chromium (Debian's `chromium`) driven by
 * playwright-core loads the page of a running bridge (two simulated UPSes, the embedded
 * broker) through a stand-in for Home Assistant's ingress proxy, which serves it under
 * /api/hassio_ingress/<token>/. It checks that the cards fill in, that a simulated power
 * failure changes the values without a reload, that nothing is fetched from anywhere else,
 * and saves a screenshot (docs/img/status-page.png for the README with UPDATE_SCREENSHOTS=1).
 *
 * Without /usr/bin/chromium the test is skipped, unless UPS2MQTT_REQUIRE_BROWSER is set
 * (CI sets it): then a missing browser is a failure.
 */

import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { BridgeApp } from '../../src/bridge/app.ts';
import { startBridge } from '../../src/cli/run.ts';
import { statusServerOf } from '../../src/cli/status-server.ts';
import { loadConfig } from '../../src/config/load.ts';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/demo/broker.ts';
import { freshDataDir } from '../helpers/data-dir.ts';
import { pollUntil } from '../helpers/ports.ts';

const CHROMIUM = '/usr/bin/chromium';
// The README's copy is refreshed only on request, so a test run leaves the tree clean.
const SCREENSHOT =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../docs/img/status-page.png', import.meta.url))
    : join(tmpdir(), `ups2mqtt-status-page-${process.pid}.png`);
const INGRESS_PREFIX = '/api/hassio_ingress/x9TqBvYc3kLw/';
const logger = pino({ level: 'silent' });

const browserMissing = !existsSync(CHROMIUM);
const required = (process.env.UPS2MQTT_REQUIRE_BROWSER ?? '') !== '';
const skip =
  browserMissing && !required
    ? `${CHROMIUM} is missing (apt-get install chromium); set UPS2MQTT_REQUIRE_BROWSER=1 to fail instead`
    : false;

/** A minimal stand-in for the Supervisor's ingress: strips the prefix, forwards the rest. */
async function startIngressProxy(target: string): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (!url.startsWith(INGRESS_PREFIX)) {
      res.writeHead(404).end('outside the ingress prefix');
      return;
    }
    const upstream = request(
      new URL(url.slice(INGRESS_PREFIX.length - 1), target),
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Text of the element matching `selector` inside the card of UPS `ups`. */
function cardText(page: Page, ups: string, selector: string): Promise<string> {
  return page.locator(`[data-ups="${ups}"] ${selector}`).first().innerText();
}

/** Number of points drawn by the first line of a chart. */
function chartPoints(page: Page, ups: string, series: string): Promise<number> {
  return page
    .locator(`[data-ups="${ups}"] [data-series="${series}"] path.line`)
    .first()
    .evaluate((p) => (p.getAttribute('d') ?? '').split(/[ML]/).length - 1)
    .catch(() => 0);
}

describe('status page in Chromium', { skip }, () => {
  let broker: EmbeddedBroker;
  let app: BridgeApp;
  let proxy: { origin: string; server: Server };
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const problems: string[] = [];

  before(async () => {
    assert.ok(!browserMissing, `${CHROMIUM} is missing and UPS2MQTT_REQUIRE_BROWSER is set`);
    broker = await startEmbeddedBroker({ port: 0, logger });
    const result = loadConfig({
      env: {
        UPS2MQTT_UPSES: JSON.stringify([
          {
            id: 'office',
            name: 'Office rack',
            source: 'sim://Smart-UPS 1500?speed=30&serial=SIMOFFICE001&load=35',
          },
          {
            id: 'garage',
            name: 'Garage',
            source: 'sim://back-ups-700?speed=30&serial=SIMGARAGE001&load=22',
          },
        ]),
        UPS2MQTT_MQTT_URL: broker.url,
        UPS2MQTT_DATA_DIR: freshDataDir(),
        UPS2MQTT_MQTT_PROTOCOL_VERSION: '4', // aedes speaks MQTT 3.1.1 only
        UPS2MQTT_HTTP_PORT: '0',
      },
      args: [],
    });
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    app = await startBridge(result.config, logger);
    const url = statusServerOf(app)?.address?.url;
    assert.ok(url);
    await pollUntil(
      async () => (app.mqttConnected && app.allAvailable() ? true : undefined),
      15_000,
      { what: 'the bridge connected and both UPSes read' },
    );
    proxy = await startIngressProxy(url);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
  });

  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (proxy ? proxy.server.close(() => resolve()) : resolve()));
    await app?.stop();
    await broker?.close();
  });

  it('shows one card per UPS, online, under the ingress prefix', async () => {
    await page.goto(`${proxy.origin}${INGRESS_PREFIX}`);
    await page.locator('[data-ups="office"][data-status="online"]').waitFor({ timeout: 15_000 });
    await page.locator('[data-ups="garage"][data-status="online"]').waitFor({ timeout: 15_000 });
    assert.equal(await cardText(page, 'office', 'h2'), 'Office rack');
    assert.equal(await cardText(page, 'office', '[data-role="status"]'), 'Online');
    assert.equal(await page.locator('#mqtt').innerText(), 'MQTT connected');
    assert.equal(await page.locator('#health').innerText(), 'Healthy');
    assert.match(await cardText(page, 'office', '[data-field="battery_charge_pct"] .num'), /^\d+$/);
    assert.match(await cardText(page, 'office', '[data-field="input_voltage_v"] .num'), /^2\d\d$/);
  });

  it('changes the values after a simulated power failure, without a reload', async () => {
    // Let the charts collect a few points of normal operation first.
    await pollUntil(
      async () =>
        (await chartPoints(page, 'office', 'battery_charge_pct')) >= 4 ? true : undefined,
      20_000,
      { what: 'four chart points', intervalMs: 250 },
    );
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    const chargeBefore = Number(
      await cardText(page, 'office', '[data-field="battery_charge_pct"] .num'),
    );
    await app.runCommand(0, 'simulate.power_fail');
    await page
      .locator('[data-ups="office"][data-status="on_battery"]')
      .waitFor({ timeout: 10_000 });
    assert.equal(await cardText(page, 'office', '[data-role="status"]'), 'On battery');
    assert.equal(await cardText(page, 'office', '[data-field="input_voltage_v"] .num'), '0');
    assert.equal(
      await cardText(page, 'office', '[data-field="input_voltage_v"] .hint'),
      'mains lost',
    );
    // The battery drains (30x simulated time): the shown charge falls below where it was.
    await pollUntil(
      async () => {
        const now = Number(
          await cardText(page, 'office', '[data-field="battery_charge_pct"] .num'),
        );
        return now < chargeBefore ? now : undefined;
      },
      20_000,
      { what: 'the charge to fall', intervalMs: 250 },
    );
    // The other UPS is untouched.
    assert.equal(await cardText(page, 'garage', '[data-role="status"]'), 'Online');
    // And the charts keep drawing on battery for a few more points.
    const drawn = await chartPoints(page, 'office', 'input_voltage_v');
    await pollUntil(
      async () =>
        (await chartPoints(page, 'office', 'input_voltage_v')) >= drawn + 5 ? true : undefined,
      20_000,
      { what: 'five more chart points', intervalMs: 250 },
    );
    assert.deepEqual(navigations, [], 'the page must update in place');
  });

  it('loads nothing from anywhere but its own ingress path, and logs no error', () => {
    assert.ok(requests.length > 3);
    for (const url of requests) {
      assert.ok(url.startsWith(`${proxy.origin}${INGRESS_PREFIX}`), `request outside: ${url}`);
    }
    assert.deepEqual(problems, []);
  });

  it('saves the screenshot for the README', async () => {
    mkdirSync(fileURLToPath(new URL('.', `file://${SCREENSHOT}`)), { recursive: true });
    await page.mouse.move(0, 0);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.ok(existsSync(SCREENSHOT));
  });
});
