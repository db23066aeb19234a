import type { Logger } from '../core/log.ts';
import type { DiscoveryPublisher, Publisher, UpsIdentityInfo } from '../core/ports.ts';
import type { UpsState, UpsStateKey } from '../core/state.ts';
import { discoveryTopic, discoveryUpsId, Topics } from '../mqtt/topics.ts';
import {
  buildDeviceDiscovery,
  type ComponentConfig,
  type DiscoveryInput,
  stableStringify,
} from './discovery.ts';

export interface AnnouncerOptions {
  discoveryPrefix: string;
  baseTopic: string;
  origin: { name: string; swVersion: string; supportUrl: string };
  /**
   * The status page as Home Assistant can reach it (see statusPageUrl in src/http/server.ts),
   * or undefined when it cannot: then the device gets no "Visit" link.
   */
  configurationUrl?: string | undefined;
}

/** A retained discovery config found on the broker that this bridge published earlier. */
export interface RetainedDevice {
  upsId: string;
  topic: string;
  /** cmps key → platform. */
  components: Record<string, string>;
}

/** Command buttons and other components contributed by other modules, per UPS. */
export type ExtraComponents = (upsId: string) => Record<string, ComponentConfig>;

/**
 * Publishes device discovery for each UPS when its stable string changes, removes
 * components that no longer exist (HA's `{"p": …}` step, docs/homeassistant.md#discovery-topic-and-payload), and
 * clears retained devices of UPSes this bridge no longer serves (docs/homeassistant.md#birth-retain-and-restarts, docs/homeassistant.md#pitfalls).
 */
export class DiscoveryAnnouncer implements DiscoveryPublisher {
  private readonly published = new Map<string, string>();
  private previous = new Map<string, RetainedDevice>();
  private readonly loggedSkips = new Set<string>();
  /** UPSes whose discovery this process has published (never cleared). */
  private readonly announced = new Set<string>();
  /** UPSes the user deleted in Home Assistant; not re-announced until the bridge restarts. */
  private readonly deletedByUser = new Set<string>();
  private extra: ExtraComponents = () => ({});
  private readonly topics: Topics;

  constructor(
    private readonly opts: AnnouncerOptions,
    private readonly publisher: Publisher,
    private readonly logger: Logger,
  ) {
    this.topics = new Topics(opts.baseTopic);
  }

  /** Sets the provider of extra components (command buttons). */
  setExtraComponents(fn: ExtraComponents): void {
    this.extra = fn;
  }

  /** Forget what was published, so the next update() publishes again (reconnect, HA birth). */
  reset(): void {
    this.published.clear();
  }

  /** What a scan of the broker found; used for component removal and orphan cleanup. */
  setPrevious(devices: RetainedDevice[]): void {
    this.previous = new Map(devices.map((d) => [d.upsId, d]));
  }

  async update(
    ups: UpsIdentityInfo,
    state: UpsState,
    keys: ReadonlySet<UpsStateKey>,
  ): Promise<void> {
    if (this.deletedByUser.has(ups.upsId)) return;
    const extra = this.extra(ups.upsId);
    const base = {
      upsId: ups.upsId,
      discoveryPrefix: this.opts.discoveryPrefix,
      baseTopic: this.opts.baseTopic,
      state,
      stickyFields: [...keys],
      device: deviceBlock(ups, state, this.opts.configurationUrl),
      origin: this.opts.origin,
      extraComponents: extra,
    };
    const msg = buildDeviceDiscovery(base);
    const before = this.previous.get(ups.upsId);
    if (before) {
      const removed: Record<string, string> = {};
      for (const [key, platform] of Object.entries(before.components)) {
        if (!(key in msg.payload.cmps)) removed[key] = platform;
      }
      this.previous.delete(ups.upsId);
      if (Object.keys(removed).length > 0) {
        this.logger.info(
          { ups: ups.upsId, removed: Object.keys(removed) },
          'removing Home Assistant entities that no longer exist',
        );
        const withStubs = buildDeviceDiscovery({ ...base, removedComponents: removed });
        await this.publisher.publish(withStubs.topic, stableStringify(withStubs.payload), {
          retain: true,
          qos: 1,
        });
      }
    }
    for (const s of msg.skipped) {
      const k = `${ups.upsId}:${s.field}`;
      if (this.loggedSkips.has(k)) continue;
      this.loggedSkips.add(k);
      this.logger.info(
        { ups: ups.upsId, field: s.field, reason: s.reason },
        'field not offered to Home Assistant',
      );
    }
    const text = stableStringify(msg.payload);
    if (this.published.get(ups.upsId) === text) return;
    this.published.set(ups.upsId, text);
    this.announced.add(ups.upsId);
    await this.publisher.publish(msg.topic, text, { retain: true, qos: 1 });
  }

