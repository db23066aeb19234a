/**
 * The power policy's state machine (docs/power-policy.md), pure: inputs are the UPS's
 * readings, the clock and the outcomes of the steps the executor ran; outputs are the
 * next memory (persisted across restarts), actions to perform and when to be woken.
 *
 * Timeline in `act`: on battery → `pending` (a countdown is announced); a trigger →
 * `shutting_down` (event `shutdown_initiated`) → FSD to NUT secondaries → wait until they
 * logged out or `secondaries_grace` passed → the host shutdown (local command or the
 * Supervisor) → `grace` → the UPS command → `waiting_for_mains` → mains seen back → `idle`.
 * Mains back before a trigger → `cancelled` (event `shutdown_cancelled`) → `idle` after
 * {@link CANCELLED_HOLD_MS}. Every step that runs something is recorded before it runs, so
 * a restart never runs it twice.
 */

import type { EventType } from '../core/events.ts';
import type { ShutdownMode } from '../core/ports.ts';
import type { ShutdownState } from '../core/state.ts';

/** `shutdown.mode` other than `off` (with `off` no policy exists). */
export type ActiveMode = Exclude<ShutdownMode, 'off'>;

/** What the machine needs of the configuration, in milliseconds. */
export interface PolicySettings {
  mode: ActiveMode;
  /** Trigger: this long on battery (null: not used). */
  onBatteryForMs: number | null;
  /** Trigger: charge at or below this percentage (null: not used). */
  batteryChargePct: number | null;
  /** Trigger: runtime at or below this many seconds (null: not used). */
  runtimeS: number | null;
  secondariesGraceMs: number;
  graceMs: number;
  /** The UPS command after the grace, or null for `none`. */
  upsCommand: string | null;
  /** What shuts this host down. */
  host: 'command' | 'supervisor' | 'none';
  /** Whether a NUT server can tell secondaries to shut down (FSD). */
  fsd: boolean;
}

/** How the host step ended. `interrupted`: the bridge restarted while it ran. */
export type HostOutcome = 'done' | 'failed' | 'timeout' | 'interrupted' | 'dry_run';

/** Everything the policy remembers across restarts (JSON). Times are epoch ms. */
export interface PolicyMemory {
  v: 1;
  phase: ShutdownState;
  phaseAt: number;
  /** When this outage was first seen (on battery); null on mains. */
  outageStartedAt: number | null;
  trigger: string | null;
  initiatedAt: number | null;
  fsdAt: number | null;
  /** Secondaries logged in when FSD was raised. */
  secondariesAtFsd: number | null;
  secondariesDoneAt: number | null;
  hostStartedAt: number | null;
  hostDoneAt: number | null;
  hostOutcome: HostOutcome | null;
  upsSentAt: number | null;
  upsDoneAt: number | null;
  upsOutcome: string | null;
  /** Not before this time is a UPS command refused as `unavailable` sent again. */
  upsRetryAt: number | null;
  /** When mains was seen back while shutting down (null: not back, or on battery again). */
  mainsBackAt: number | null;
}

/** One good reading of the UPS, reduced to what the policy decides on. */
export interface PolicyReading {
  /** When the reading was taken (epoch ms). */
  at: number;
  onBattery: boolean;
  /**
   * Mains is present (NUT `OL`, apcupsd ONLINE). Not simply "not on battery": a UPS whose
   * output was cut is neither, and mains is not back then.
   */
  onMains: boolean;
  lowBattery: boolean;
  /** The UPS or its daemon reports its own shutdown (`shutting_down`). */
  upsShutdown: boolean;
  chargePct?: number;
  runtimeS?: number;
}

export type PolicyInput =
  | { kind: 'resume' }
  | { kind: 'reading'; reading: PolicyReading }
  | { kind: 'tick' }
  | { kind: 'fsd_done'; secondaries: number }
  | { kind: 'secondaries_done'; remaining: number }
  | { kind: 'host_done'; outcome: HostOutcome; detail: string }
  | { kind: 'ups_done'; code: string; message: string }
  | { kind: 'stopping' };

/** Something the executor performs. */
export type PolicyAction =
  | {
      type: 'event';
      eventType: Extract<
        EventType,
        | 'shutdown_initiated'
        | 'shutdown_cancelled'
        | 'command_executed'
        | 'command_refused'
        | 'other'
      >;
      message: string;
      command?: string;
      code?: string;
    }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; msg: string; fields?: Record<string, unknown> }
  | { type: 'set_fsd'; on: boolean }
  | { type: 'wait_secondaries'; until: number }
  | { type: 'host_shutdown' }
  | { type: 'ups_command'; name: string };

