/**
 * `GET api/status[?since=MS]`: what the status page polls. One JSON document with the
 * bridge's health, one entry per UPS (the values its card shows) and the chart points newer
 * than `since` (the whole window when absent), so the page sends one small request per
 * refresh and works unchanged behind Home Assistant's ingress proxy.
 */
import type { UpsState } from '../core/state.ts';
import { evaluateHealth, type HealthOptions, type HealthReport } from './health.ts';
import { HISTORY_SERIES, type HistoryPoint } from './history.ts';
import type { HistoryRecorder } from './recorder.ts';
import { type BridgeView, upsKey } from './view.ts';

/** State keys a card shows (besides the charted ones). */
export const CARD_KEYS = [
  'status',
  'status_text',
  'model',
  'serial_number',
  'battery_charge_pct',
  'runtime_s',
  'load_pct',
  'load_w',
  'input_voltage_v',
  'output_voltage_v',
  'input_frequency_hz',
  'battery_voltage_v',
  'internal_temp_c',
  'on_battery',
  'low_battery',
  'replace_battery',
  'charging',
  'last_transfer_reason',
  'time_on_battery_s',
  'updated_at',
] as const satisfies readonly (keyof UpsState)[];

/** The subset of the state a card shows. */
export type CardState = Partial<Pick<UpsState, (typeof CARD_KEYS)[number]>>;

/** One UPS in api/status. */
export interface UpsStatusJson {
  key: string;
  id: string | null;
  name: string;
  source: string;
  availability: 'online' | 'offline' | 'unknown';
  state: CardState;
  /** ISO time of the last good reading, or null. */
  last_reading_at: string | null;
  points: HistoryPoint[];
}

/** The api/status document. */
export interface StatusJson {
  version: string;
  /** Server time (epoch ms): the page's "now" for the chart and the next `since`. */
  now: number;
  health: HealthReport;
  history: {
    window_s: number;
    resolution_s: number;
    series: { key: string; label: string; unit: string; min: number | null; max: number | null }[];
  };
  upses: UpsStatusJson[];
}

/** Options of buildStatusJson. */
export interface StatusJsonOptions extends HealthOptions {
  version: string;
  /** Only chart points after this time (epoch ms). */
  since?: number;
}

function cardState(state: UpsState | undefined): CardState {
  const out: Record<string, unknown> = {};
  if (!state) return out;
  for (const key of CARD_KEYS) {
    const value = state[key];
    if (value !== undefined) out[key] = value;
  }
  return out as CardState;
}

/** Builds the api/status document. */
export function buildStatusJson(
  view: BridgeView,
  recorder: HistoryRecorder,
  now: number,
  opts: StatusJsonOptions,
): StatusJson {
  return {
    version: opts.version,
    now,
    health: evaluateHealth(view, now, opts),
    history: {
      window_s: recorder.windowMs / 1000,
      resolution_s: recorder.resolutionMs / 1000,
      series: HISTORY_SERIES.map((s) => ({ ...s })),
    },
    upses: view.bridges.map((ups, i) => {
      const key = upsKey(ups, i);
      return {
        key,
        id: ups.id ?? null,
        name: ups.name ?? ups.state?.model ?? key,
        source: ups.sourceDescription,
        availability: ups.currentAvailability ?? 'unknown',
        state: cardState(ups.state),
        last_reading_at:
          ups.stats.lastReadingAt > 0 ? new Date(ups.stats.lastReadingAt).toISOString() : null,
        points: recorder.historyOf(ups)?.since(opts.since) ?? [],
      };
    }),
  };
}
