import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BridgeApp } from '../bridge/app.ts';
import { KNOWN_COMMANDS } from '../commands/ha-components.ts';
import { CommandRouter } from '../commands/router.ts';
import type { AppConfig, UpsConfig } from '../config/load.ts';
import { systemClock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { ForcedShutdownNotifier, StateExtension } from '../core/ports.ts';
import { DiscoveryAnnouncer } from '../ha/announcer.ts';
import { statusPageUrl } from '../http/status-url.ts';
import { MqttGateway, redactUrl } from '../mqtt/gateway.ts';
import { Topics } from '../mqtt/topics.ts';
import { EnergyExtension, LoadPowerExtension } from '../policy/energy.ts';
import type { CommandRunner } from '../policy/host.ts';
import { OutageExtension } from '../policy/outages.ts';
import type { ShutdownPolicy } from '../policy/policy.ts';
import type { NutServer } from '../servers/nut/server.ts';
import { createSource } from '../sources/index.ts';
import type { NutClientRegistry } from '../sources/nut/registry.ts';
import { JsonStore } from '../util/json-store.ts';
import { expandNutWildcards } from './expand-nut.ts';
import { attachNisServers } from './nis-servers.ts';
import { attachNutServer } from './nut-server.ts';
import { attachStatusServer } from './status-server.ts';
import { packageInfo } from './version.ts';

/** What the composition root learns from the process (not from the config). */
export interface StartOptions {
  /** Set when running as the Home Assistant add-on (SUPERVISOR_TOKEN in the environment). */
  supervisor?: { url: string; token: string };
  /** Runs `shutdown.command`; tests inject one (default: execFile). */
  runner?: CommandRunner;
  /** FSD for NUT secondaries (default: the NUT server when nut_server.enabled). */
  notifier?: ForcedShutdownNotifier;
  /** Called once with the UPSes served (`nut://host` expanded), before they start. */
  onUpses?: (upses: readonly UpsConfig[]) => void;
}

/** Wires and starts the bridge for a validated configuration. */
export async function startBridge(
  config: AppConfig,
  logger: Logger,
  options: StartOptions = {},
): Promise<BridgeApp> {
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
      // The `debug` package's variable: whoever sets it wants mqtt.js's trace printed.
      libraryTrace: (process.env.DEBUG ?? '') !== '',
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
  // One connection per upsd, shared by every UPS read from it (docs/configuration.md);
  // its code is loaded only when a UPS is read over NUT.
  let nutRegistry: NutClientRegistry | undefined;
  if (config.upses.some((u) => u.spec.kind === 'nut')) {
    const { NutClientRegistry } = await import('../sources/nut/registry.ts');
    nutRegistry = new NutClientRegistry(
      { timeoutMs: config.nut.timeoutMs, ca: readOpt(config.nut.caFile) },
      logger.child({ module: 'nut' }),
      clock,
    );
  }
  // `nut://host` means every UPS upsd lists: asked once, here, before anything starts.
  const configured = await expandNutWildcards(config.upses, {
    list: (spec) => {
      if (nutRegistry === undefined) throw new Error('no NUT connection registry');
      return nutRegistry.listUpses(spec);
    },
    logger: logger.child({ module: 'nut' }),
    clock,
    retry: true,
    holdProcess: keepAlive,
  });
  options.onUpses?.(configured);
  const upses = [];
  const policies: ShutdownPolicy[] = [];
  // The app is built after its UPSes, the NUT server after the app: the policies reach
  // them lazily, once they run.
  let app: BridgeApp | undefined;
  let nutServer: NutServer | undefined;
  // FSD for upsmon secondaries when the NUT server runs (docs/power-policy.md).
  const notifier: ForcedShutdownNotifier | undefined =
    options.notifier ??
    (config.nutServer.enabled
      ? {
          setForcedShutdown: (upsId, on) => nutServer?.setForcedShutdown(upsId, on),
          secondaryLogins: (upsId) => nutServer?.secondaryLogins(upsId) ?? 0,
        }
      : undefined);
  for (const [index, ups] of configured.entries()) {
    const source = await createSource(ups.spec, {
      logger: logger.child({ module: 'source', ups: ups.id }),
      clock,
      nis: config.nis,
      pollIntervalMs: ups.pollIntervalMs,
      ...(nutRegistry ? { nut: { registry: nutRegistry, knownCommands: KNOWN_COMMANDS } } : {}),
    });
    const dataDeps = {
      dataDir: config.dataDir,
      logger: logger.child({ module: 'policy', ups: ups.id }),
    };
    const extensions: StateExtension[] = [];
    const sd = ups.shutdown;
    if (sd.mode !== 'off') {
      // The power policy's code is loaded only when a UPS has one.
      const [{ ShutdownPolicy }, { execFileRunner, SupervisorClient }, { parseMemory }] =
        await Promise.all([
          import('../policy/policy.ts'),
          import('../policy/host.ts'),
          import('../policy/machine.ts'),
        ]);
      const bridgeOf = () => app?.bridges[index];
      const policyLog = dataDeps.logger;
      const policy = new ShutdownPolicy(
        { ...sd, mode: sd.mode },
        {
          clock,
          logger: policyLog,
          store: new JsonStore(
            config.dataDir,
            `${ups.id ?? 'ups'}.policy.json`,
            parseMemory,
            policyLog,
          ),
          runner: options.runner ?? execFileRunner,
          ...(options.supervisor
            ? { supervisor: new SupervisorClient(options.supervisor.url, options.supervisor.token) }
            : {}),
          ...(notifier ? { notifier } : {}),
          commands,
          target: () => {
            const id = bridgeOf()?.id;
            return id === undefined ? undefined : app?.commandTarget(id);
          },
          upsId: () => bridgeOf()?.id,
          publisher: gateway,
          topics,
          refresh: () => bridgeOf()?.refresh() ?? Promise.resolve(),
        },
      );
      policy.start();
      policies.push(policy);
      extensions.push(policy);
    }
    upses.push({
      source,
      // In this order: load_w first, the energy integrator reads it; the power policy last.
      extensions: [
        new LoadPowerExtension(
          ups.nominalPowerW !== undefined ? { nominalPowerW: ups.nominalPowerW } : {},
          dataDeps.logger,
        ),
        new OutageExtension(dataDeps),
        // Readings more than three poll intervals apart are a gap, not a trapezoid.
        new EnergyExtension({ maxGapMs: 3 * ups.pollIntervalMs }, dataDeps),
        ...extensions,
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
  app = new BridgeApp(
    { upses, homeassistant: config.homeassistant },
    { gateway, topics, announcer, commands, clock, logger },
  );
  // First on stop, while the UPS and the broker are still there: a policy in the middle of
  // a host shutdown sends its UPS command now (docs/power-policy.md).
  for (const policy of policies) app.onStop(() => policy.stop());
  await app.start();
  // The HTTP endpoint (healthz, metrics, status page); app.stop() stops it too.
  await attachStatusServer(app, config, {
    clock,
    logger: logger.child({ module: 'http' }),
    version: pkg.version,
  });
  // The upsd-compatible NUT server (nut_server.*); app.stop() stops it too.
  try {
    // The NIS servers follow the served UPSes (`nut://host` expanded), in app.bridges order.
    await attachNisServers(
      app,
      { ...config, upses: configured },
      {
        clock,
        logger: logger.child({ module: 'nis-server' }),
        version: pkg.version,
      },
    );
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
      upses: configured.map((u) => u.id ?? '(from serial)'),
      // Parsed, not pattern-matched: a password may hold `@` (the last one ends it).
      broker: redactUrl(m.url),
    },
    'ups2mqtt started',
  );
  return app;
}

/** Keeps the process alive until the returned function is called (system timers do not). */
export function keepAlive(): () => void {
  const t = setInterval(() => {}, 60_000);
  return () => clearInterval(t);
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