export interface PolicyStep {
  memory: PolicyMemory;
  actions: PolicyAction[];
  /** When to feed a `tick` next (null: no timer). */
  wakeAt: number | null;
}

/** How long `cancelled` stays before the state settles back to `idle`. */
export const CANCELLED_HOLD_MS = 60_000;
/** Wait before a UPS command refused as `unavailable` (UPS not being read) is tried again. */
export const UPS_RETRY_MS = 5_000;

/** The memory of a policy that has seen nothing yet. */
export function initialMemory(now: number): PolicyMemory {
  return {
    v: 1,
    phase: 'idle',
    phaseAt: now,
    outageStartedAt: null,
    trigger: null,
    initiatedAt: null,
    fsdAt: null,
    secondariesAtFsd: null,
    secondariesDoneAt: null,
    hostStartedAt: null,
    hostDoneAt: null,
    hostOutcome: null,
    upsSentAt: null,
    upsDoneAt: null,
    upsOutcome: null,
    upsRetryAt: null,
    mainsBackAt: null,
  };
}

/** Feeds one input; returns the next memory, the actions and the next wake-up. */
export function advance(
  memory: PolicyMemory,
  input: PolicyInput,
  now: number,
  s: PolicySettings,
): PolicyStep {
  const m: PolicyMemory = { ...memory };
  const actions: PolicyAction[] = [];
  const ctx: Ctx = { m, s, now, actions };
  switch (input.kind) {
    case 'resume':
      resume(ctx);
      break;
    case 'reading':
      onReading(ctx, input.reading);
      break;
    case 'tick':
      onTick(ctx);
      break;
    case 'fsd_done':
      if (m.secondariesAtFsd === null) m.secondariesAtFsd = input.secondaries;
      break;
    case 'secondaries_done':
      if (m.secondariesDoneAt === null && m.fsdAt !== null) {
        m.secondariesDoneAt = now;
        stepEvent(
          ctx,
          input.remaining === 0 ? 'command_executed' : 'other',
          'nut.secondaries',
          input.remaining === 0 ? 'done' : 'timeout',
          input.remaining === 0
            ? 'every NUT secondary has logged out'
            : `${input.remaining} NUT secondary client(s) still logged in after ${Math.round(s.secondariesGraceMs / 1000)} s; going on`,
        );
      }
      break;
    case 'host_done':
      if (m.hostStartedAt !== null && m.hostDoneAt === null) {
        m.hostDoneAt = now;
        m.hostOutcome = input.outcome;
        const ok = input.outcome === 'done';
        if (input.outcome !== 'dry_run') {
          stepEvent(
            ctx,
            ok ? 'command_executed' : 'command_refused',
            'host.shutdown',
            input.outcome,
            input.detail,
          );
        }
        log(ctx, ok || input.outcome === 'dry_run' ? 'info' : 'error', 'host shutdown step ended', {
          outcome: input.outcome,
          detail: input.detail,
        });
      }
      break;
    case 'ups_done':
      if (m.upsSentAt !== null && m.upsDoneAt === null) {
        if (input.code === 'unavailable') {
          // Not run (the UPS is not being read right now): try again shortly.
          m.upsSentAt = null;
          m.upsRetryAt = now + UPS_RETRY_MS;
          log(ctx, 'warn', 'the UPS command could not be sent yet; trying again', {
            reason: input.message,
          });
        } else {
          m.upsDoneAt = now;
          m.upsOutcome = input.code;
          log(
            ctx,
            input.code === 'done' || input.code === 'dry_run' ? 'info' : 'error',
            'UPS command step ended',
            {
              code: input.code,
              detail: input.message,
            },
          );
        }
      }
      break;
    case 'stopping':
      onStopping(ctx);
      break;
  }
  if (m.phase === 'shutting_down' && s.mode !== 'notify') progress(ctx);
  return { memory: m, actions, wakeAt: wakeAt(ctx) };
}

interface Ctx {
  m: PolicyMemory;
  s: PolicySettings;
  now: number;
  actions: PolicyAction[];
}

function log(
  ctx: Ctx,
  level: 'info' | 'warn' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
): void {
  ctx.actions.push(fields ? { type: 'log', level, msg, fields } : { type: 'log', level, msg });
}

function stepEvent(
  ctx: Ctx,
  eventType: 'command_executed' | 'command_refused' | 'other',
  command: string,
  code: string,
  message: string,
): void {
  ctx.actions.push({ type: 'event', eventType, command, code, message: `${command}: ${message}` });
}

