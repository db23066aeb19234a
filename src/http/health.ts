/**
 * `GET /healthz`: healthy when the MQTT broker is connected and every UPS is fresh. Pure:
 * the server passes the bridge view and the time; the Docker HEALTHCHECK, the add-on and
 * systemd users read the verdict, people read the reasons.
 */
import { type BridgeView, upsKey } from './view.ts';

/** Why the bridge is not healthy. One reason per problem, never branched on by text. */
export type HealthReasonCode =
  | 'mqtt_disconnected'
  | 'no_ups'
  | 'ups_not_read_yet'
  | 'ups_unavailable'
  | 'ups_stale';

/** One problem found by evaluateHealth. */
export interface HealthReason {
  code: HealthReasonCode;
  /** The UPS key (see upsKey) when the reason concerns one UPS. */
  ups?: string;
  message: string;
}

/** One UPS in the health report. */
export interface UpsHealth {
  ups: string;
  availability: 'online' | 'offline' | 'unknown';
  /** Seconds since the bridge last read the UPS successfully; null before the first reading. */
  last_reading_age_s: number | null;
}

/** The JSON body of /healthz. */
export interface HealthReport {
  status: 'ok' | 'unhealthy';
  mqtt: { connected: boolean };
  upses: UpsHealth[];
  reasons: HealthReason[];
}

/** Thresholds of evaluateHealth. */
export interface HealthOptions {
  /**
   * A UPS whose last good reading is older than this counts as stale even if the bridge has
   * not marked it unavailable yet (a backstop; the bridge's own watchdog usually fires first).
   */
  staleAfterMs: number;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

/** Evaluates the bridge's health at `now` (epoch ms). */
export function evaluateHealth(view: BridgeView, now: number, opts: HealthOptions): HealthReport {
  const reasons: HealthReason[] = [];
  if (!view.mqttConnected) {
    reasons.push({ code: 'mqtt_disconnected', message: 'not connected to the MQTT broker' });
  }
  if (view.bridges.length === 0) {
    reasons.push({ code: 'no_ups', message: 'no UPS is configured' });
  }
  const upses = view.bridges.map((ups, i): UpsHealth => {
    const key = upsKey(ups, i);
    const lastAt = ups.stats.lastReadingAt;
    const age = lastAt > 0 ? Math.max(0, now - lastAt) : null;
    if (age === null) {
      reasons.push({ code: 'ups_not_read_yet', ups: key, message: `${key}: not read yet` });
    } else if (ups.currentAvailability !== 'online') {
      reasons.push({
        code: 'ups_unavailable',
        ups: key,
        message: `${key}: unavailable (the source does not answer or its data is too old)`,
      });
    } else if (age > opts.staleAfterMs) {
      reasons.push({
        code: 'ups_stale',
        ups: key,
        message: `${key}: last reading ${round1(age / 1000)} s ago`,
      });
    }
    return {
      ups: key,
      availability: ups.currentAvailability ?? 'unknown',
      last_reading_age_s: age === null ? null : round1(age / 1000),
    };
  });
  return {
    status: reasons.length === 0 ? 'ok' : 'unhealthy',
    mqtt: { connected: view.mqttConnected },
    upses,
    reasons,
  };
}
