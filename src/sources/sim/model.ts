/**
 * A pure, deterministic model of a line-interactive UPS. State is plain immutable data;
 * `step()` advances simulated time and every transition returns a new state. No timers,
 * no wall clock, no Math.random: callers pass the elapsed simulated time and the ISO time
 * to stamp transitions with, and noise comes from the seeded generator held in the state.
 *
 * The state and its derived conditions live in sim-state.ts, discrete transitions in
 * transitions.ts, commands in commands.ts and the mapping to the normalized model in mapping.ts.
 */

import {
  CALIBRATION_END_PCT,
  dischargePctPerMs,
  LOAD_DRIFT_TAU_MS,
  lowBatteryChargePct,
  MAINS_NOISE_V,
  RESTART_CHARGE_PCT,
  rechargePctPerMs,
  type SimConfig,
  TEMP_TAU_MS,
  TEST_PASS_MIN_CHARGE_PCT,
  targetTempC,
  WAKE_DELAY_S,
} from './physics.ts';
import { drawNormal, drawUniform } from './prng.ts';
import {
  clamp,
  currentLoadPct,
  isCharging,
  isOnBattery,
  type SimInitial,
  type SimState,
  TRANSFER_REASONS,
} from './sim-state.ts';
import {
  applyPowerFail,
  applyPowerRestore,
  endTest,
  turnOutputOff,
  turnOutputOn,
} from './transitions.ts';

export type { SimInitial, SimState } from './sim-state.ts';

/** A fresh unit on mains with the output on. */
export function createSimState(config: SimConfig, initial: SimInitial): SimState {
  const load = clamp(initial.loadPct, 0, 150);
  const charge = clamp(initial.chargePct, 0, 100);
  return {
    config,
    rng: initial.seed >>> 0,
    elapsedMs: 0,
    mainsPresent: true,
    chargePct: charge,
    loadSetPct: load,
    loadDriftPct: 0,
    tempC: targetTempC(load, false, charge < 100),
    inputVoltageV: config.mains,
    beeper: 'enabled',
    output: 'on',
    wakeHeldMs: 0,
    test: null,
    pendingShutdown: null,
    selfTestResult: 'none',
    lastSelfTestAt: null,
    transfers: 0,
    onBatteryMs: 0,
    cumulativeOnBatteryMs: 0,
    lastOnBatteryAt: null,
    lastOffBatteryAt: null,
    lastTransferReason: TRANSFER_REASONS.none,
    scriptStage: 0,
  };
}

/**
 * Tolerance for charge thresholds: the charge is a float integrated in steps, so a crossing
 * computed to the millisecond may land a hair short of the threshold.
 */
const CHARGE_EPS = 1e-9;

/** Whole ms needed to move `gap` at `rate` per ms (forgiving float noise in the division). */
function msToCover(gap: number, rate: number): number {
  return Math.ceil(gap / rate - 1e-6);
}

function wakeConditionsHold(s: SimState): boolean {
  return (
    s.output === 'off_return' && s.mainsPresent && s.chargePct >= RESTART_CHARGE_PCT - CHARGE_EPS
  );
}

/** Charge margin that covers the rounding of the published charge (0.1) and runtime (1 s). */
const LOW_BATTERY_MARGIN_PCT = 0.06;

/**
 * Simulated ms until the next discrete change (test end, shutdown, wake-up, scripted
 * outage, low battery, empty battery, calibration end) at the current load; Infinity when
 * nothing is due. `step()` splits its time at these points so transitions happen exactly on
 * time, and a source can use it to schedule a wake-up.
 */
export function msToNextEvent(s: SimState): number {
  let ms = Number.POSITIVE_INFINITY;
  if (s.test?.kind === 'quick') ms = Math.min(ms, s.test.remainingMs);
  if (s.pendingShutdown !== null) ms = Math.min(ms, s.pendingShutdown.remainingMs);
  if (wakeConditionsHold(s)) ms = Math.min(ms, WAKE_DELAY_S * 1000 - s.wakeHeldMs);
  if (s.scriptStage === 0 && s.config.failAtMs !== null) {
    ms = Math.min(ms, s.config.failAtMs - s.elapsedMs);
  }
  if (s.scriptStage === 1 && s.config.restoreAtMs !== null) {
    ms = Math.min(ms, s.config.restoreAtMs - s.elapsedMs);
  }
  if (isOnBattery(s)) {
    const load = currentLoadPct(s);
    const rate = dischargePctPerMs(s.config, load);
    // The low-battery rule is judged on rounded figures (mapping.ts): aim just past it.
    const floors = [0, lowBatteryChargePct(s.config, load) - LOW_BATTERY_MARGIN_PCT];
    if (s.test?.kind === 'calibration') floors.push(CALIBRATION_END_PCT);
    for (const floor of floors) {
      if (s.chargePct > floor + CHARGE_EPS) ms = Math.min(ms, msToCover(s.chargePct - floor, rate));
    }
  } else if (
    s.output === 'off_return' &&
    s.mainsPresent &&
    s.chargePct < RESTART_CHARGE_PCT - CHARGE_EPS
  ) {
    const gap = RESTART_CHARGE_PCT - s.chargePct;
    ms = Math.min(ms, msToCover(gap, rechargePctPerMs(s.chargePct)));
  }
  return Math.max(0, ms);
}

