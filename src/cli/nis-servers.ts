/**
 * Wires the NIS servers to a started bridge: one per UPS that has a NIS port
 * (config `nis_server`, `upses[].nis_port`), each reading its UPS through the bridge's
 * UpsFeed, listed for /metrics and stopped with the bridge.
 */
import { hostname, platform } from 'node:os';
import type { AppConfig } from '../config/load.ts';
import type { Clock } from '../core/clock.ts';
import { Ups2MqttError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ProtocolServerInfo, UpsFeed } from '../core/ports.ts';
import type { NisServer } from '../servers/nis/server.ts';

/** A started bridge as the NIS servers need it (BridgeApp). */
export interface NisServedBridge {
  readonly bridges: readonly UpsFeed[];
  onStop(fn: () => Promise<void>): void;
  addServer(server: ProtocolServerInfo): void;
}

/**
 * Starts the NIS servers of `config` for `app`. When one cannot bind, those already started
 * are stopped and a LISTEN_FAILED error names the address.
 */
export async function attachNisServers(
  app: NisServedBridge,
  config: AppConfig,
  deps: { clock: Clock; logger: Logger; version: string },
): Promise<NisServer[]> {
  if (!config.nisServer.enabled) return [];
  // Loaded only when NIS is served.
  const { NisServer, nisVersionText } = await import('../servers/nis/server.ts');
  const started: NisServer[] = [];
  const { host } = config.nisServer;
  for (const [i, ups] of config.upses.entries()) {
    const feed = app.bridges[i];
    if (ups.nisPort === undefined || feed === undefined) continue;
    const server = new NisServer(
      { host, port: ups.nisPort },
      {
        feed,
        clock: deps.clock,
        logger: deps.logger.child({ ups: ups.id ?? `ups${i + 1}` }),
        hostname: hostname(),
        version: nisVersionText(deps.version, platform()),
      },
    );
    try {
      await server.start();
    } catch (err) {
      await Promise.all(started.map((s) => s.stop()));
      const why = err instanceof Error ? err.message : String(err);
      throw new Ups2MqttError(
        'LISTEN_FAILED',
        `the NIS server cannot listen on ${host}:${ups.nisPort}: ${why}`,
        { cause: err, context: { host, port: ups.nisPort } },
      );
    }
    started.push(server);
    app.addServer({
      protocol: 'nis',
      get port() {
        return server.port;
      },
      get stats() {
        return server.stats;
      },
    });
  }
  for (const server of started) app.onStop(() => server.stop());
  return started;
}
