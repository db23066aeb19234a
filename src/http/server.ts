/**
 * The local HTTP endpoint (default 127.0.0.1:1551): `/healthz` for Docker's HEALTHCHECK and
 * supervisors, `/metrics` for Prometheus, `/` the status page (also served through Home
 * Assistant's ingress), `api/status` the JSON the page polls. Read-only: every route is GET
 * or HEAD, nothing here changes the bridge.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Clock } from '../core/clock.ts';
import { Ups2MqttError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { evaluateHealth } from './health.ts';
import { HistoryRecorder } from './recorder.ts';
import { buildStatusJson } from './status-json.ts';
import type { BridgeView } from './view.ts';

/** Where to listen and what to show (built from the config by statusServerOptions). */
export interface StatusServerOptions {
  /** Interface to bind (config `http.host`). */
  host: string;
  /** Port (config `http.port`); 0 picks a free one, see `address`. */
  port: number;
  /** Shown on the page and in ups2mqtt_build_info. */
  version: string;
  /** A UPS whose last good reading is older than this is unhealthy (see health.ts). */
  staleAfterMs: number;
  /** Chart window; default one hour. */
  historyWindowMs?: number;
  /** At most one chart point per this many ms; default 2000. */
  historyResolutionMs?: number;
}

/** The bridge to show, the clock for history and health, the logger. */
export interface StatusServerDeps {
  view: BridgeView;
  clock: Clock;
  logger: Logger;
}

/** Where the server listens once started. */
export interface StatusServerAddress {
  host: string;
  port: number;
  /** `http://host:port/` (IPv6 hosts in brackets). */
  url: string;
}

interface Reply {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

/**
 * The page may load only its own script, style and data: no CDN, no other origin (the page
 * must work offline). No frame-ancestors rule, because ingress shows the page in an iframe.
 */
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'";

const JSON_TYPE = 'application/json; charset=utf-8';

function json(status: number, value: unknown): Reply {
  return { status, type: JSON_TYPE, body: `${JSON.stringify(value)}\n` };
}

function asset(type: string, body: string): Reply {
  return { status: 200, type, body, headers: { 'cache-control': 'no-cache' } };
}

/**
 * The page's assets, loaded on the first request for one: a bridge nobody looks at never
 * holds them (nor prom-client, loaded on the first /metrics scrape).
 */
async function loadPage(): Promise<{
  html: (version: string) => string;
  js: string;
  css: string;
  logo: string;
}> {
  const [{ LOGO_SVG, pageHtml }, { PAGE_JS }, { PAGE_CSS }] = await Promise.all([
    import('./page/html.ts'),
    import('./page/script.ts'),
    import('./page/style.ts'),
  ]);
  return { html: pageHtml, js: PAGE_JS, css: PAGE_CSS, logo: LOGO_SVG };
}

/**
 * The endpoint. The constructor only assigns; start() listens and starts the history
 * recorder; stop() closes the server and every open connection and stops the recorder.
 */
export class StatusServer {
  private server: Server | undefined;
  private readonly recorder: HistoryRecorder;
  private registry: Promise<Registry> | undefined;
  private page: ReturnType<typeof loadPage> | undefined;
  private bound: StatusServerAddress | undefined;

  constructor(
    private readonly opts: StatusServerOptions,
    private readonly deps: StatusServerDeps,
  ) {
    this.recorder = new HistoryRecorder(
      deps.view,
      {
        windowMs: opts.historyWindowMs ?? 3_600_000,
        resolutionMs: opts.historyResolutionMs ?? 2000,
      },
      deps.clock,
    );
  }

  /** The metrics registry, made on the first scrape (every value is read at scrape time). */
  private metrics(): Promise<Registry> {
    this.registry ??= import('./metrics.ts').then(({ createMetricsRegistry }) =>
      createMetricsRegistry(this.deps.view, { version: this.opts.version }),
    );
    return this.registry;
  }

  /** The bound address, once started. */
  get address(): StatusServerAddress | undefined {
    return this.bound;
  }

  /**
   * Starts recording history and listens. Rejects with CONFIG_INVALID when the address
   * cannot be bound (port in use, address not on this host), naming the settings to change.
   */
  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => void this.handle(req, res));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.opts.port, this.opts.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
      throw new Ups2MqttError(
        'CONFIG_INVALID',
        `http: cannot listen on ${this.opts.host}:${this.opts.port} (${code}); set http.port / UPS2MQTT_HTTP_PORT, http.host / UPS2MQTT_HTTP_HOST, or UPS2MQTT_HTTP_ENABLED=false`,
        { cause: err, context: { host: this.opts.host, port: this.opts.port, code } },
      );
    }
    server.on('error', (err) => this.deps.logger.error({ err }, 'http server error'));
    this.server = server;
    const { address, port } = server.address() as AddressInfo;
    const hostPart = address.includes(':') ? `[${address}]` : address;
    this.bound = { host: address, port, url: `http://${hostPart}:${port}/` };
    this.recorder.start();
    this.deps.logger.info({ url: this.bound.url }, 'status page, /healthz and /metrics listening');
  }

  /** Stops listening, closes open connections and stops recording. Idempotent. */
  async stop(): Promise<void> {
    this.recorder.stop();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.bound = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      reply = await this.route(req);
    } catch (err) {
      this.deps.logger.error({ err, url: req.url }, 'http request failed');
      reply = json(500, { error: 'internal error' });
    }
    res.writeHead(reply.status, {
      'content-type': reply.type,
      'content-length': Buffer.byteLength(reply.body),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      ...reply.headers,
    });
    res.end(req.method === 'HEAD' ? undefined : reply.body);
  }

  private async route(req: IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const known = [
      '/',
      '/app.js',
      '/app.css',
      '/favicon.svg',
      '/healthz',
      '/metrics',
      '/api/status',
    ];
    if (!known.includes(url.pathname)) return json(404, { error: 'not found' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return { ...json(405, { error: 'method not allowed' }), headers: { allow: 'GET, HEAD' } };
    }
    const now = this.deps.clock.now();
    switch (url.pathname) {
      case '/healthz': {
        const report = evaluateHealth(this.deps.view, now, this.opts);
        return json(report.status === 'ok' ? 200 : 503, report);
      }
      case '/metrics': {
        const registry = await this.metrics();
        return { status: 200, type: registry.contentType, body: await registry.metrics() };
      }
      case '/api/status': {
        const sinceText = url.searchParams.get('since');
        const since = sinceText === null ? undefined : Number(sinceText);
        if (since !== undefined && !Number.isFinite(since)) {
          return json(400, { error: 'since must be a time in epoch milliseconds' });
        }
        return json(
          200,
          buildStatusJson(this.deps.view, this.recorder, now, {
            ...this.opts,
            ...(since === undefined ? {} : { since }),
          }),
        );
      }
    }
    this.page ??= loadPage();
    const page = await this.page;
    switch (url.pathname) {
      case '/app.js':
        return asset('text/javascript; charset=utf-8', page.js);
      case '/app.css':
        return asset('text/css; charset=utf-8', page.css);
      case '/favicon.svg':
        return asset('image/svg+xml', page.logo);
      default:
        return {
          status: 200,
          type: 'text/html; charset=utf-8',
          body: page.html(this.opts.version),
          headers: { 'content-security-policy': PAGE_CSP },
        };
    }
  }
}
