/**
 * The power policy of one UPS at run time: a StateExtension that feeds every new reading
 * into the state machine (machine.ts), adds `shutdown_state` to the published state, and
 * performs the machine's actions with injected parts — the command runner or the
 * Supervisor, the command router, the NUT server's FSD, the clock, the store.
 */
import type { CommandResult, CommandRouter, CommandTarget } from '../commands/router.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { UpsEvent } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type {
  ForcedShutdownNotifier,
  Publisher,
  ShutdownSettings,
  StateExtension,
} from '../core/ports.ts';
import type { UpsState, UpsStateKey } from '../core/state.ts';
import { isoWithOffset } from '../core/time.ts';
import type { Topics } from '../mqtt/topics.ts';
import type { CommandRunner, HostRunResult, SupervisorHost } from './host.ts';
import {
  type ActiveMode,
  advance,
  initialMemory,
  type PolicyAction,
  type PolicyInput,
  type PolicyMemory,
  type PolicyReading,
  type PolicySettings,
} from './machine.ts';

/** Where the memory survives a restart (a JsonStore in the bridge). */
export interface PolicyStore {
  read(): PolicyMemory | undefined;
  write(value: PolicyMemory): void;
  readonly file: string;
}

export interface ShutdownPolicyDeps {
  clock: Clock;
  logger: Logger;
  store?: PolicyStore;
  /** Runs `shutdown.command` (not used when `supervisor` is given). */
  runner: CommandRunner;
  /** Set when running as the Home Assistant add-on: the host shutdown goes through it. */
  supervisor?: SupervisorHost;
  /** The NUT server, when it runs: FSD for its secondaries. */
  notifier?: ForcedShutdownNotifier;
  commands: Pick<CommandRouter, 'execute'>;
  /** The command router's view of this UPS, once its id is known. */
  target(): CommandTarget | undefined;
  /** The UPS id, once known. */
  upsId(): string | undefined;
  publisher: Publisher;
  topics: Topics;
  /** Re-publishes the state after a change the timer or a step made (UpsBridge.refresh). */
  refresh(): Promise<void>;
}

/** How often the secondaries' logins are counted while waiting for them. */
const SECONDARIES_POLL_MS = 1000;
/** Upper bound for the UPS command sent while the bridge stops. */
const STOP_COMMAND_WAIT_MS = 15_000;

