/**
 * Discrete UPS events, published non-retained on `ups2mqtt/<ups_id>/event` and offered to
 * Home Assistant as an `event` entity (docs/homeassistant.md#buttons-numbers-and-events).
 */
export const EVENT_TYPES = [
  'power_lost',
  'power_restored',
  'outage_started',
  'outage_ended',
  'on_battery',
  'low_battery',
  'battery_ok',
  'replace_battery',
  'overload',
  'self_test_started',
  'self_test_completed',
  'shutdown_initiated',
  'shutdown_cancelled',
  'comm_lost',
  'comm_restored',
  'battery_disconnected',
  'battery_reattached',
  'command_executed',
  'command_refused',
  'daemon_started',
  'daemon_stopped',
  'other',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface UpsEvent {
  event_type: EventType;
  /** ISO 8601 with offset: when it happened (the source's time where it has one). */
  at: string;
  /** Human text, e.g. apcupsd's event-log line. */
  message?: string;
  /** Where the event was learned: the daemon's own log, or a state change seen by the bridge. */
  origin: 'source_log' | 'state_change' | 'bridge';
  /** For command events: the command name and the result code. */
  command?: string;
  code?: string;
  transaction?: string;
  /** True when it happened while a battery self-test was running. */
  during_self_test?: boolean;
  /** Outage events: outages counted so far, this one included. */
  outages_total?: number;
  /** `outage_ended`: when the outage began (its end is `at`). */
  started_at?: string;
  /** `outage_ended`: how long it lasted, whole seconds. */
  duration_s?: number;
  /** Outage events: lowest battery charge seen so far in the outage (at its start: the charge then). */
  min_charge_pct?: number;
}
