import type { Logger } from '../core/log.ts';
import type { DiscoveryPublisher, Publisher, UpsIdentityInfo } from '../core/ports.ts';
import type { UpsState, UpsStateKey } from '../core/state.ts';
import { discoveryTopic, discoveryUpsId, Topics } from '../mqtt/topics.ts';
import { buildDeviceDiscovery, type ComponentConfig, stableStringify } from './discovery.ts';

export interface AnnouncerOptions {
  discoveryPrefix: string;
  baseTopic: string;
  origin: { name: string; swVersion: string; supportUrl: string };
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
 * components that no longer exist (HA's `{"p": …}` step, homeassistant.md §1.4), and
 * clears retained devices of UPSes this bridge no longer serves (§1.5, §7 item 8).
 */
export class DiscoveryAnnouncer implements DiscoveryPublisher {
  private readonly published = new Map<string, string>();
  private previous = new Map<string, RetainedDevice>();
  private readonly loggedSkips = new Set<string>();
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
    const extra = this.extra(ups.upsId);
    const base = {
      upsId: ups.upsId,
      discoveryPrefix: this.opts.discoveryPrefix,
      baseTopic: this.opts.baseTopic,
      state,
      stickyFields: [...keys],
      device: deviceBlock(ups, state),
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
    await this.publisher.publish(msg.topic, text, { retain: true, qos: 1 });
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

function deviceBlock(ups: UpsIdentityInfo, state: UpsState) {
  const d: {
    identifier: string;
    name: string;
    manufacturer?: string;
    model?: string;
    serialNumber?: string;
    swVersion?: string;
  } = { identifier: ups.deviceIdentifier, name: ups.name };
  if (state.manufacturer) d.manufacturer = state.manufacturer;
  if (state.model) d.model = state.model.trim();
  if (state.serial_number) d.serialNumber = state.serial_number.trim();
  if (state.firmware) d.swVersion = state.firmware.trim();
  return d;
}