/** Moves the continuous quantities (charge, counters, drift, temperature) by `h` ms. */
function integrate(s: SimState, h: number): SimState {
  const onBattery = isOnBattery(s);
  const load = currentLoadPct(s);
  let charge = s.chargePct;
  if (onBattery) charge -= dischargePctPerMs(s.config, load) * h;
  else if (s.mainsPresent) charge += rechargePctPerMs(charge) * h;
  charge = clamp(charge, 0, 100);

  // Load drift: an Ornstein-Uhlenbeck walk, pulled back to the set point with LOAD_DRIFT_TAU_MS.
  const decay = Math.exp(-h / LOAD_DRIFT_TAU_MS);
  const n = drawNormal(s.rng);
  const drift =
    s.loadDriftPct * decay + s.config.loadDriftPct * Math.sqrt(1 - decay * decay) * n.value;

  const charging = isCharging(s);
  const target = targetTempC(load, onBattery, charging);
  const tempC = target + (s.tempC - target) * Math.exp(-h / TEMP_TAU_MS);

  return {
    ...s,
    rng: n.next,
    elapsedMs: s.elapsedMs + h,
    chargePct: charge,
    loadDriftPct: drift,
    tempC,
    onBatteryMs: onBattery ? s.onBatteryMs + h : s.onBatteryMs,
    cumulativeOnBatteryMs: onBattery ? s.cumulativeOnBatteryMs + h : s.cumulativeOnBatteryMs,
    wakeHeldMs: wakeConditionsHold(s) ? s.wakeHeldMs + h : 0,
    test:
      s.test?.kind === 'quick' ? { kind: 'quick', remainingMs: s.test.remainingMs - h } : s.test,
    pendingShutdown:
      s.pendingShutdown === null
        ? null
        : { ...s.pendingShutdown, remainingMs: s.pendingShutdown.remainingMs - h },
  };
}

/** Applies every transition that is due now, in a fixed order. */
function resolveDue(start: SimState, nowIso: string): SimState {
  let s = start;
  if (s.scriptStage === 0 && s.config.failAtMs !== null && s.elapsedMs >= s.config.failAtMs) {
    s = { ...applyPowerFail(s, nowIso), scriptStage: 1 };
  }
  if (s.scriptStage === 1 && s.config.restoreAtMs !== null && s.elapsedMs >= s.config.restoreAtMs) {
    s = { ...applyPowerRestore(s, nowIso), scriptStage: 2 };
  }
  if (s.test?.kind === 'quick' && s.test.remainingMs <= 0) {
    s = endTest(s, nowIso, s.chargePct < TEST_PASS_MIN_CHARGE_PCT ? 'failed_capacity' : 'passed');
  }
  if (s.test?.kind === 'calibration' && s.chargePct <= CALIBRATION_END_PCT + CHARGE_EPS) {
    s = endTest(s, nowIso, s.selfTestResult);
  }
  if (isOnBattery(s) && s.chargePct <= CHARGE_EPS) {
    // Battery exhausted: a test in progress has failed for capacity, the output drops.
    // With mains present (a test drained it) the unit just goes back to mains.
    if (s.test?.kind === 'quick') s = endTest(s, nowIso, 'failed_capacity');
    if (isOnBattery(s)) s = turnOutputOff(s, nowIso, 'off_return');
  }
  if (s.pendingShutdown !== null && s.pendingShutdown.remainingMs <= 0) {
    s = turnOutputOff(s, nowIso, s.pendingShutdown.mode === 'return' ? 'off_return' : 'off_stay');
  }
  if (s.output === 'off_return' && s.wakeHeldMs >= WAKE_DELAY_S * 1000 && wakeConditionsHold(s)) {
    s = turnOutputOn(s, nowIso);
  }
  return s;
}

/** Samples the mains voltage reading: nominal ± MAINS_NOISE_V, 0 without mains. */
function sampleMains(s: SimState): SimState {
  if (!s.mainsPresent) return { ...s, inputVoltageV: 0 };
  const u = drawUniform(s.rng);
  const noise = (u.value * 2 - 1) * MAINS_NOISE_V[s.config.mains];
  return { ...s, rng: u.next, inputVoltageV: s.config.mains + noise };
}

/**
 * Advances the model by `dtMs` of simulated time. Transitions inside the interval are
 * stamped `nowIso` (the time of the reading that asked for the step). Sub-steps are at most
 * 1 s (coarser for very long gaps, e.g. after a host suspend) and end exactly at each
 * discrete event.
 */
export function step(state: SimState, dtMs: number, nowIso: string): SimState {
  let s = resolveDue(state, nowIso);
  let remaining = Math.max(0, dtMs);
  const maxSub = Math.max(1000, remaining / 5000);
  while (remaining > 0) {
    const h = Math.min(remaining, maxSub, Math.max(1, msToNextEvent(s)));
    s = resolveDue(integrate(s, h), nowIso);
    remaining -= h;
  }
  return sampleMains(s);
}
