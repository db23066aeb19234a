import type { Publisher } from '../bridge/ups-bridge.ts';
import { isUps2MqttError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { UpsSource } from '../core/source.ts';
import type { IncomingMessage } from '../mqtt/gateway.ts';
import type { Topics } from '../mqtt/topics.ts';
import { parseCommandPayload } from './parse.ts';

/** Commands that cut or risk the load: off unless the user allows them. */
export const DESTRUCTIVE_COMMANDS: ReadonlySet<string> = new Set([
  'shutdown.return',
  'shutdown.stayoff',
  'shutdown.reboot',
  'shutdown.reboot.graceful',
  'load.off',
  'calibrate.start',
]);

export type CommandResultCode =
  | 'done'
  | 'unsupported'
  | 'disabled'
  | 'bad_payload'
  | 'payload_too_large'
  | 'failed';

export interface CommandResult {
  status: 'ok' | 'error';
  command: string;
  transaction?: string;
  code: CommandResultCode;
  message: string;
}

export interface CommandTarget {
  upsId: string;
  source: UpsSource;
  /** Called after a command ran, so the UPS is read again at once. */
  afterCommand(): void;
}

/**
 * Command topics → guard → source → result topic (style.md habit 10). Retained messages
 * are never executed: a retained command would fire again on every reconnect.
 */
export class CommandRouter {
  constructor(
    private readonly opts: { allow: ReadonlySet<string> },
    private readonly publisher: Publisher,
    private readonly topics: Topics,
    private readonly logger: Logger,
  ) {}

  /** Commands a UPS offers on MQTT: advertised by its source and enabled here. */
  enabledCommands(source: UpsSource): string[] {
    return source
      .capabilities()
      .commands.filter((c) => !DESTRUCTIVE_COMMANDS.has(c) || this.opts.allow.has(c));
  }

  async handle(target: CommandTarget, msg: IncomingMessage): Promise<CommandResult | undefined> {
    const prefix = `${this.topics.base}/${target.upsId}/command/`;
    if (!msg.topic.startsWith(prefix)) return undefined;
    const name = msg.topic.slice(prefix.length);
    if (name === '' || name.includes('/')) return undefined;
    const log = this.logger.child({ ups: target.upsId, command: name });
    if (msg.retain) {
      log.warn('ignoring a retained command message (clear it with an empty retained publish)');
      return undefined;
    }
    const parsed = parseCommandPayload(msg.payload);
    const tx = parsed.transaction === undefined ? {} : { transaction: parsed.transaction };
    let result: CommandResult;
    if (!parsed.ok) {
      result = {
        status: 'error',
        command: name,
        ...tx,
        code: parsed.code,
        message: parsed.message,
      };
    } else if (!target.source.capabilities().commands.includes(name)) {
      result = {
        status: 'error',
        command: name,
        ...tx,
        code: 'unsupported',
        message: 'this UPS or source does not offer this command',
      };
    } else if (DESTRUCTIVE_COMMANDS.has(name) && !this.opts.allow.has(name)) {
      result = {
        status: 'error',
        command: name,
        ...tx,
        code: 'disabled',
        message: 'this command is disabled; allow it in the configuration',
      };
    } else {
      try {
        const outcome = await target.source.command(name, parsed.args);
        result = {
          status: 'ok',
          command: name,
          ...tx,
          code: 'done',
          message: outcome.message ?? 'done',
        };
        target.afterCommand();
      } catch (err) {
        const code = isUps2MqttError(err, 'SOURCE_UNSUPPORTED') ? 'unsupported' : 'failed';
        result = {
          status: 'error',
          command: name,
          ...tx,
          code,
          message: err instanceof Error ? err.message : String(err),
        };
      }
    }
    if (result.status === 'ok') log.info({ transaction: result.transaction }, 'command executed');
    else
      log.warn(
        { code: result.code, reason: result.message, transaction: result.transaction },
        'command refused',
      );
    await this.publisher.publish(
      this.topics.commandResult(target.upsId, name),
      JSON.stringify(result),
      { retain: false },
    );
    return result;
  }
}