  /**
   * Watches the discovery topics live. Home Assistant deletes an MQTT device by publishing an
   * empty retained payload on its discovery topic; when that happens to a UPS this process
   * announced, the deletion is honoured: no discovery for that UPS (not on reconnect, not on
   * Home Assistant's birth) until ups2mqtt restarts. State and availability go on being
   * published for other consumers. Returns the UPS id when a deletion was noticed.
   * Policy and how to remove a UPS for good: docs/mqtt.md#deleting-a-device-in-home-assistant.
   */
  noteDiscoveryMessage(topic: string, payload: Buffer): string | undefined {
    if (payload.length !== 0) return undefined;
    const upsId = discoveryUpsId(this.opts.discoveryPrefix, topic);
    if (upsId === undefined || !this.announced.has(upsId) || this.deletedByUser.has(upsId)) {
      return undefined;
    }
    this.deletedByUser.add(upsId);
    this.published.delete(upsId);
    this.logger.info(
      { ups: upsId },
      'the device was deleted in Home Assistant: not re-creating it until ups2mqtt restarts ' +
        '(remove the UPS from the configuration to keep it away for good)',
    );
    return upsId;
  }

  /** True when the user deleted this UPS's device in Home Assistant during this run. */
  isDeletedByUser(upsId: string): boolean {
    return this.deletedByUser.has(upsId);
  }

  /**
   * Clears retained discovery, state and availability of UPSes found on the broker that
   * are not in `currentIds` (a UPS removed from the config leaves no ghost device).
   */
  async removeOrphans(currentIds: ReadonlySet<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const dev of this.previous.values()) {
      if (currentIds.has(dev.upsId)) continue;
      this.logger.info(
        { ups: dev.upsId },
        'removing a UPS this bridge no longer serves from Home Assistant',
      );
      await this.publisher.publish(dev.topic, '', { retain: true, qos: 1 });
      await this.publisher.publish(this.topics.state(dev.upsId), '', {
        retain: true,
        qos: 1,
      });
      await this.publisher.publish(this.topics.availability(dev.upsId), '', {
        retain: true,
        qos: 1,
      });
      removed.push(dev.upsId);
    }
    for (const id of removed) this.previous.delete(id);
    return removed;
  }

  /** Recognises one of our retained device configs; undefined for anything else. */
  parseRetained(topic: string, payload: Buffer): RetainedDevice | undefined {
    const upsId = discoveryUpsId(this.opts.discoveryPrefix, topic);
    if (upsId === undefined || payload.length === 0) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return undefined;
    }
    if (typeof json !== 'object' || json === null) return undefined;
    const obj = json as { o?: { name?: unknown }; stat_t?: unknown; cmps?: unknown };
    // Only configs of this bridge: our origin name and our base topic.
    if (obj.o?.name !== this.opts.origin.name) return undefined;
    if (typeof obj.stat_t !== 'string' || !this.topics.isUnderBase(obj.stat_t)) return undefined;
    if (discoveryTopic(this.opts.discoveryPrefix, upsId) !== topic) return undefined;
    const components: Record<string, string> = {};
    if (typeof obj.cmps === 'object' && obj.cmps !== null) {
      for (const [key, value] of Object.entries(obj.cmps as Record<string, unknown>)) {
        const p = (value as { p?: unknown } | null)?.p;
        if (typeof p === 'string') components[key] = p;
      }
    }
    return { upsId, topic, components };
  }
}

/**
 * The device block, filled like Home Assistant's core apcupsd integration fills its own
 * (docs/homeassistant.md#device-block): the UPS firmware is the hardware version, the
 * monitoring daemon's version the software version, APCMODEL the model id.
 */
function deviceBlock(
  ups: UpsIdentityInfo,
  state: UpsState,
  configurationUrl: string | undefined,
): DiscoveryInput['device'] {
  const d: DiscoveryInput['device'] = { identifier: ups.deviceIdentifier, name: ups.name };
  const text = (v: string | undefined): string | undefined => v?.trim() || undefined;
  const set = <K extends keyof DiscoveryInput['device']>(k: K, v: string | undefined) => {
    if (v !== undefined) d[k] = v as DiscoveryInput['device'][K];
  };
  set('manufacturer', text(state.manufacturer));
  set('model', text(state.model));
  set('modelId', text(state.apc_model));
  set('serialNumber', text(state.serial_number));
  set('hwVersion', text(state.firmware));
  set('swVersion', text(state.daemon_version));
  set('configurationUrl', configurationUrl);
  return d;
}
