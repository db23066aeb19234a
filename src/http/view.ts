/**
 * What the HTTP endpoint reads from the running bridge. BridgeApp and UpsBridge satisfy
 * these interfaces structurally, so the endpoint never imports the bridge's classes and its
 * tests can hand it a plain object.
 */
import type { ProtocolServerInfo, UpsBridgeStats } from '../core/ports.ts';
import type { UpsState } from '../core/state.ts';

/** One UPS as the endpoint sees it (a read-only slice of UpsBridge). */
export interface UpsView {
  /** Configured id, or the slugified serial once the first reading arrived. */
  readonly id: string | undefined;
  readonly name: string | undefined;
  readonly currentAvailability: 'online' | 'offline' | undefined;
  /** The last published state (the reduced one while unavailable). */
  readonly state: UpsState | undefined;
  readonly stats: Readonly<UpsBridgeStats>;
  /** The source URI without secrets. */
  readonly sourceDescription: string;
  /** Called after every publish of this UPS's state; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/** The gateway's counters (MqttGateway.stats). */
export interface MqttStatsView {
  readonly publishes: number;
  readonly publishFailures: number;
  readonly dropped: number;
  readonly connects: number;
}

/** The bridge as the endpoint sees it (a read-only slice of BridgeApp). */
export interface BridgeView {
  readonly bridges: readonly UpsView[];
  readonly mqttConnected: boolean;
  readonly mqttStats: Readonly<MqttStatsView>;
  /** The protocol servers running (NIS, NUT), each with its counters; absent when none. */
  readonly servers?: readonly ProtocolServerInfo[];
}

/**
 * The key a UPS is listed under (metrics label, JSON key, page element): its id, or
 * `ups<N>` (1-based position in the configuration) until the id is known from the serial.
 */
export function upsKey(ups: UpsView, index: number): string {
  return ups.id ?? `ups${index + 1}`;
}