export class ShutdownPolicy implements StateExtension {
  /** Discovered from the start: the entity exists before the first outage. */
  readonly stickyKeys: readonly UpsStateKey[] = ['shutdown_state'];
  private memory: PolicyMemory;
  private readonly settings: PolicySettings;
  private loaded = false;
  private resumed = false;
  private lastReadingKey: string | undefined;
  private wakeTimer: TimerHandle | undefined;
  private wakeAt: number | null = null;
  private secondariesTimer: TimerHandle | undefined;
  private persisted = '';
  private stopped = false;
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly config: ShutdownSettings & { mode: ActiveMode },
    private readonly deps: ShutdownPolicyDeps,
  ) {
    this.memory = initialMemory(deps.clock.now());
    this.settings = {
      mode: config.mode,
      onBatteryForMs: config.onBatteryForMs,
      batteryChargePct: config.batteryChargePct,
      runtimeS: config.runtimeS,
      secondariesGraceMs: config.secondariesGraceMs,
      graceMs: config.graceMs,
      upsCommand: config.upsCommand,
      host: deps.supervisor ? 'supervisor' : config.command.length > 0 ? 'command' : 'none',
      fsd: deps.notifier !== undefined,
    };
  }

  /** The current state (for tests and the status page). */
  get state(): PolicyMemory['phase'] {
    return this.memory.phase;
  }

  /** Loads the stored state of an outage in progress. */
  start(): void {
    this.stopped = false;
    const { logger, store } = this.deps;
    const h = this.settings.host;
    logger.info(
      {
        mode: this.settings.mode,
        host: h === 'command' ? this.config.command : h,
        ups_command: this.settings.upsCommand ?? 'none',
        fsd: this.settings.fsd,
      },
      'power policy on',
    );
    if (this.deps.supervisor && this.config.command.length > 0) {
      logger.warn(
        'running as the Home Assistant add-on: the host is shut down through the Supervisor; shutdown.command is not used',
      );
    }
    const stored = store?.read();
    if (stored !== undefined) {
      this.memory = stored;
      this.persisted = JSON.stringify(stored);
      this.loaded = stored.phase !== 'idle';
    }
  }

  /** StateExtension: feeds a new reading, then adds `shutdown_state`. */
  extend(state: UpsState, good: boolean): void {
    if (!this.resumed) {
      this.resumed = true;
      if (this.loaded) this.feed({ kind: 'resume' }, false);
    }
    if (good && state.updated_at !== this.lastReadingKey) {
      this.lastReadingKey = state.updated_at;
      this.feed({ kind: 'reading', reading: readingOf(state, this.deps.clock.now()) }, false);
    }
    state.shutdown_state = this.memory.phase;
  }

  /**
   * Called first when the bridge stops: when the host shutdown has begun and the UPS
   * command is still due, it is sent now (bounded wait), then timers are released.
   */
  async stop(): Promise<void> {
    this.feed({ kind: 'stopping' }, false);
    const deadline = this.deps.clock.now() + STOP_COMMAND_WAIT_MS;
    while (this.inflight.size > 0 && this.deps.clock.now() < deadline) {
      let timer: TimerHandle | undefined;
      await Promise.race([
        Promise.allSettled([...this.inflight]),
        new Promise<void>((resolve) => {
          timer = this.deps.clock.setTimeout(resolve, deadline - this.deps.clock.now());
        }),
      ]);
      if (timer) this.deps.clock.clearTimeout(timer);
    }
    this.stopped = true;
    if (this.wakeTimer) this.deps.clock.clearTimeout(this.wakeTimer);
    if (this.secondariesTimer) this.deps.clock.clearTimeout(this.secondariesTimer);
    this.wakeTimer = undefined;
    this.secondariesTimer = undefined;
  }

  /** Waits until the actions started so far have finished (tests). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private feed(input: PolicyInput, publish: boolean): void {
    if (this.stopped) return;
    const before = this.memory.phase;
    const step = advance(this.memory, input, this.deps.clock.now(), this.settings);
    this.memory = step.memory;
    this.arm(step.wakeAt);
    // Out of the caller's turn (extend() must do no I/O): store first, so a step that runs
    // something is on disk before it runs, then perform the actions in order.
    this.track(
      Promise.resolve().then(() => {
        this.persist();
        for (const action of step.actions) this.perform(action);
        if (publish && this.memory.phase !== before) this.track(this.deps.refresh());
      }),
    );
  }

  /** Writes the memory when it changed, before any action of the step runs. */
  private persist(): void {
    const text = JSON.stringify(this.memory);
    if (text === this.persisted || !this.deps.store) return;
    try {
      this.deps.store.write(this.memory);
      this.persisted = text;
    } catch (err) {
      this.deps.logger.error(
        { err, file: this.deps.store.file },
        'cannot store the power policy state',
      );
    }
  }

  private arm(at: number | null): void {
    if (at === this.wakeAt) return;
    if (this.wakeTimer) this.deps.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.wakeAt = at;
    if (at === null) return;
    this.wakeTimer = this.deps.clock.setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.wakeAt = null;
        this.feed({ kind: 'tick' }, true);
      },
      Math.max(0, at - this.deps.clock.now()),
    );
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((err: unknown) =>
      this.deps.logger.error({ err }, 'a power policy step failed'),
    );
    this.inflight.add(tracked);
    void tracked.finally(() => this.inflight.delete(tracked));
  }

  private perform(action: PolicyAction): void {
    const { logger } = this.deps;
    const dry = this.settings.mode === 'dry_run';
    switch (action.type) {
      case 'log': {
        const fields = { ups: this.deps.upsId(), ...action.fields };
        logger[action.level](fields, `power policy: ${action.msg}`);
        return;
      }
      case 'event':
        this.track(this.publishEvent(action));
        return;
      case 'set_fsd': {
        const id = this.deps.upsId();
        const notifier = this.deps.notifier;
        if (!notifier || id === undefined) return;
        const count = notifier.secondaryLogins(id);
        if (dry) {
          logger.info(
            { ups: id, secondaries: count },
            `power policy (dry run): would ${action.on ? 'raise' : 'clear'} FSD for the NUT clients`,
          );
        } else {
          notifier.setForcedShutdown(id, action.on);
          logger.warn(
            { ups: id, secondaries: count },
            `power policy: FSD ${action.on ? 'raised' : 'cleared'} for the NUT clients`,
          );
          if (action.on) {
            this.track(
              this.publishEvent({
                type: 'event',
                eventType: 'command_executed',
                command: 'nut.fsd',
                code: 'done',
                message: `nut.fsd: forced shutdown raised for ${count} NUT secondary client(s)`,
              }),
            );
          }
        }
        if (action.on)
          queueMicrotask(() => this.feed({ kind: 'fsd_done', secondaries: count }, true));
        return;
      }
      case 'wait_secondaries':
        this.waitSecondaries(action.until);
        return;
      case 'host_shutdown':
        this.track(this.hostShutdown(dry));
        return;
      case 'ups_command':
        this.track(this.upsCommand(action.name, dry));
        return;
    }
  }

  private waitSecondaries(until: number): void {
    if (this.secondariesTimer) return; // already waiting
    const check = (): void => {
      this.secondariesTimer = undefined;
      const id = this.deps.upsId();
      const left = id === undefined ? 0 : (this.deps.notifier?.secondaryLogins(id) ?? 0);
      if (left === 0 || this.deps.clock.now() >= until) {
        this.feed({ kind: 'secondaries_done', remaining: left }, true);
        return;
      }
      const next = Math.min(SECONDARIES_POLL_MS, until - this.deps.clock.now());
      this.secondariesTimer = this.deps.clock.setTimeout(check, next);
    };
    this.secondariesTimer = this.deps.clock.setTimeout(check, 0);
  }

  private async hostShutdown(dry: boolean): Promise<void> {
    const { logger, supervisor, runner } = this.deps;
    const ups = this.deps.upsId();
    const timeout = this.config.commandTimeoutMs;
    const how = supervisor ? 'the Supervisor host shutdown' : JSON.stringify(this.config.command);
    if (dry) {
      logger.info({ ups }, `power policy (dry run): would run ${how}`);
      this.feed({ kind: 'host_done', outcome: 'dry_run', detail: `would run ${how}` }, true);
      return;
    }
    logger.warn({ ups, timeout_s: timeout / 1000 }, `power policy: running ${how}`);
    let result: HostRunResult;
    try {
      result = supervisor
        ? await supervisor.shutdown(timeout)
        : await runner(this.config.command, timeout);
    } catch (err) {
      result = { outcome: 'failed', detail: err instanceof Error ? err.message : String(err) };
    }
    if (result.stdout) logger.info({ ups, stdout: result.stdout }, 'shutdown command output');
    if (result.stderr) logger.warn({ ups, stderr: result.stderr }, 'shutdown command errors');
    this.feed({ kind: 'host_done', outcome: result.outcome, detail: result.detail }, true);
  }

  private async upsCommand(name: string, dry: boolean): Promise<void> {
    const ups = this.deps.upsId();
    if (dry) {
      this.deps.logger.info({ ups }, `power policy (dry run): would send ${name} to the UPS`);
      this.feed({ kind: 'ups_done', code: 'dry_run', message: `would send ${name}` }, true);
      return;
    }
    const target = this.deps.target();
    let result: CommandResult;
    if (!target) {
      result = {
        status: 'error',
        command: name,
        code: 'unavailable',
        message: 'the UPS id is not known yet',
      };
    } else {
      this.deps.logger.warn({ ups, command: name }, 'power policy: sending the UPS command');
      result = await this.deps.commands.execute(target, { name, origin: 'policy' });
    }
    this.feed({ kind: 'ups_done', code: result.code, message: result.message }, true);
  }

  private async publishEvent(action: Extract<PolicyAction, { type: 'event' }>): Promise<void> {
    const id = this.deps.upsId();
    if (id === undefined) return;
    const event: UpsEvent = {
      event_type: action.eventType,
      at: isoWithOffset(new Date(this.deps.clock.now())),
      message: action.message,
      origin: 'bridge',
      ...(action.command === undefined ? {} : { command: action.command }),
      ...(action.code === undefined ? {} : { code: action.code }),
    };
    await this.deps.publisher.publish(this.deps.topics.event(id), JSON.stringify(event), {
      retain: false,
      queueWhileOffline: true,
    });
  }
}

/** The figures the machine decides on, from a good reading. */
export function readingOf(state: UpsState, now: number): PolicyReading {
  const at = Date.parse(state.updated_at);
  // A battery self-test or a runtime calibration runs on battery with mains present: not an
  // outage (apcupsd does not count it as one either).
  const testing = state.test_in_progress === true || state.calibrating === true;
  const onBattery =
    !testing &&
    (state.on_battery === true ||
      (state.on_battery === undefined &&
        (state.status === 'on_battery' || state.status === 'low_battery')));
  return {
    at: Number.isFinite(at) ? at : now,
    onBattery,
    onMains: testing || state.online === true || (state.online === undefined && !onBattery),
    lowBattery: state.low_battery === true,
    upsShutdown: state.shutting_down === true,
    ...(state.battery_charge_pct === undefined ? {} : { chargePct: state.battery_charge_pct }),
    ...(state.runtime_s === undefined ? {} : { runtimeS: state.runtime_s }),
  };
}
