/**
 * Contracts shared between the per-UPS bridge and the modules around it (commands, Home
 * Assistant discovery, the HTTP endpoint, the protocol servers). They live here so that
 * those modules depend on `core/` only; `bridge/` implements them and `cli/` wires them.
 */
import type { UpsState, UpsStateKey } from './state.ts';

/** How one MQTT message is published. */
export interface PublishOptions {
  retain: boolean;
  qos?: 0 | 1;
  /** Keep the message (bounded) while disconnected and send it after reconnecting. */
  queueWhileOffline?: boolean;
}

/** What modules that publish need from the MQTT gateway. */
export interface Publisher {
  publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<boolean>;
}

/** Per-UPS availability as published on `<base>/<ups_id>/availability`. */
export type Availability = 'online' | 'offline';

/** Counters for /metrics and the status page. */
export interface UpsBridgeStats {
  polls: number;
  pollErrors: number;
  statePublishes: number;
  events: number;
  /** Duration of the last successful read, ms. */
  lastReadMs: number;
  /** Epoch ms of the last successful reading (0: none yet). */
  lastReadingAt: number;
}

/** Who a UPS is in topics and in Home Assistant. */
export interface UpsIdentityInfo {
  upsId: string;
  /** Device identifier in Home Assistant: from the serial, else from the id. */
  deviceIdentifier: string;
  name: string;
}

/** Builds and publishes discovery for one UPS; implemented in src/ha/announcer.ts. */
export interface DiscoveryPublisher {
  /** Called after a good reading when the set of keys seen grew or the identity changed. */
  update(ups: UpsIdentityInfo, state: UpsState, keys: ReadonlySet<UpsStateKey>): Promise<void>;
}
