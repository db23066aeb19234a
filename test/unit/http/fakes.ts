/**
 * A hand-driven bridge for the HTTP endpoint's tests: plain objects that implement the
 * view interfaces the real BridgeApp/UpsBridge satisfy, with a way to fire onChange.
 */
import pino from 'pino';
import type { Logger } from '../../../src/core/log.ts';
import type { UpsBridgeStats } from '../../../src/core/ports.ts';
import type { UpsState } from '../../../src/core/state.ts';
import type { BridgeView, MqttStatsView, UpsView } from '../../../src/http/view.ts';

export class FakeUps implements UpsView {
  id: string | undefined;
  name: string | undefined;
  currentAvailability: 'online' | 'offline' | undefined;
  state: UpsState | undefined;
  sourceDescription: string;
  readonly stats: UpsBridgeStats = {
    polls: 0,
    pollErrors: 0,
    statePublishes: 0,
    events: 0,
    lastReadMs: 0,
    lastReadingAt: 0,
  };
  private readonly listeners = new Set<() => void>();

  constructor(
    init: Partial<Pick<FakeUps, 'id' | 'name' | 'currentAvailability' | 'state'>> & {
      source?: string;
    },
  ) {
    this.id = init.id;
    this.name = init.name;
    this.currentAvailability = init.currentAvailability;
    this.state = init.state;
    this.sourceDescription = init.source ?? 'sim://test';
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Number of subscribed listeners (to prove stop() unsubscribes). */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Sets a new state and notifies, as UpsBridge does after a publish. */
  publish(state: UpsState | undefined, availability: 'online' | 'offline' = 'online'): void {
    this.state = state;
    this.currentAvailability = availability;
    for (const l of this.listeners) l();
  }
}

export class FakeBridge implements BridgeView {
  mqttConnected = true;
  mqttStats: MqttStatsView = { publishes: 0, publishFailures: 0, dropped: 0, connects: 0 };
  constructor(public bridges: FakeUps[]) {}
}

/** An online Smart-UPS state with the four charted values. */
export function onlineState(over: Partial<UpsState> = {}): UpsState {
  return {
    status: 'online',
    online: true,
    on_battery: false,
    model: 'Smart-UPS 1500',
    serial_number: 'AS1234567890',
    battery_charge_pct: 100,
    runtime_s: 3000,
    load_pct: 18,
    load_w: 180,
    input_voltage_v: 230.4,
    updated_at: '2026-11-21T10:00:00.000Z',
    ...over,
  };
}

/** A logger that drops everything, and one that records. */
export const silentLogger: Logger = pino({ level: 'silent' });

export { captureLogger as recordingLogger } from '../../helpers/log-capture.ts';