function enter(ctx: Ctx, phase: PolicyMemory['phase']): void {
  ctx.m.phase = phase;
  ctx.m.phaseAt = ctx.now;
}

/** Back to `idle`, forgetting the outage (FSD cleared when it was raised). */
function reset(ctx: Ctx): void {
  if (ctx.m.fsdAt !== null && ctx.s.mode === 'act')
    ctx.actions.push({ type: 'set_fsd', on: false });
  Object.assign(ctx.m, initialMemory(ctx.now));
}

function resume(ctx: Ctx): void {
  const { m } = ctx;
  log(ctx, 'info', 'power policy resumed from its stored state', { phase: m.phase });
  if (m.hostStartedAt !== null && m.hostDoneAt === null) {
    m.hostDoneAt = ctx.now;
    m.hostOutcome = 'interrupted';
    log(ctx, 'warn', 'the bridge stopped while the host shutdown ran; it is not run again');
  }
  if (m.upsSentAt !== null && m.upsDoneAt === null) {
    m.upsDoneAt = ctx.now;
    m.upsOutcome = 'interrupted';
    log(ctx, 'warn', 'the bridge stopped while the UPS command was sent; it is not sent again');
  }
  // A NUT server restarted with the bridge has forgotten FSD: raise it again.
  const active = m.phase === 'shutting_down' || m.phase === 'waiting_for_mains';
  if (active && m.fsdAt !== null && ctx.s.mode === 'act') {
    ctx.actions.push({ type: 'set_fsd', on: true });
  }
}

/** The first trigger that holds for this reading, or null. */
function triggerOf(ctx: Ctx, r: PolicyReading): string | null {
  const { s, m } = ctx;
  if (r.upsShutdown) return 'ups_shutdown';
  if (!r.onBattery) return null;
  if (r.lowBattery) return 'low_battery';
  if (s.batteryChargePct !== null && r.chargePct !== undefined && r.chargePct <= s.batteryChargePct)
    return 'battery_charge_pct';
  if (s.runtimeS !== null && r.runtimeS !== undefined && r.runtimeS <= s.runtimeS)
    return 'runtime_s';
  if (onBatteryForReached(ctx) && m.outageStartedAt !== null) return 'on_battery_for';
  return null;
}

function onBatteryForReached(ctx: Ctx): boolean {
  const { s, m, now } = ctx;
  return (
    s.onBatteryForMs !== null &&
    m.outageStartedAt !== null &&
    now - m.outageStartedAt >= s.onBatteryForMs
  );
}

const TRIGGER_TEXT: Record<string, string> = {
  ups_shutdown: 'the UPS reports its own shutdown',
  low_battery: 'the UPS reports low battery',
  battery_charge_pct: 'battery charge reached shutdown.battery_charge_pct',
  runtime_s: 'runtime reached shutdown.runtime_s',
  on_battery_for: 'on battery for shutdown.on_battery_for',
};

function onReading(ctx: Ctx, r: PolicyReading): void {
  const { m, s } = ctx;
  if (r.onBattery && m.outageStartedAt === null) m.outageStartedAt = ctx.now;
  switch (m.phase) {
    case 'idle':
    case 'cancelled': {
      const trigger = triggerOf(ctx, r);
      if (trigger !== null) initiate(ctx, trigger, r);
      else if (r.onBattery) {
        enter(ctx, 'pending');
        log(ctx, 'warn', 'on battery: the shutdown policy counts down', {
          mode: s.mode,
          ...thresholds(s),
        });
      } else if (r.onMains) {
        m.outageStartedAt = null;
        if (m.phase === 'cancelled' && ctx.now - m.phaseAt >= CANCELLED_HOLD_MS) enter(ctx, 'idle');
      }
      return;
    }
    case 'pending': {
      const trigger = triggerOf(ctx, r);
      if (trigger !== null) initiate(ctx, trigger, r);
      else if (r.onMains) {
        const onBatteryS = Math.round((ctx.now - (m.outageStartedAt ?? ctx.now)) / 1000);
        Object.assign(m, initialMemory(ctx.now));
        enter(ctx, 'cancelled');
        ctx.actions.push({
          type: 'event',
          eventType: 'shutdown_cancelled',
          message: `mains returned after ${onBatteryS} s on battery, before any shutdown trigger`,
        });
        log(ctx, 'info', 'mains returned before a shutdown trigger: countdown cancelled');
      }
      return;
    }
    case 'shutting_down': {
      const mainsBack = r.onMains && !r.upsShutdown;
      if (mainsBack && m.mainsBackAt === null) {
        m.mainsBackAt = ctx.now;
        log(ctx, 'warn', 'mains returned while shutting down; the shutdown goes on', {
          mode: s.mode,
        });
      } else if (!r.onMains) m.mainsBackAt = null;
      if (s.mode === 'notify' && mainsBack) {
        log(ctx, 'info', 'mains is back');
        reset(ctx);
      }
      return;
    }
    case 'waiting_for_mains': {
      const since = m.upsDoneAt ?? m.hostDoneAt ?? m.phaseAt;
      if (r.onMains && !r.upsShutdown && r.at > since) {
        log(ctx, 'info', 'mains is back after the shutdown: policy idle');
        reset(ctx);
      }
      return;
    }
  }
}

