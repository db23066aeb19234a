import { commandComponents } from '../commands/ha-components.ts';
import type { CommandRouter } from '../commands/router.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { UpsSource } from '../core/source.ts';
import type { UpsState, UpsStateKey } from '../core/state.ts';
import type { DiscoveryAnnouncer } from '../ha/announcer.ts';
import type { MqttGateway } from '../mqtt/gateway.ts';
import type { Topics } from '../mqtt/topics.ts';
import { UpsBridge, type UpsBridgeOptions, type UpsIdentityInfo } from './ups-bridge.ts';

export interface BridgeAppOptions {
  upses: { options: UpsBridgeOptions; source: UpsSource }[];
  homeassistant: { enabled: boolean; discoveryPrefix: string; statusTopic: string };
  /** Upper bound of the random wait before re-announcing on HA's birth (HA docs advise one). */
  birthDelayMaxMs?: number;
}

export interface BridgeAppDeps {
  gateway: MqttGateway;
  topics: Topics;
  announcer: DiscoveryAnnouncer;
  commands: CommandRouter;
  clock: Clock;
  logger: Logger;
  random?: () => number;
}

/**
 * The running bridge: one UpsBridge per UPS over one MQTT gateway, re-announcing
 * discovery, availability and state after every (re)connect and on Home Assistant's birth.
 */
export class BridgeApp {
  readonly bridges: UpsBridge[] = [];
  private readonly commandSubscriptions = new Set<string>();
  private birthTimer: TimerHandle | undefined;
  private subscribed = false;
  private orphansChecked = false;
  private scanning = false;
  private announcing: Promise<void> = Promise.resolve();
  private readonly stopHooks: (() => Promise<void>)[] = [];

  constructor(
    private readonly opts: BridgeAppOptions,
    private readonly deps: BridgeAppDeps,
  ) {}

  async start(): Promise<void> {
    const { gateway, announcer, commands, topics } = this.deps;
    announcer.setExtraComponents((upsId) => {
      const i = this.bridges.findIndex((b) => b.id === upsId);
      const ups = this.opts.upses[i];
      const identifier = this.bridges[i]?.deviceIdentifier;
      if (!ups || !identifier) return {};
      return commandComponents({
        upsId,
        identifier,
        baseTopic: topics.base,
        commands: commands.enabledCommands(ups.source),
        shutdownDelay: commands.hasShutdownDelay(ups.source),
      });
    });
    for (const ups of this.opts.upses) {
      const log = this.deps.logger.child({ source: ups.source.description });
      // Called after a good reading whenever the set of keys grew: the UPS id is known then.
      const discovery = {
        update: async (id: UpsIdentityInfo, state: UpsState, keys: ReadonlySet<UpsStateKey>) => {
          // While the broker's retained configs are being read back, our own discovery
          // publishes would echo into that scan (and, at 1,000 UPSes, flood the broker's
          // queue for us); the announce right after the scan covers every UPS.
          if (this.opts.homeassistant.enabled && !this.scanning) {
            await this.deps.announcer.update(id, state, keys);
            await this.maybeRemoveOrphans();
          }
          await this.ensureCommandSubscription(bridge, ups.source);
        },
      };
      // Spread first polls across one interval: 1,000 UPSes polled in one burst each second
      // queue their replies and stretch the publish delay (docs/benchmarks.md).
      const index = this.bridges.length;
      const spread = Math.floor((index / this.opts.upses.length) * ups.options.pollIntervalMs);
      const bridge: UpsBridge = new UpsBridge(
        { ...ups.options, startDelayMs: spread },
        {
          source: ups.source,
          publisher: gateway,
          topics: this.deps.topics,
          clock: this.deps.clock,
          logger: log,
          discovery,
        },
      );
      this.bridges.push(bridge);
    }
    gateway.onConnected(() => {
      this.announcing = this.announcing.then(() => this.onConnected());
      return this.announcing;
    });
    gateway.start();
    await Promise.all(this.bridges.map((b) => b.start()));
  }

  /** Runs `fn` first when the bridge stops (e.g. the HTTP endpoint closes its port). */
  onStop(fn: () => Promise<void>): void {
    this.stopHooks.push(fn);
  }

