import type { UpsData } from '../../core/state.ts';
import type { AlertChar } from './framing.ts';
import { TRANSFER_REASONS } from './map.ts';

/**
 * What alerts and a running self-test do to the state between two reads of `Q`. Pure.
 */

/**
 * The state an alert announces (docs/protocols/apcsmart.md#alert-characters), applied at once so the bridge
 * publishes it without waiting for the next poll. `*` (load about to go off), `&`
 * (Measure-UPS alarm) and `|` (EEPROM changed) change no flag: they only wake the bridge.
 */
export const ALERT_EFFECTS: Readonly<Record<AlertChar, Readonly<UpsData>>> = {
  '!': { online: false, on_battery: true, discharging: true },
  $: { online: true, on_battery: false, discharging: false },
  '%': { low_battery: true },
  '+': { low_battery: false },
  // NUT reads `?` as "overload on"; `=` clears it.
  '?': { overload: true },
  '=': { overload: false },
  '#': { replace_battery: true },
  '*': {},
  '&': {},
  '|': {},
};

/** `data` with the effects of `alerts` applied in order. */
export function applyAlerts(data: UpsData, alerts: readonly AlertChar[]): UpsData {
  let out = data;
  for (const a of alerts) out = { ...out, ...ALERT_EFFECTS[a] };
  return out;
}

/**
 * An action this source started that runs on battery (a self-test, a runtime calibration) and
 * has not been seen to end yet.
 */
export interface BatteryEpisode {
  startedAt: number;
  /** The unit went on battery for it (it does: `!` … `$`, docs/protocols/apcsmart.md#actions). */
  sawBattery: boolean;
}

/** An episode that never shows on battery within this time is taken as not started. */
export const EPISODE_START_GRACE_MS = 30_000;

/**
 * The episode after one more reading: it ends when the unit is back on line after having
 * been on battery, or when it never went on battery within the grace time.
 */
export function followEpisode(
  episode: BatteryEpisode | undefined,
  onBattery: boolean | undefined,
  now: number,
): BatteryEpisode | undefined {
  if (episode === undefined || onBattery === undefined) return episode;
  const sawBattery = episode.sawBattery || onBattery;
  if (sawBattery && !onBattery) return undefined;
  if (!sawBattery && now - episode.startedAt > EPISODE_START_GRACE_MS) return undefined;
  return { startedAt: episode.startedAt, sawBattery };
}

/**
 * Marks a running self-test. While a test this source started runs, `self_test_result` is
 * `in_progress` (`X` still holds the previous result). Otherwise a test (also one started at
 * the front panel or by the UPS's own schedule) shows as "on battery, last transfer: self
 * test" (docs/mqtt.md#keys).
 */
export function markSelfTest(data: UpsData, running: BatteryEpisode | undefined): UpsData {
  if (running !== undefined) {
    return { ...data, test_in_progress: true, self_test_result: 'in_progress' };
  }
  if (data.on_battery === undefined) return data;
  const selfTest = data.last_transfer_reason === TRANSFER_REASONS.S;
  return { ...data, test_in_progress: data.on_battery && selfTest };
}
