import { commandComponents } from '../commands/ha-components.ts';
import type { CommandResult, CommandRouter, CommandTarget } from '../commands/router.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { ProtocolServerInfo, StateExtension, UpsIdentityInfo } from '../core/ports.ts';
import type { UpsSource } from '../core/source.ts';
import type { UpsState, UpsStateKey } from '../core/state.ts';
import type { DiscoveryAnnouncer } from '../ha/announcer.ts';
import type { MqttGateway } from '../mqtt/gateway.ts';
import { discoveryFilter, type Topics } from '../mqtt/topics.ts';
import { PollTicker } from './ticker.ts';
import { UpsBridge, type UpsBridgeOptions } from './ups-bridge.ts';

/**
 * Poll slots: the polls due within one slot share one wake-up of the process. A slot is
 * sized for about POLLS_PER_SLOT polls, between the two bounds: 100 UPSes at 1 s get 200 ms
 * slots (5 wake-ups a second instead of 100), 1,000 get 50 ms (50 polls per wake-up, not
 * one burst of 1,000). docs/benchmarks.md has the measurements.
 */
export const POLL_SLOT_MIN_MS = 50;
export const POLL_SLOT_MAX_MS = 200;
const POLLS_PER_SLOT = 20;

/** The slot width for polls at `rate` polls per ms in all (see POLL_SLOT_MIN_MS). */
export function pollSlotMs(rate: number): number {
  const fit = rate > 0 ? POLLS_PER_SLOT / rate : POLL_SLOT_MAX_MS;
  const rounded = Math.floor(fit / POLL_SLOT_MIN_MS) * POLL_SLOT_MIN_MS;
  return Math.min(POLL_SLOT_MAX_MS, Math.max(POLL_SLOT_MIN_MS, rounded));
}

export interface BridgeAppOptions {
  upses: {
    options: UpsBridgeOptions;
    source: UpsSource;
    /** Bridge-owned state keys for this UPS (outages, energy, the power policy). */
    extensions?: readonly StateExtension[];
  }[];
  homeassistant: { enabled: boolean; discoveryPrefix: string; statusTopic: string };
  /** Upper bound of the random wait before re-announcing on HA's birth (HA docs advise one). */
  birthDelayMaxMs?: number;
  /** Width of a poll slot (default: from the fleet's poll rate, pollSlotMs()); 0: a timer per UPS. */
  pollSlotMs?: number;
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
  /** Each UPS's bridge with the source it reads. */
  private readonly units: { bridge: UpsBridge; source: UpsSource }[] = [];
  private birthTimer: TimerHandle | undefined;
  private subscribed = false;
  private orphansChecked = false;
  private scanning = false;
  private announcing: Promise<void> = Promise.resolve();
  private readonly stopHooks: (() => Promise<void>)[] = [];
  private readonly protocolServers: ProtocolServerInfo[] = [];

  constructor(
    private readonly opts: BridgeAppOptions,
    private readonly deps: BridgeAppDeps,
  ) {}