  async stop(): Promise<void> {
    for (const hook of this.stopHooks.splice(0)) {
      try {
        await hook();
      } catch (err) {
        this.deps.logger.error({ err }, 'a stop hook failed');
      }
    }
    if (this.birthTimer) this.deps.clock.clearTimeout(this.birthTimer);
    await Promise.all(this.bridges.map((b) => b.stop()));
    await this.deps.gateway.stop();
  }

  /** Whether the MQTT broker is connected (for health checks). */
  get mqttConnected(): boolean {
    return this.deps.gateway.connected;
  }

  /** The gateway's publish counters (for /metrics). */
  get mqttStats(): Readonly<MqttGateway['stats']> {
    return this.deps.gateway.stats;
  }

  /** Every UPS is read and fresh (for health checks). */
  allAvailable(): boolean {
    return this.bridges.every((b) => b.currentAvailability === 'online');
  }

  private async onConnected(): Promise<void> {
    const { gateway, announcer, logger } = this.deps;
    const ha = this.opts.homeassistant;
    if (!this.subscribed) {
      this.subscribed = true;
      if (ha.enabled) {
        await gateway.subscribe(ha.statusTopic, (msg) => {
          if (msg.payload.toString('utf8') === 'online') this.scheduleBirthAnnounce();
        });
      }
    }
    announcer.reset();
    if (ha.enabled) {
      this.scanning = true;
      const found = await gateway
        .scanRetained(
          `${ha.discoveryPrefix}/device/+/config`,
          `${this.deps.topics.base}/bridge/sync`,
        )
        .finally(() => {
          this.scanning = false;
        });
      const devices = found.flatMap((m) => announcer.parseRetained(m.topic, m.payload) ?? []);
      announcer.setPrevious(devices);
      this.orphansChecked = false;
      logger.debug({ found: devices.map((d) => d.upsId) }, 'retained discovery on the broker');
    }
    await this.announceAll();
    await this.maybeRemoveOrphans();
    for (const b of this.bridges) {
      const ups = this.opts.upses[this.bridges.indexOf(b)];
      if (ups) await this.ensureCommandSubscription(b, ups.source);
    }
  }

  private scheduleBirthAnnounce(): void {
    const { clock, logger } = this.deps;
    if (this.birthTimer) clock.clearTimeout(this.birthTimer);
    const delay = Math.round(
      (this.deps.random ?? Math.random)() * (this.opts.birthDelayMaxMs ?? 2000),
    );
    logger.info({ delay_ms: delay }, 'Home Assistant is online: re-announcing');
    this.birthTimer = clock.setTimeout(() => {
      this.birthTimer = undefined;
      this.deps.announcer.reset();
      this.announcing = this.announcing.then(() => this.announceAll());
    }, delay);
  }

  private async announceAll(): Promise<void> {
    for (const b of this.bridges) await b.announce();
  }

  /** Once every UPS has its id, clear retained devices of UPSes no longer configured. */
  private async maybeRemoveOrphans(): Promise<void> {
    if (this.orphansChecked || !this.opts.homeassistant.enabled) return;
    if (!this.deps.gateway.connected) return;
    const ids = this.bridges.map((b) => b.id);
    if (ids.some((id) => id === undefined)) return;
    this.orphansChecked = true;
    await this.deps.announcer.removeOrphans(new Set(ids as string[]));
  }

  private async ensureCommandSubscription(bridge: UpsBridge, source: UpsSource): Promise<void> {
    const id = bridge.id;
    if (!id || this.commandSubscriptions.has(id) || !this.deps.gateway.connected) return;
    if (source.capabilities().commands.length === 0) return;
    this.commandSubscriptions.add(id);
    const { commands, gateway, topics } = this.deps;
    const target = {
      upsId: id,
      source,
      available: () => bridge.currentAvailability === 'online',
      afterCommand: () => bridge.wake(),
    };
    await gateway.subscribe(topics.commandFilter(id), (msg) => {
      void commands.handle(target, msg);
    });
    if (commands.hasShutdownDelay(source)) {
      await gateway.subscribe(`${commands.shutdownDelayTopic(id)}/set`, (msg) => {
        void commands.handleShutdownDelay(id, msg);
      });
      await commands.publishShutdownDelay(id);
    }
  }
}
