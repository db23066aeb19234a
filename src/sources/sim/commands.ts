/**
 * Instant commands of the simulated UPS, by NUT instant-command name (docs/mqtt.md#commands),
 * plus two `simulate.*` commands that stand in for pulling and re-inserting the mains
 * plug. Each is a pure function of the model state.
 */

import {
  CALIBRATION_MIN_START_PCT,
  RESTART_CHARGE_PCT,
  SHUTDOWN_DELAY_S,
  WAKE_DELAY_S,
} from './physics.ts';
import { isOnBattery, type SimState } from './sim-state.ts';
import {
  applyPowerFail,
  applyPowerRestore,
  endTest,
  quickTest,
  startTest,
  turnOutputOff,
  turnOutputOn,
} from './transitions.ts';

/** Every command the model implements, in the order a UI would list them. */
export const SIM_COMMANDS = [
  'test.battery.start.quick',
  'test.battery.start.deep',
  'test.battery.stop',
  'test.panel.start',
  'calibrate.start',
  'calibrate.stop',
  'beeper.enable',
  'beeper.disable',
  'beeper.mute',
  'shutdown.return',
  'shutdown.stayoff',
  'shutdown.stop',
  'load.off',
  'load.on',
  'simulate.power_fail',
  'simulate.power_restore',
] as const;
/** A command name the model implements. */
export type SimCommand = (typeof SIM_COMMANDS)[number];

/** Type guard for command names coming from outside. */
export function isSimCommand(name: string): name is SimCommand {
  return (SIM_COMMANDS as readonly string[]).includes(name);
}

/**
 * What a command did. `refused` is how a real UPS answers `NO`/`NA`: the command exists but
 * cannot run in this state (e.g. a self-test on battery); the state is then unchanged.
 */
export type SimCommandResult =
  | { ok: true; state: SimState; message: string }
  | { ok: false; state: SimState; reason: string };

type Handler = (s: SimState, nowIso: string, delayS: number | undefined) => SimCommandResult;

function done(state: SimState, message: string): SimCommandResult {
  return { ok: true, state, message };
}

function refuse(state: SimState, reason: string): SimCommandResult {
  return { ok: false, state, reason };
}

/** Why a battery test cannot start now, or null when it can. */
function testBlocker(s: SimState): string | null {
  if (!s.mainsPresent) return 'mains is not present';
  if (s.output !== 'on') return 'the output is off';
  if (s.test !== null) return 'a battery test is already running';
  return null;
}

function startCalibration(s: SimState, nowIso: string): SimCommandResult {
  const blocker = testBlocker(s);
  if (blocker !== null) return refuse(s, blocker);
  // docs/protocols/apcsmart.md#actions `D`: calibration needs a full battery, then runs on battery down to ~25 %.
  if (s.chargePct < CALIBRATION_MIN_START_PCT) return refuse(s, 'calibration needs 100 % charge');
  return done(startTest(s, nowIso, { kind: 'calibration' }), 'runtime calibration started');
}

function scheduleShutdown(
  s: SimState,
  nowIso: string,
  mode: 'return' | 'stayoff',
  delayS: number | undefined,
): SimCommandResult {
  const offMode = mode === 'return' ? 'off_return' : 'off_stay';
  const after =
    mode === 'return' ? 'it returns when mains is present' : 'it stays off until load.on';
  if (s.output !== 'on') {
    return done({ ...s, output: offMode, pendingShutdown: null }, `output already off; ${after}`);
  }
  const delay = Math.max(0, delayS ?? SHUTDOWN_DELAY_S);
  if (delay === 0) return done(turnOutputOff(s, nowIso, offMode), `output off now; ${after}`);
  return done(
    { ...s, pendingShutdown: { mode, remainingMs: delay * 1000 } },
    `output turns off in ${delay} s; ${after}`,
  );
}

const HANDLERS: Readonly<Record<SimCommand, Handler>> = {
  'test.battery.start.quick': (s, now) => {
    const blocker = testBlocker(s);
    if (blocker !== null) return refuse(s, blocker);
    return done(startTest(s, now, quickTest()), 'quick battery self-test started');
  },
  // NUT drives APC's deep battery test as runtime calibration (docs/mqtt.md#commands).
  'test.battery.start.deep': (s, now) => startCalibration(s, now),
  'calibrate.start': (s, now) => startCalibration(s, now),
  'test.battery.stop': (s, now) => {
    if (s.test === null) return done(s, 'no battery test running');
    const what = s.test.kind === 'quick' ? 'self-test' : 'calibration';
    return done(endTest(s, now, 'aborted'), `${what} aborted`);
  },
  'calibrate.stop': (s, now) => {
    if (s.test?.kind !== 'calibration') return done(s, 'no calibration running');
    return done(endTest(s, now, s.selfTestResult), 'calibration aborted');
  },
  // docs/protocols/apcsmart.md#actions `A`: lights and a 2 s beep; nothing a reading can show.
  'test.panel.start': (s) => done(s, 'front-panel test: lights and beeper for 2 s'),
  'beeper.enable': (s) => done({ ...s, beeper: 'enabled' }, 'beeper enabled'),
  'beeper.disable': (s) => done({ ...s, beeper: 'disabled' }, 'beeper disabled'),
  'beeper.mute': (s) => {
    if (s.beeper === 'disabled') return done(s, 'beeper is disabled; nothing to mute');
    return done({ ...s, beeper: 'muted' }, 'beeper muted until the unit is back on mains');
  },
  'shutdown.return': (s, now, delay) => scheduleShutdown(s, now, 'return', delay),
  'shutdown.stayoff': (s, now, delay) => scheduleShutdown(s, now, 'stayoff', delay),
  'shutdown.stop': (s) => {
    if (s.pendingShutdown === null) return done(s, 'no shutdown pending');
    return done({ ...s, pendingShutdown: null }, 'pending shutdown cancelled');
  },
  'load.off': (s, now) => done(turnOutputOff(s, now, 'off_stay'), 'output off'),
  'load.on': (s, now) => {
    if (s.output === 'on') return done(s, 'output already on');
    if (!s.mainsPresent && s.chargePct <= 0) return refuse(s, 'no mains and the battery is empty');
    const next = turnOutputOn(s, now);
    return done(next, isOnBattery(next) ? 'output on, from the battery' : 'output on');
  },
  'simulate.power_fail': (s, now) => {
    if (!s.mainsPresent) return done(s, 'mains already absent');
    return done(applyPowerFail(s, now), 'mains power removed');
  },
  'simulate.power_restore': (s, now) => {
    if (s.mainsPresent) return done(s, 'mains already present');
    const wakes =
      s.output === 'off_return'
        ? `; output returns after ${WAKE_DELAY_S} s with at least ${RESTART_CHARGE_PCT} % charge`
        : '';
    return done(applyPowerRestore(s, now), `mains power restored${wakes}`);
  },
};

/** Applies one command at `nowIso`; `delayS` is used by the shutdown.* commands (default 20 s). */
export function applySimCommand(
  state: SimState,
  name: SimCommand,
  nowIso: string,
  delayS?: number,
): SimCommandResult {
  return HANDLERS[name](state, nowIso, delayS);
}
