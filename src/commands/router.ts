import type { Clock } from '../core/clock.ts';
import { isUps2MqttError } from '../core/errors.ts';
import type { UpsEvent } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type { Publisher } from '../core/ports.ts';
import type { CommandArgs, UpsSource } from '../core/source.ts';
import { isoWithOffset } from '../core/time.ts';
import type { IncomingMessage } from '../mqtt/gateway.ts';
import type { Topics } from '../mqtt/topics.ts';
import { MAX_DELAY_S, parseCommandPayload } from './parse.ts';
import { ReportBudget } from './report-budget.ts';

/** Commands that cut or risk the load: off unless allowed in the config, and armed. */
export const DESTRUCTIVE_COMMANDS: ReadonlySet<string> = new Set([
  'shutdown.return',
  'shutdown.stayoff',
  'shutdown.reboot',
  'shutdown.reboot.graceful',
  'load.off',
  'calibrate.start',
]);

/** Commands that take the shutdown delay. */
const DELAYED_COMMANDS: ReadonlySet<string> = new Set(['shutdown.return', 'shutdown.stayoff']);

/** Router-owned commands: arming for destructive ones. */
export const ARM_COMMAND = 'arm';
export const DISARM_COMMAND = 'disarm';

export type CommandResultCode =
  | 'done'
  | 'armed'
  | 'disarmed'
  | 'unsupported'
  | 'disabled'
  | 'not_armed'
  | 'rate_limited'
  | 'unavailable'
  | 'retained'
  | 'bad_payload'
  | 'payload_too_large'
  | 'failed';

export interface CommandResult {
  status: 'ok' | 'error';
  command: string;
  transaction?: string;
  code: CommandResultCode;
  message: string;
  armed_until?: string;
}

export interface CommandTarget {
  upsId: string;
  source: UpsSource;
  /** Whether the UPS is being read right now (destructive commands need it). */
  available(): boolean;
  /** Called after a command ran, so the UPS is read again at once. */
  afterCommand(): void;
}

/**
 * Who asks for a command. Every origin passes the same guards, except `policy`: the power
 * policy's UPS command is permitted by its own config line (`shutdown.ups_command`), so it
 * needs neither `commands.allow` nor arming and is not rate limited.
 */
export type CommandOrigin = 'mqtt' | 'local' | 'nut' | 'policy';

/** A command asked for by any front end (MQTT, NUT's INSTCMD, the demo's keys, the policy). */
export interface CommandRequest {
  name: string;
  args?: CommandArgs;
  transaction?: string;
  origin: CommandOrigin;
}

/** What `attach` needs from the MQTT gateway. */
export interface Subscriber {
  subscribe(filter: string, fn: (msg: IncomingMessage) => void): Promise<() => void>;
}

export interface CommandRouterOptions {
  allow: ReadonlySet<string>;
  armWindowMs: number;
  rateLimitMs: number;
  shutdownDelayS: number;
}

/**
 * Command topics → guard → source → result. The guard, in order:
 * never a retained message; the payload parses; the source advertises the command; it is
 * enabled (destructive ones only when listed in `commands.allow`); a destructive one is
 * armed (an `arm` message within `commands.arm_window`) and the UPS is being read; the
 * per-command rate limit. Every accepted or refused command is logged, answered on its
 * result topic and published as an event; those that ran nothing, within a budget per
 * second (UNANSWERED_REPORTS_PER_S).
 */
export class CommandRouter {
  private readonly armedUntil = new Map<string, number>();
  private readonly lastRun = new Map<string, number>();
  private readonly shutdownDelay = new Map<string, number>();
  private readonly attached = new Set<string>();
  private readonly budget: ReportBudget;

