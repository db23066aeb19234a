/**
 * Wires the NUT server to a started bridge when `nut_server.enabled`: every UPS under its
 * ups id, INSTCMD through the bridge's command router, counters on /metrics, and stopped
 * first when the bridge stops (docs/security.md, "NUT server").
 */
import type { CommandTarget } from '../commands/router.ts';
import type { AppConfig } from '../config/load.ts';
import { Ups2MqttError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ProtocolServerInfo, UpsFeed } from '../core/ports.ts';
import type { NutCommandRouter, NutServer } from '../servers/nut/server.ts';

/** A started bridge as the NUT server needs it (BridgeApp). */
export interface NutServedBridge {
  readonly bridges: readonly UpsFeed[];
  commandTarget(upsId: string): CommandTarget | undefined;
  onStop(fn: () => Promise<void>): void;
  addServer(server: ProtocolServerInfo): void;
}

const servers = new WeakMap<object, NutServer>();

/**
 * Starts the NUT server for `app`, or returns undefined when it is disabled. A port that
 * cannot be bound is a LISTEN_FAILED error naming the address (as for the NIS servers):
 * upsmon clients that rely on it must not be left blind by a bridge that looks healthy.
 */
export async function attachNutServer(
  app: NutServedBridge,
  config: AppConfig,
  deps: { commands: NutCommandRouter; logger: Logger; version: string },
): Promise<NutServer | undefined> {
  const c = config.nutServer;
  if (!c.enabled) return undefined;
  // Loaded only when NUT is served.
  const { NutServer } = await import('../servers/nut/server.ts');
  const server = new NutServer(
    { host: c.host, port: c.port, users: c.users, version: deps.version },
    {
      feeds: () => app.bridges,
      commands: deps.commands,
      commandTarget: (upsId) => app.commandTarget(upsId),
      logger: deps.logger,
    },
  );
  try {
    await server.start();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Ups2MqttError(
      'LISTEN_FAILED',
      `the NUT server cannot listen on ${c.host}:${c.port}: ${why}`,
      { cause: err, context: { host: c.host, port: c.port } },
    );
  }
  if (c.users.length === 0)
    deps.logger.warn('the NUT server has no users: clients can read, but upsmon cannot log in');
  servers.set(app, server);
  app.addServer({
    protocol: 'nut',
    get port() {
      return server.port;
    },
    get stats() {
      return server.stats;
    },
  });
  app.onStop(() => server.stop());
  return server;
}

/**
 * The NUT server attached to a bridge, if any: the power policy's ForcedShutdownNotifier,
 * and tests use it to find a port chosen with 0.
 */
export function nutServerOf(app: object): NutServer | undefined {
  return servers.get(app);
}