function onTick(ctx: Ctx): void {
  const { m } = ctx;
  if (m.phase === 'pending' && onBatteryForReached(ctx)) initiate(ctx, 'on_battery_for', undefined);
  else if (m.phase === 'cancelled' && ctx.now - m.phaseAt >= CANCELLED_HOLD_MS) enter(ctx, 'idle');
}

function thresholds(s: PolicySettings): Record<string, unknown> {
  return {
    on_battery_for_s: s.onBatteryForMs === null ? null : s.onBatteryForMs / 1000,
    battery_charge_pct: s.batteryChargePct,
    runtime_s: s.runtimeS,
  };
}

function initiate(ctx: Ctx, trigger: string, r: PolicyReading | undefined): void {
  const { m, s } = ctx;
  enter(ctx, 'shutting_down');
  m.trigger = trigger;
  m.initiatedAt = ctx.now;
  const figures =
    r === undefined
      ? ''
      : [
          r.chargePct === undefined ? '' : `charge ${r.chargePct} %`,
          r.runtimeS === undefined ? '' : `runtime ${r.runtimeS} s`,
        ]
          .filter((t) => t !== '')
          .join(', ');
  const onBatteryS =
    m.outageStartedAt === null ? undefined : Math.round((ctx.now - m.outageStartedAt) / 1000);
  const what =
    s.mode === 'notify'
      ? 'notify only: nothing is run'
      : `${s.mode === 'dry_run' ? 'dry run: nothing is run, every step is logged' : 'shutting down'}: ${plan(s)}`;
  const detail = [figures, onBatteryS === undefined ? '' : `${onBatteryS} s on battery`]
    .filter((t) => t !== '')
    .join(', ');
  ctx.actions.push({
    type: 'event',
    eventType: 'shutdown_initiated',
    code: trigger,
    message: `${TRIGGER_TEXT[trigger] ?? trigger}${detail ? ` (${detail})` : ''}; ${what}`,
  });
  log(ctx, 'warn', 'shutdown initiated', { trigger, mode: s.mode, plan: plan(s) });
}

/** The steps in words, for the event and the log. */
function plan(s: PolicySettings): string {
  const steps: string[] = [];
  if (s.fsd) steps.push(`FSD to NUT secondaries (up to ${s.secondariesGraceMs / 1000} s)`);
  if (s.host === 'command') steps.push('the local shutdown command');
  if (s.host === 'supervisor') steps.push('host shutdown through the Supervisor');
  if (s.upsCommand !== null) steps.push(`${s.upsCommand} after ${s.graceMs / 1000} s`);
  return steps.length === 0 ? 'no step configured' : steps.join(', then ');
}

/** Whether some host was told to go down (so the UPS output must cycle to bring it back). */
function someHostWentDown(m: PolicyMemory): boolean {
  const host =
    m.hostStartedAt !== null && m.hostOutcome !== 'failed' && m.hostOutcome !== 'timeout';
  return host || (m.secondariesAtFsd ?? 0) > 0;
}

/** Mains is back before anything went down: stop here, cut nothing. */
function cancelLate(ctx: Ctx, why: string): void {
  const { m } = ctx;
  const fsd = m.fsdAt !== null;
  if (fsd && ctx.s.mode === 'act') ctx.actions.push({ type: 'set_fsd', on: false });
  Object.assign(m, initialMemory(ctx.now));
  enter(ctx, 'cancelled');
  ctx.actions.push({ type: 'event', eventType: 'shutdown_cancelled', message: why });
  log(ctx, 'warn', why);
}