  async start(): Promise<void> {
    const { gateway, announcer, commands, topics } = this.deps;
    announcer.setExtraComponents((upsId) => {
      const unit = this.units.find((u) => u.bridge.id === upsId);
      const identifier = unit?.bridge.deviceIdentifier;
      if (!unit || !identifier) return {};
      return commandComponents({
        upsId,
        identifier,
        baseTopic: topics.base,
        commands: commands.enabledCommands(unit.source),
        shutdownDelay: commands.hasShutdownDelay(unit.source),
      });
    });
    const ticker = this.pollTicker();
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
          await this.attachCommands(bridge, ups.source);
        },
      };
      // Spread first polls across one interval: 1,000 UPSes polled in one burst each second
      // queue their replies and stretch the publish delay (docs/benchmarks.md). The ticker
      // then runs the polls that fall in the same slot on one wake-up.
      const index = this.units.length;
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
          ...(ticker ? { ticker } : {}),
          ...(ups.extensions ? { extensions: ups.extensions } : {}),
        },
      );
      this.units.push({ bridge, source: ups.source });
    }
    gateway.onConnected(() => {
      this.announcing = this.announcing.then(() => this.onConnected());
      return this.announcing;
    });
    gateway.start();
    await Promise.all(this.units.map((u) => u.bridge.start()));
  }

  /**
   * The fleet's poll ticker, or none for one UPS (nothing to group) or slot 0. A slot may
   * start twice its share of the fleet's polls, at least 16: enough to catch up after a stall
   * without polling everyone in one burst.
   */
  private pollTicker(): PollTicker | undefined {
    const { upses } = this.opts;
    const rate = upses.reduce((sum, u) => sum + 1 / u.options.pollIntervalMs, 0);
    const slotMs = this.opts.pollSlotMs ?? pollSlotMs(rate);
    if (slotMs <= 0 || upses.length < 2) return undefined;
    const perSlot = rate * slotMs;
    const maxPerTick = Math.max(16, Math.ceil(2 * perSlot));
    return new PollTicker({ slotMs, maxPerTick, clock: this.deps.clock });
  }

  /** The per-UPS bridges, in configuration order. */
  get bridges(): readonly UpsBridge[] {
    return this.units.map((u) => u.bridge);
  }

  /**
   * Runs a command for a UPS from a local front end (the demo's keys) through the command
   * router's guards, exactly as if it came over MQTT.
   */
  async runCommand(index: number, name: string): Promise<CommandResult | undefined> {
    const unit = this.units[index];
    const target = unit && this.targetOf(unit.bridge, unit.source);
    if (!target) return undefined;
    return this.deps.commands.execute(target, { name, origin: 'local' });
  }

  /**
   * The command router's view of one UPS by id (the NUT server's INSTCMD goes through it);
   * undefined until the UPS's id is known or for an unknown id.
   */
  commandTarget(upsId: string): CommandTarget | undefined {
    const unit = this.units.find((u) => u.bridge.id === upsId);
    return unit && this.targetOf(unit.bridge, unit.source);
  }

  /** Lists a running protocol server (NIS, NUT) for /metrics. */
  addServer(server: ProtocolServerInfo): void {
    this.protocolServers.push(server);
  }

  /** The protocol servers running, with their counters. */
  get servers(): readonly ProtocolServerInfo[] {
    return this.protocolServers;
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
    await Promise.all(this.units.map((u) => u.bridge.stop()));
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
    return this.units.every((u) => u.bridge.currentAvailability === 'online');
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
        // A device deleted in Home Assistant stays deleted until restart (the announcer
        // decides); the retained configs this brings back on subscribe are not empty.
        await gateway.subscribe(discoveryFilter(ha.discoveryPrefix), (msg) => {
          announcer.noteDiscoveryMessage(msg.topic, msg.payload);
        });
      }
    }
    announcer.reset();
    if (ha.enabled) {
      this.scanning = true;
      const found = await gateway
        .scanRetained(discoveryFilter(ha.discoveryPrefix), this.deps.topics.bridgeSync())
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
    for (const u of this.units) await this.attachCommands(u.bridge, u.source);
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
    for (const u of this.units) await u.bridge.announce();
  }

  /** Once every UPS has its id, clear retained devices of UPSes no longer configured. */
  private async maybeRemoveOrphans(): Promise<void> {
    if (this.orphansChecked || !this.opts.homeassistant.enabled) return;
    if (!this.deps.gateway.connected) return;
    const ids = this.units.map((u) => u.bridge.id);
    if (ids.some((id) => id === undefined)) return;
    this.orphansChecked = true;
    await this.deps.announcer.removeOrphans(new Set(ids as string[]));
  }

  /** The command router's view of one UPS, once its id is known. */
  private targetOf(bridge: UpsBridge, source: UpsSource): CommandTarget | undefined {
    const upsId = bridge.id;
    if (!upsId) return undefined;
    return {
      upsId,
      source,
      available: () => bridge.currentAvailability === 'online',
      afterCommand: () => bridge.wake(),
    };
  }

  private async attachCommands(bridge: UpsBridge, source: UpsSource): Promise<void> {
    const target = this.targetOf(bridge, source);
    if (!target || !this.deps.gateway.connected) return;
    await this.deps.commands.attach(this.deps.gateway, target);
  }
}
