import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BridgeApp } from '../bridge/app.ts';
import { CommandRouter } from '../commands/router.ts';
import type { AppConfig } from '../config/load.ts';
import { systemClock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { DiscoveryAnnouncer } from '../ha/announcer.ts';
import { statusPageUrl } from '../http/status-url.ts';
import { MqttGateway } from '../mqtt/gateway.ts';
import { Topics } from '../mqtt/topics.ts';
import { EnergyExtension, LoadPowerExtension } from '../policy/energy.ts';
import { OutageExtension } from '../policy/outages.ts';
import type { NutServer } from '../servers/nut/server.ts';
import { createSource } from '../sources/index.ts';
import { attachNisServers } from './nis-servers.ts';
import { attachNutServer } from './nut-server.ts';
import { attachStatusServer } from './status-server.ts';
import { packageInfo } from './version.ts';

/** Wires and starts the bridge for a validated configuration. */
export async function startBridge(config: AppConfig, logger: Logger): Promise<BridgeApp> {
  const clock = systemClock;
  const topics = new Topics(config.mqtt.baseTopic);
  const m = config.mqtt;
  const readOpt = (path: string): Buffer | undefined =>
    path === '' ? undefined : readFileSync(path);
  const ca = readOpt(m.caFile);
  const cert = readOpt(m.certFile);
  const key = readOpt(m.keyFile);
  const gateway = new MqttGateway(
    {
      url: m.url,
      ...(m.username ? { username: m.username } : {}),
      ...(m.password ? { password: m.password } : {}),
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      rejectUnauthorized: m.rejectUnauthorized,
      clientId: m.clientId || `ups2mqtt_${randomBytes(4).toString('hex')}`,
      protocolVersion: m.protocolVersion,
      keepaliveS: m.keepaliveS,
      reconnectPeriodMs: m.reconnectPeriodMs,
      bridgeStateTopic: topics.bridgeState(),
    },
    logger.child({ module: 'mqtt' }),
    { clock },
  );
  const pkg = packageInfo();
  const announcer = new DiscoveryAnnouncer(
    {
      discoveryPrefix: config.homeassistant.discoveryPrefix,
      baseTopic: config.mqtt.baseTopic,
      origin: { name: pkg.name, swVersion: pkg.version, supportUrl: pkg.homepage },
      configurationUrl: statusPageUrl(config.http),
    },
    gateway,
    logger.child({ module: 'homeassistant' }),
  );
  const commands = new CommandRouter(
    {
      allow: new Set(config.commands.allow),
      armWindowMs: config.commands.armWindowMs,
      rateLimitMs: config.commands.rateLimitMs,
      shutdownDelayS: config.commands.shutdownDelayS,
    },
    gateway,
    topics,
    logger.child({ module: 'commands' }),
    clock,
  );
  const upses = [];
  for (const ups of config.upses) {
    const source = await createSource(ups.spec, {
      logger: logger.child({ module: 'source', ups: ups.id }),
      clock,
      nis: config.nis,
    });
    const dataDeps = {
      dataDir: config.dataDir,
      logger: logger.child({ module: 'policy', ups: ups.id }),
    };
    upses.push({
      source,
      // In this order: load_w first, the energy integrator reads it.
      extensions: [
        new LoadPowerExtension(
          ups.nominalPowerW !== undefined ? { nominalPowerW: ups.nominalPowerW } : {},
          dataDeps.logger,
        ),
        new OutageExtension(dataDeps),
        // Readings more than three poll intervals apart are a gap, not a trapezoid.
        new EnergyExtension({ maxGapMs: 3 * ups.pollIntervalMs }, dataDeps),
      ],
      options: {
        ...(ups.id ? { id: ups.id } : {}),
        ...(ups.name ? { name: ups.name } : {}),
        pollIntervalMs: ups.pollIntervalMs,
        heartbeatIntervalMs: config.state.heartbeatIntervalMs,
        maxDataAgeS: config.state.maxDataAgeS,
      },
    });
  }
  const app = new BridgeApp(
    { upses, homeassistant: config.homeassistant },
    { gateway, topics, announcer, commands, clock, logger },
  );
  await app.start();
  // The HTTP endpoint (healthz, metrics, status page); app.stop() stops it too.
  await attachStatusServer(app, config, {
    clock,
    logger: logger.child({ module: 'http' }),
    version: pkg.version,
  });
  // The upsd-compatible NUT server (nut_server.*); app.stop() stops it too.
  let nutServer: NutServer | undefined;
  try {
    await attachNisServers(app, config, {
      clock,
      logger: logger.child({ module: 'nis-server' }),
      version: pkg.version,
    });
    nutServer = await attachNutServer(app, config, {
      commands,
      logger: logger.child({ module: 'nut-server' }),
      version: pkg.version,
    });
  } catch (err) {
    await app.stop();
    throw err;
  }
  logger.info(
    {
      version: pkg.version,
      upses: config.upses.map((u) => u.id ?? '(from serial)'),
      broker: m.url.replace(/\/\/[^@/]*@/, '//'),
    },
    'ups2mqtt started',
  );
  // Hand-over point for the power policy: `nutServer` (also nutServerOf(app)) is its
  // ForcedShutdownNotifier (setForcedShutdown, secondaryLogins); undefined when disabled.
  void nutServer;
  return app;
}

/** Stops the app on SIGINT/SIGTERM (publishing offline first); a second signal forces exit. */
export function stopOnSignals(
  app: BridgeApp,
  logger: Logger,
  extra?: () => Promise<void>,
): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal }, 'stopping');
      void app
        .stop()
        .then(() => extra?.())
        .catch((err: unknown) => logger.error({ err }, 'error while stopping'))
        .finally(() => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve();
        });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