  constructor(
    private readonly opts: CommandRouterOptions,
    private readonly publisher: Publisher,
    private readonly topics: Topics,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {
    this.budget = new ReportBudget(clock, logger);
  }

  /** Commands a UPS offers on MQTT: advertised by its source and enabled here. */
  enabledCommands(source: UpsSource): string[] {
    return source
      .capabilities()
      .commands.filter((c) => !DESTRUCTIVE_COMMANDS.has(c) || this.opts.allow.has(c));
  }

  /** Whether the UPS has destructive commands that need arming. */
  needsArming(source: UpsSource): boolean {
    return this.enabledCommands(source).some((c) => DESTRUCTIVE_COMMANDS.has(c));
  }

  /** Whether the shutdown-delay setting applies to this UPS. */
  hasShutdownDelay(source: UpsSource): boolean {
    return this.enabledCommands(source).some((c) => DELAYED_COMMANDS.has(c));
  }

  shutdownDelayFor(upsId: string): number {
    return this.shutdownDelay.get(upsId) ?? this.opts.shutdownDelayS;
  }

  /** The shutdown-delay topics: `<base>/<id>/shutdown_delay` (state) and `/set`. */
  shutdownDelayTopic(upsId: string): string {
    return this.topics.shutdownDelay(upsId);
  }

  /** Publishes the current shutdown delay (retained) so Home Assistant's number shows it. */
  async publishShutdownDelay(upsId: string): Promise<void> {
    await this.publisher.publish(
      this.shutdownDelayTopic(upsId),
      String(this.shutdownDelayFor(upsId)),
      { retain: true },
    );
  }

  /** A new shutdown delay from Home Assistant's number entity. */
  async handleShutdownDelay(upsId: string, msg: IncomingMessage): Promise<void> {
    if (msg.retain) return;
    const value = Number(msg.payload.toString('utf8').trim());
    if (!Number.isInteger(value) || value < 0 || value > MAX_DELAY_S) {
      this.logger.warn(
        { ups: upsId, payload: msg.payload.toString('utf8').slice(0, 64) },
        `shutdown delay must be a whole number from 0 to ${MAX_DELAY_S}`,
      );
    } else {
      this.shutdownDelay.set(upsId, value);
      this.logger.info({ ups: upsId, delay_s: value }, 'shutdown delay set');
    }
    await this.publishShutdownDelay(upsId);
  }

  /**
   * Subscribes the command topics of one UPS (and the shutdown-delay number where it
   * applies) on `subscriber`. Idempotent per UPS id; a UPS without commands gets nothing.
   */
  async attach(subscriber: Subscriber, target: CommandTarget): Promise<void> {
    if (this.attached.has(target.upsId)) return;
    if (target.source.capabilities().commands.length === 0) return;
    this.attached.add(target.upsId);
    await subscriber.subscribe(this.topics.commandFilter(target.upsId), (msg) => {
      void this.handle(target, msg);
    });
    if (this.hasShutdownDelay(target.source)) {
      await subscriber.subscribe(this.topics.shutdownDelaySet(target.upsId), (msg) => {
        void this.handleShutdownDelay(target.upsId, msg);
      });
      await this.publishShutdownDelay(target.upsId);
    }
  }

  /** Whether `attach` subscribed this UPS. */
  isAttached(upsId: string): boolean {
    return this.attached.has(upsId);
  }

  /** A message on a command topic: parsed, then through the guards like every request. */
  async handle(target: CommandTarget, msg: IncomingMessage): Promise<CommandResult | undefined> {
    const name = this.topics.commandName(target.upsId, msg.topic);
    if (name === undefined) return undefined;
    const parsed = parseCommandPayload(msg.payload);
    const tx = parsed.transaction;
    let result: CommandResult;
    if (msg.retain) {
      result = refusal(
        name,
        'retained',
        'retained command messages are never executed; clear it with an empty retained publish',
        tx,
      );
    } else if (!parsed.ok) {
      result = refusal(name, parsed.code, parsed.message, tx);
    } else {
      return this.execute(target, {
        name,
        args: parsed.args,
        origin: 'mqtt',
        ...(tx === undefined ? {} : { transaction: tx }),
      });
    }
    await this.report(target, result, 'mqtt');
    return result;
  }

  /**
   * Runs one request through the guards and, when they pass, at the source; the result is
   * logged, published on the result topic and as an event, whoever asked.
   */
  async execute(target: CommandTarget, req: CommandRequest): Promise<CommandResult> {
    const result = await this.decide(target, req);
    await this.report(target, result, req.origin);
    return result;
  }

  private async decide(target: CommandTarget, req: CommandRequest): Promise<CommandResult> {
    const { name } = req;
    const tx = req.transaction;
    const refuse = (code: CommandResultCode, message: string): CommandResult =>
      refusal(name, code, message, tx);
    const now = this.clock.now();
    const ok = (code: CommandResultCode, message: string): CommandResult => ({
      status: 'ok',
      command: name,
      ...(tx === undefined ? {} : { transaction: tx }),
      code,
      message,
    });
    // The power policy's own commands: its config line is the permission (docs/mqtt.md).
    const trusted = req.origin === 'policy';

    if (name === ARM_COMMAND || name === DISARM_COMMAND) {
      if (!this.needsArming(target.source))
        return refuse('unsupported', 'no destructive command is enabled for this UPS');
      if (name === DISARM_COMMAND) {
        this.armedUntil.delete(target.upsId);
        return ok('disarmed', 'destructive commands disarmed');
      }
      const until = now + this.opts.armWindowMs;
      this.armedUntil.set(target.upsId, until);
      return {
        ...ok(
          'armed',
          `destructive commands armed for ${Math.round(this.opts.armWindowMs / 1000)} s`,
        ),
        armed_until: isoWithOffset(new Date(until)),
      };
    }
    if (!target.source.capabilities().commands.includes(name)) {
      return refuse('unsupported', 'this UPS or source does not offer this command');
    }
    const destructive = DESTRUCTIVE_COMMANDS.has(name);
    if (destructive && !trusted && !this.opts.allow.has(name)) {
      return refuse('disabled', 'this command is disabled; list it in commands.allow to enable it');
    }
    if (destructive && !trusted && (this.armedUntil.get(target.upsId) ?? 0) < now) {
      return refuse(
        'not_armed',
        `send "${ARM_COMMAND}" first; destructive commands run only within the arming window`,
      );
    }
    if (destructive && !target.available()) {
      return refuse('unavailable', 'the UPS is not being read; refusing a destructive command');
    }
    const key = `${target.upsId}\u0000${name}`;
    const last = this.lastRun.get(key);
    if (!trusted && last !== undefined && now - last < this.opts.rateLimitMs) {
      return refuse(
        'rate_limited',
        `wait ${Math.ceil((this.opts.rateLimitMs - (now - last)) / 1000)} s before sending it again`,
      );
    }
    const args: CommandArgs = { ...req.args };
    if (DELAYED_COMMANDS.has(name) && args.delay_s === undefined)
      args.delay_s = this.shutdownDelayFor(target.upsId);
    this.lastRun.set(key, now);
    if (destructive && !trusted) this.armedUntil.delete(target.upsId);
    try {
      const outcome = await target.source.command(name, args);
      target.afterCommand();
      return ok('done', outcome.message ?? 'done');
    } catch (err) {
      const code = isUps2MqttError(err, 'SOURCE_UNSUPPORTED') ? 'unsupported' : 'failed';
      return refuse(code, err instanceof Error ? err.message : String(err));
    }
  }

  private async report(
    target: CommandTarget,
    result: CommandResult,
    origin: CommandOrigin,
  ): Promise<void> {
    // Executions are rate limited per command; everything else is answered within a budget
    // (report-budget.ts), so a flood of messages does not become a flood of answers.
    const ran = result.code === 'done';
    if (!ran && origin !== 'policy' && !this.budget.take(target.upsId)) return;
    const log = this.logger.child({ ups: target.upsId, command: result.command, origin });
    const fields = { code: result.code, transaction: result.transaction, reason: result.message };
    if (result.status === 'ok') log.info(fields, 'command accepted');
    else log.warn(fields, 'command refused');
    await this.publisher.publish(
      this.topics.commandResult(target.upsId, result.command),
      JSON.stringify(result),
      { retain: false },
    );
    const event: UpsEvent = {
      event_type: result.status === 'ok' ? 'command_executed' : 'command_refused',
      at: isoWithOffset(new Date(this.clock.now())),
      message: `${result.command}: ${result.message}`,
      origin: 'bridge',
      command: result.command,
      code: result.code,
      ...(result.transaction === undefined ? {} : { transaction: result.transaction }),
    };
    await this.publisher.publish(this.topics.event(target.upsId), JSON.stringify(event), {
      retain: false,
      queueWhileOffline: true,
    });
  }
}

function refusal(
  command: string,
  code: CommandResultCode,
  message: string,
  transaction: string | undefined,
): CommandResult {
  return {
    status: 'error',
    command,
    ...(transaction === undefined ? {} : { transaction }),
    code,
    message,
  };
}