/** Runs the next step of the shutdown sequence, if its time has come. */
function progress(ctx: Ctx): void {
  const { m, s, now } = ctx;
  if (s.fsd) {
    if (m.fsdAt === null) {
      m.fsdAt = now;
      ctx.actions.push({ type: 'set_fsd', on: true });
      return;
    }
    if (m.secondariesDoneAt === null) {
      if (m.secondariesAtFsd === null) return; // the FSD action reports the count
      if (m.secondariesAtFsd === 0) m.secondariesDoneAt = now;
      else {
        ctx.actions.push({ type: 'wait_secondaries', until: m.fsdAt + s.secondariesGraceMs });
        return;
      }
    }
  }
  if (s.host !== 'none') {
    if (m.hostStartedAt === null) {
      if (m.mainsBackAt !== null && !someHostWentDown(m)) {
        cancelLate(ctx, 'mains returned before any host was shut down: shutdown cancelled');
        return;
      }
      m.hostStartedAt = now;
      ctx.actions.push({ type: 'host_shutdown' });
      return;
    }
    if (m.hostDoneAt === null) return;
  }
  if (s.upsCommand !== null && m.upsDoneAt === null) {
    if (m.upsSentAt !== null) return; // in flight
    if (now < graceEnd(m, s) || (m.upsRetryAt !== null && now < m.upsRetryAt)) return;
    sendUpsCommand(ctx, s.upsCommand);
    return;
  }
  if (m.upsSentAt !== null && m.upsDoneAt === null) return;
  enter(ctx, 'waiting_for_mains');
  log(ctx, 'info', 'shutdown sequence complete: waiting for mains', {
    host: m.hostOutcome,
    ups_command: m.upsOutcome,
  });
}

function sendUpsCommand(ctx: Ctx, name: string): void {
  const { m } = ctx;
  if (m.mainsBackAt !== null) {
    if (!someHostWentDown(m)) {
      cancelLate(
        ctx,
        `mains returned and no host was shut down (host step: ${m.hostOutcome ?? 'none'}): ${name} is not sent`,
      );
      return;
    }
    ctx.actions.push({
      type: 'event',
      eventType: 'other',
      command: name,
      code: 'mains_returned',
      message: `mains returned during the grace period; ${name} is still sent so the shut-down host(s) come back`,
    });
  }
  m.upsSentAt = ctx.now;
  m.upsRetryAt = null;
  ctx.actions.push({ type: 'ups_command', name });
}

function graceEnd(m: PolicyMemory, s: PolicySettings): number {
  return (m.hostDoneAt ?? m.secondariesDoneAt ?? m.initiatedAt ?? m.phaseAt) + s.graceMs;
}

/**
 * The bridge is stopping. When the host shutdown has begun, this is most likely that very
 * shutdown stopping the bridge: the UPS command goes out now instead of after the grace
 * (the UPS waits its own shutdown delay before it cuts the output).
 */
function onStopping(ctx: Ctx): void {
  const { m, s } = ctx;
  if (m.phase !== 'shutting_down' || s.mode === 'notify' || s.upsCommand === null) return;
  if (m.upsSentAt !== null || m.upsDoneAt !== null) return;
  if (m.hostStartedAt === null || !someHostWentDown(m)) return;
  log(ctx, 'warn', 'the bridge is stopping during the host shutdown: sending the UPS command now');
  sendUpsCommand(ctx, s.upsCommand);
}

function wakeAt(ctx: Ctx): number | null {
  const { m, s } = ctx;
  if (m.phase === 'pending' && s.onBatteryForMs !== null && m.outageStartedAt !== null)
    return m.outageStartedAt + s.onBatteryForMs;
  if (m.phase === 'cancelled') return m.phaseAt + CANCELLED_HOLD_MS;
  if (m.phase === 'shutting_down' && s.mode !== 'notify' && s.upsCommand !== null) {
    const hostDone = s.host === 'none' || m.hostDoneAt !== null;
    const fsdDone = !s.fsd || m.secondariesDoneAt !== null;
    if (hostDone && fsdDone && m.upsSentAt === null && m.upsDoneAt === null)
      return Math.max(graceEnd(m, s), m.upsRetryAt ?? 0);
  }
  return null;
}

/** Narrows stored JSON to a PolicyMemory (JsonStore's validator). */
export function parseMemory(value: unknown): PolicyMemory | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.v !== 1) return undefined;
  const phases = ['idle', 'pending', 'shutting_down', 'waiting_for_mains', 'cancelled'];
  if (typeof v.phase !== 'string' || !phases.includes(v.phase)) return undefined;
  if (typeof v.phaseAt !== 'number') return undefined;
  const texts = new Set(['trigger', 'hostOutcome', 'upsOutcome']);
  for (const key of Object.keys(initialMemory(0))) {
    const x = v[key];
    if (key === 'v' || key === 'phase' || x === undefined || x === null) continue;
    if (typeof x !== (texts.has(key) ? 'string' : 'number')) return undefined;
  }
  return { ...initialMemory(0), ...(v as unknown as PolicyMemory) };
}
