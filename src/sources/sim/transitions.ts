/**
 * Discrete changes of the simulated UPS (mains lost and back, tests, output off and on),
 * each a pure function that returns a new state and keeps the battery bookkeeping
 * (transfers, on-battery times, transfer reason) consistent.
 */

import type { SelfTestResult } from '../../core/state.ts';
import { QUICK_TEST_MS } from './physics.ts';
import { isOnBattery, type SimState, type SimTest, TRANSFER_REASONS } from './sim-state.ts';

/**
 * Records what a change did to the battery stint: entering it stamps the time and counts
 * a transfer (when the output was already on), leaving it stamps the time, ends the
 * current stint and lifts a beeper mute.
 */
export function settleTransfer(
  prev: SimState,
  next: SimState,
  nowIso: string,
  reason: string,
): SimState {
  const was = isOnBattery(prev);
  const is = isOnBattery(next);
  if (!was && is) {
    const transfer = prev.output === 'on';
    return {
      ...next,
      onBatteryMs: 0,
      lastOnBatteryAt: nowIso,
      transfers: transfer ? next.transfers + 1 : next.transfers,
      lastTransferReason: transfer ? reason : next.lastTransferReason,
    };
  }
  if (was && !is) {
    return {
      ...next,
      onBatteryMs: 0,
      lastOffBatteryAt: nowIso,
      beeper: next.beeper === 'muted' ? 'enabled' : next.beeper,
    };
  }
  return next;
}

/** Mains goes away. A running test ends (a quick test as `aborted`); the cause is a blackout. */
export function applyPowerFail(s: SimState, nowIso: string): SimState {
  if (!s.mainsPresent) return s;
  const wasOnBattery = isOnBattery(s);
  const next: SimState = {
    ...s,
    mainsPresent: false,
    inputVoltageV: 0,
    wakeHeldMs: 0,
    test: null,
    selfTestResult: s.test?.kind === 'quick' ? 'aborted' : s.selfTestResult,
  };
  const settled = settleTransfer(s, next, nowIso, TRANSFER_REASONS.lowLine);
  // Already on battery for a test: no new transfer, but the reason it stays there changed.
  return wasOnBattery ? { ...settled, lastTransferReason: TRANSFER_REASONS.lowLine } : settled;
}

/** Mains comes back. */
export function applyPowerRestore(s: SimState, nowIso: string): SimState {
  if (s.mainsPresent) return s;
  const next: SimState = { ...s, mainsPresent: true, inputVoltageV: s.config.mains };
  return settleTransfer(s, next, nowIso, TRANSFER_REASONS.lowLine);
}

/** Ends the running test; a quick test gets `result`. */
export function endTest(s: SimState, nowIso: string, result: SelfTestResult): SimState {
  if (s.test === null) return s;
  const next: SimState = {
    ...s,
    test: null,
    selfTestResult: s.test.kind === 'quick' ? result : s.selfTestResult,
  };
  return settleTransfer(s, next, nowIso, s.lastTransferReason);
}

/** Turns the output off; `off_return` waits for mains and charge, `off_stay` for load.on. */
export function turnOutputOff(
  s: SimState,
  nowIso: string,
  mode: 'off_stay' | 'off_return',
): SimState {
  const stopped = s.test === null ? s : endTest(s, nowIso, 'aborted');
  const next: SimState = { ...stopped, output: mode, pendingShutdown: null, wakeHeldMs: 0 };
  return settleTransfer(stopped, next, nowIso, stopped.lastTransferReason);
}

/** Turns the output on (from mains, or from the battery when mains is absent). */
export function turnOutputOn(s: SimState, nowIso: string): SimState {
  const next: SimState = { ...s, output: 'on', pendingShutdown: null, wakeHeldMs: 0 };
  return settleTransfer(s, next, nowIso, s.lastTransferReason);
}

/** Starts a battery test (preconditions are checked by the caller). */
export function startTest(s: SimState, nowIso: string, test: SimTest): SimState {
  const quick = test.kind === 'quick';
  const next: SimState = {
    ...s,
    test,
    selfTestResult: quick ? 'in_progress' : s.selfTestResult,
    lastSelfTestAt: quick ? nowIso : s.lastSelfTestAt,
  };
  return settleTransfer(
    s,
    next,
    nowIso,
    quick ? TRANSFER_REASONS.selfTest : TRANSFER_REASONS.software,
  );
}

/** A quick test of the standard length. */
export function quickTest(): SimTest {
  return { kind: 'quick', remainingMs: QUICK_TEST_MS };
}
