/**
 * Contracts shared between the per-UPS bridge and the modules around it (commands, Home
 * Assistant discovery, the HTTP endpoint, the protocol servers). They live here so that
 * those modules depend on `core/` only; `bridge/` implements them and `cli/` wires them.
 */
import type { UpsEvent } from './events.ts';
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

/**
 * One UPS as the modules around the bridge read it (protocol servers, power policy):
 * a read-only slice of UpsBridge, which satisfies it structurally.
 */
export interface UpsFeed {
  /** Configured id, or the slugified serial once the first reading arrived. */
  readonly id: string | undefined;
  readonly name: string | undefined;
  readonly currentAvailability: Availability | undefined;
  /** The last published state (the reduced one while unavailable). */
  readonly state: UpsState | undefined;
  /** Called after every change of published state or availability. Returns unsubscribe. */
  onChange(listener: () => void): () => void;
  /** Called with every event of this UPS as it is published. Returns unsubscribe. */
  onEvent(listener: (event: UpsEvent) => void): () => void;
}

/**
 * What the power policy needs from the NUT server: raise NUT's forced-shutdown flag (`FSD`
 * in `ups.status`) so secondary upsmon clients shut their hosts down first, and know how
 * many of them are still logged in.
 */
export interface ForcedShutdownNotifier {
  /** Sets (or, after the outage, clears) FSD for this UPS's NUT clients. */
  setForcedShutdown(upsId: string, on: boolean): void;
  /** upsmon secondaries logged in to this UPS now (NUT's LOGIN count, primary excluded). */
  secondaryLogins(upsId: string): number;
}

/** What the bridge tells a state extension besides the state itself. */
export interface ExtensionContext {
  /** The UPS id (configured, or from the serial): known before any state is published. */
  upsId: string;
}

/**
 * Adds bridge-owned keys to the state of one UPS before it is published (outage figures,
 * energy, the power policy's `shutdown_state`). `good` is false for the reduced state
 * published while the UPS cannot be read. Extensions mutate `state`; they must not do
 * network I/O or wait for anything (a small synchronous file write on a rare transition is
 * fine: it makes the persisted state precede what is published).
 * Only `extend` is required; the other members are optional additions.
 */
export interface StateExtension {
  extend(state: UpsState, good: boolean, ctx?: ExtensionContext): void;
  /**
   * Events raised by the `extend` calls since the last drain; the bridge publishes them
   * right after the state they belong to.
   */
  events?(): UpsEvent[];
  /** Keys this extension adds, discovered from the start so their entities do not come and go. */
  readonly stickyKeys?: readonly UpsStateKey[];
  /** Called once when the bridge stops, after the last publish: persist what must survive. */
  stop?(): void;
}

/** Counters of one protocol server (NIS, NUT), for /metrics. */
export interface ProtocolServerStats {
  /** Connections accepted since start. */
  connections: number;
  /** Connections closed at once because the client limit was reached. */
  rejected: number;
  /** Requests answered. */
  requests: number;
  /** Connections open now. */
  active: number;
}

/** One running protocol server as /metrics lists it. */
export interface ProtocolServerInfo {
  /** `nis` or `nut`. */
  readonly protocol: string;
  readonly port: number;
  readonly stats: Readonly<ProtocolServerStats>;
}

/** The power policy's modes (`shutdown.mode`). */
export type ShutdownMode = 'off' | 'notify' | 'dry_run' | 'act';

/** `shutdown.*` of one UPS, resolved from the config: times in ms, `ups_command: none` as null. */
export interface ShutdownSettings {
  mode: ShutdownMode;
  onBatteryForMs: number | null;
  batteryChargePct: number | null;
  runtimeS: number | null;
  secondariesGraceMs: number;
  command: string[];
  commandTimeoutMs: number;
  graceMs: number;
  upsCommand: string | null;
}
