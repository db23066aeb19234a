/**
 * `sim://` source: a simulated UPS that needs no hardware, for `ups2mqtt demo`, for
 * rehearsing Home Assistant automations and for tests. The physics are in model.ts; this
 * adapter only moves the model along the injected clock and schedules wake-ups.
 */

import type { Clock, TimerHandle } from '../../core/clock.ts';
import { Ups2MqttError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type {
  CommandArgs,
  CommandOutcome,
  SourceCapabilities,
  SourceReading,
  UpsSource,
} from '../../core/source.ts';
import { applySimCommand, isSimCommand, SIM_COMMANDS } from './commands.ts';
import { toUpsData } from './mapping.ts';
import { createSimState, msToNextEvent, type SimState, step } from './model.ts';
import { parseSimParams, type SimSettings, type SimSpec } from './params.ts';

/** Commands that make the simulated UPS unreachable and reachable again (`unreachable` parameter). */
export const SIM_COMM_COMMANDS = ['simulate.comm_lost', 'simulate.comm_restore'] as const;

/** What a SimSource is built from. */
export interface SimSourceOptions {
  spec: SimSpec;
  clock: Clock;
  logger: Logger;
}

/** Dependencies of createSimSource. */
export interface SimSourceDeps {
  clock: Clock;
  logger: Logger;
}

/**
 * A simulated line-interactive UPS (`sim://[model]?param=value`).
 *
 * The model path picks a profile: `default` (or empty) and `smart-ups-1500` are a
 * 1000 W / 1500 VA unit with a 24 V battery, `back-ups-700` a 405 W / 700 VA unit with a
 * 12 V battery; any other name runs the default hardware as `<name> (simulated)`.
 *
 * | Parameter     | Values                    | Default                 | Meaning |
 * | ------------- | ------------------------- | ----------------------- | ------- |
 * | `serial`      | text                      | `SIM` + 9 digits from the model name | Serial number (and so the device id) |
 * | `nominal_w`   | 1–1000000                 | profile (1000)          | Real-power rating, W |
 * | `battery_wh`  | 1–1000000                 | profile (200)           | Usable battery energy, Wh |
 * | `load`        | 0–150                     | 18                      | Load set point, % of `nominal_w` (over 100 = overload) |
 * | `load_drift`  | 0–20                      | 1.5                     | Standard deviation of the slow load drift, percentage points (0 = steady) |
 * | `charge`      | 0–100                     | 100                     | Initial battery charge, % |
 * | `speed`       | 0.001–10000               | 1                       | Time acceleration: simulated seconds per clock second |
 * | `seed`        | 0–4294967295              | hash of the serial      | Seed of the noise generator (same seed, same run) |
 * | `mains`       | 230, 120                  | 230                     | 230 V / 50 Hz or 120 V / 60 Hz |
 * | `fail_at`     | seconds ≥ 0               | none                    | Scripted outage: mains fails this many clock seconds after open() |
 * | `restore_at`  | seconds > `fail_at`       | none                    | Scripted outage: mains returns this many clock seconds after open() |
 * | `unreachable` | true/false (1/0, yes/no)  | absent                  | When present, adds `simulate.comm_lost` / `simulate.comm_restore`; read() rejects with CONNECT_FAILED while lost (starts lost when true) |
 *
 * Delays inside the UPS (shutdown.* `delay_s`, the 10 s self-test, the wake delay) run on
 * simulated time, so at `speed=10` a 20 s shutdown delay passes in 2 clock seconds.
 */
export class SimSource implements UpsSource {
  private readonly spec: SimSpec;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly wakeListeners = new Set<() => void>();
  private settings: SimSettings | null = null;
  private state: SimState | null = null;
  private lastAt = 0;
  private unreachable = false;
  private wakeTimer: TimerHandle | null = null;

  constructor(opts: SimSourceOptions) {
    this.spec = opts.spec;
    this.clock = opts.clock;
    this.logger = opts.logger;
  }

  get description(): string {
    const query = new URLSearchParams(this.spec.params).toString();
    return `sim://${this.spec.model}${query === '' ? '' : `?${query}`}`;
  }

  capabilities(): SourceCapabilities {
    const comm = this.spec.params.unreachable === undefined ? [] : SIM_COMM_COMMANDS;
    return { commands: [...SIM_COMMANDS, ...comm], stickyFields: [] };
  }

  async open(): Promise<void> {
    const settings = parseSimParams(this.spec);
    this.settings = settings;
    this.state = createSimState(settings.config, settings.initial);
    this.lastAt = this.clock.now();
    this.unreachable = settings.unreachable ?? false;
    this.rearm();
    this.logger.info(
      { model: settings.config.model, serial: settings.config.serial, speed: settings.speed },
      'simulated UPS ready',
    );
  }

  async read(signal: AbortSignal): Promise<SourceReading> {
    if (signal.aborted) {
      throw new Ups2MqttError('ABORTED', 'read of the simulated UPS aborted', {
        cause: signal.reason,
      });
    }
    const state = this.advance();
    this.rearm();
    if (this.unreachable) {
      throw new Ups2MqttError('CONNECT_FAILED', 'the simulated UPS is unreachable (simulated)', {
        context: { source: this.description },
      });
    }
    return { data: toUpsData(state), events: [], nativeEvents: false };
  }

  onWake(listener: () => void): () => void {
    this.wakeListeners.add(listener);
    return () => {
      this.wakeListeners.delete(listener);
    };
  }

  async command(name: string, args: CommandArgs): Promise<CommandOutcome> {
    if (this.isCommCommand(name)) return this.setReachability(name === 'simulate.comm_lost');
    if (!isSimCommand(name)) {
      throw new Ups2MqttError('SOURCE_UNSUPPORTED', `the simulated UPS has no command "${name}"`, {
        context: { command: name },
      });
    }
    const state = this.advance();
    if (this.unreachable) {
      throw new Ups2MqttError('CONNECT_FAILED', 'the simulated UPS is unreachable (simulated)', {
        context: { command: name },
      });
    }
    const result = applySimCommand(state, name, this.nowIso(), args.delay_s);
    if (!result.ok) {
      // The UPS answered "not now" (a real unit replies NO/NA): report it, change nothing.
      throw new Ups2MqttError('SERVER_ERROR', `the UPS refused ${name}: ${result.reason}`, {
        context: { command: name, reason: result.reason },
      });
    }
    this.state = result.state;
    this.rearm();
    this.logger.info({ command: name, outcome: result.message }, 'simulated UPS command');
    this.wake();
    return { message: result.message };
  }

  async close(): Promise<void> {
    if (this.wakeTimer !== null) this.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    this.state = null;
    this.settings = null;
  }

  private isCommCommand(name: string): boolean {
    return (
      this.spec.params.unreachable !== undefined &&
      (SIM_COMM_COMMANDS as readonly string[]).includes(name)
    );
  }

  private setReachability(lost: boolean): CommandOutcome {
    this.requireOpen();
    const changed = this.unreachable !== lost;
    this.unreachable = lost;
    const message = lost ? 'communication lost (simulated)' : 'communication restored';
    this.logger.info({ unreachable: lost }, message);
    if (changed) this.wake();
    return { message };
  }

  private requireOpen(): { state: SimState; settings: SimSettings } {
    if (this.state === null || this.settings === null) {
      throw new Ups2MqttError('CONNECT_FAILED', 'the simulated UPS is not open', {
        context: { source: this.description },
      });
    }
    return { state: this.state, settings: this.settings };
  }

  private nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  /** Moves the model to the clock's now, scaled by `speed`. */
  private advance(): SimState {
    const { state, settings } = this.requireOpen();
    const now = this.clock.now();
    const dt = Math.max(0, now - this.lastAt) * settings.speed;
    this.lastAt = now;
    this.state = step(state, dt, this.nowIso());
    return this.state;
  }

  /** Schedules one wake-up for the model's next discrete change (outage, test end, low battery…). */
  private rearm(): void {
    if (this.wakeTimer !== null) this.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    if (this.state === null || this.settings === null) return;
    const simMs = msToNextEvent(this.state);
    if (!Number.isFinite(simMs)) return;
    const wallMs = Math.max(1, Math.ceil(simMs / this.settings.speed));
    this.wakeTimer = this.clock.setTimeout(() => {
      this.wakeTimer = null;
      this.wake();
    }, wallMs);
  }

  private wake(): void {
    for (const listener of [...this.wakeListeners]) {
      try {
        listener();
      } catch (err) {
        this.logger.warn({ err }, 'wake listener failed');
      }
    }
  }
}

/** Builds a SimSource for a parsed `sim://` spec. */
export function createSimSource(spec: SimSpec, deps: SimSourceDeps): SimSource {
  return new SimSource({ spec, clock: deps.clock, logger: deps.logger });
}
