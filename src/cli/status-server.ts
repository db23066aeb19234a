/**
 * Wires the HTTP endpoint to a started bridge: builds the server's options from the
 * configuration, starts it, and registers it to stop first when the bridge stops, so every caller
 * of startBridge (the CLI, the demo, tests) releases the port without knowing about it.
 */
import type { AppConfig } from '../config/load.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { StatusServer, type StatusServerOptions } from '../http/server.ts';
import type { BridgeView } from '../http/view.ts';

/** A bridge that runs hooks when it stops (BridgeApp). */
export interface StoppableBridge extends BridgeView {
  onStop(fn: () => Promise<void>): void;
}

const servers = new WeakMap<object, StatusServer>();

/**
 * The server options for a configuration. A UPS counts as stale after three poll intervals
 * of the slowest UPS without a good reading, and never sooner than 10 s.
 */
export function statusServerOptions(config: AppConfig, version: string): StatusServerOptions {
  const slowest = Math.max(0, ...config.upses.map((u) => u.pollIntervalMs));
  return {
    host: config.http.host,
    port: config.http.port,
    version,
    staleAfterMs: Math.max(10_000, 3 * slowest),
  };
}

/**
 * Starts the endpoint for `app` when `config.http.enabled`. A port that cannot be bound is
 * logged as an error and the bridge runs on without the endpoint: publishing to MQTT is the
 * job, and a failing /healthz then tells the container runtime.
 */
export async function attachStatusServer(
  app: StoppableBridge,
  config: AppConfig,
  deps: { clock: Clock; logger: Logger; version: string },
): Promise<StatusServer | undefined> {
  if (!config.http.enabled) return undefined;
  const server = new StatusServer(statusServerOptions(config, deps.version), {
    view: app,
    clock: deps.clock,
    logger: deps.logger,
  });
  try {
    await server.start();
  } catch (err) {
    deps.logger.error({ err }, 'the HTTP endpoint could not start; the bridge runs without it');
    return undefined;
  }
  servers.set(app, server);
  app.onStop(() => server.stop());
  return server;
}

/** The endpoint attached to a bridge, if any (tests use it to find a port chosen with 0). */
export function statusServerOf(app: object): StatusServer | undefined {
  return servers.get(app);
}
