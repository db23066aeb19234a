/**
 * The simulator's state and the conditions that follow from it (on battery, online,
 * charging, load, runtime). Plain immutable data and pure queries; model.ts moves it
 * through time and transitions.ts changes it.
 */

import type { SelfTestResult } from '../../core/state.ts';
import { runtimeSeconds, type SimConfig } from './physics.ts';

/** Beeper policy, worded as NUT's `ups.beeper.status`. A mute lasts until the UPS is back on mains. */
export type BeeperMode = 'enabled' | 'disabled' | 'muted';

/**
 * The output: on, off until `load.on` (stay-off, load.off), or off until mains has been back
 * for WAKE_DELAY_S with the charge at RESTART_CHARGE_PCT (battery exhausted, shutdown.return).
 */
export type OutputMode = 'on' | 'off_stay' | 'off_return';

/** A battery test that holds the unit on battery while mains is present. */
export type SimTest = { kind: 'quick'; remainingMs: number } | { kind: 'calibration' };

/** A shutdown.return / shutdown.stayoff waiting for its grace delay. */
export interface PendingShutdown {
  mode: 'return' | 'stayoff';
  remainingMs: number;
}

/** Everything that changes. Times of day are ISO strings; durations are simulated ms. */
export interface SimState {
  readonly config: SimConfig;
  /** Generator state (prng.ts). */
  readonly rng: number;
  /** Simulated time since the model was created. */
  readonly elapsedMs: number;
  readonly mainsPresent: boolean;
  readonly chargePct: number;
  /** The load the user asked for (`load` parameter)… */
  readonly loadSetPct: number;
  /** …and the current slow drift around it. */
  readonly loadDriftPct: number;
  readonly tempC: number;
  /** Last sampled mains voltage (noisy), 0 without mains. */
  readonly inputVoltageV: number;
  readonly beeper: BeeperMode;
  readonly output: OutputMode;
  /** How long the wake conditions of `off_return` have held without a break. */
  readonly wakeHeldMs: number;
  readonly test: SimTest | null;
  readonly pendingShutdown: PendingShutdown | null;
  readonly selfTestResult: SelfTestResult;
  readonly lastSelfTestAt: string | null;
  readonly transfers: number;
  /** Length of the current on-battery stint (0 on mains). */
  readonly onBatteryMs: number;
  readonly cumulativeOnBatteryMs: number;
  readonly lastOnBatteryAt: string | null;
  readonly lastOffBatteryAt: string | null;
  /** apcupsd's LASTXFER wording (docs/protocols/nis.md#status-fields). */
  readonly lastTransferReason: string;
  /** How far the scripted outage has got: 0 none yet, 1 failed, 2 restored. */
  readonly scriptStage: 0 | 1 | 2;
}

/** Where a new model starts. */
export interface SimInitial {
  chargePct: number;
  loadPct: number;
  seed: number;
}

/** Transfer reasons, in apcupsd's words (docs/protocols/nis.md#status-fields, LASTXFER). */
export const TRANSFER_REASONS = {
  none: 'No transfers since turnon',
  selfTest: 'Automatic or explicit self test',
  software: 'Forced by software',
  lowLine: 'Low line voltage',
} as const;

/** `value` limited to [min, max]. */
export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** The battery feeds the output: mains is gone, or a test holds the unit on battery. */
export function isOnBattery(s: SimState): boolean {
  return s.output === 'on' && (!s.mainsPresent || s.test !== null);
}

/** On mains: mains present and not on battery (the output may be off: NUT's `OL OFF`). */
export function isOnline(s: SimState): boolean {
  return s.mainsPresent && !isOnBattery(s);
}

/** The charger runs whenever mains is present and the battery is not feeding the output. */
export function isCharging(s: SimState): boolean {
  return isOnline(s) && s.chargePct < 100;
}

/** Output load in percent of the real-power rating; 0 with the output off. */
export function currentLoadPct(s: SimState): number {
  return s.output === 'on' ? clamp(s.loadSetPct + s.loadDriftPct, 0, 150) : 0;
}

/**
 * Runtime at the present load. With the output off it is quoted for the load the unit will
 * carry when it comes back, not for zero load (which would read as many hours).
 */
export function currentRuntimeS(s: SimState): number {
  const load = s.output === 'on' ? currentLoadPct(s) : clamp(s.loadSetPct + s.loadDriftPct, 0, 150);
  return runtimeSeconds(s.config, s.chargePct, load);
}
