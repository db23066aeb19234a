import type { Clock } from '../../core/clock.ts';
import { isUps2MqttError, Ups2MqttError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type {
  CommandArgs,
  CommandOutcome,
  SourceCapabilities,
  SourceReading,
  UpsSource,
} from '../../core/source.ts';
import type { UpsData } from '../../core/state.ts';
import { describeNutSpec, NUT_ALL_UPSES, type SourceSpec } from '../uri.ts';
import type { NutClient, NutClientOptions } from './client.ts';
import { sendNutCommand } from './command.ts';
import { mapNutVars } from './map.ts';
import { parseCmdList, parseVarList } from './parse.ts';
import type { NutClientRegistry } from './registry.ts';

/** Identity keys carried into the comm-lost reading, so the device stays the same. */
const IDENTITY_KEYS = ['model', 'serial_number', 'manufacturer', 'firmware', 'ups_name'] as const;

/** How often the command list is asked again while the UPS is read (default 10 min). */
const DEFAULT_COMMANDS_REFRESH_MS = 10 * 60_000;

/** Options of {@link NutSource}. */
export interface NutSourceOptions {
  spec: Extract<SourceSpec, { kind: 'nut' }>;
  /** The shared connection to the spec's upsd. */
  client: NutClient;
  /** Releases `client` when this source closes (the registry's reference count). */
  release?: () => void;
  /** Command names the command framework knows; advertised ∩ these are offered. */
  knownCommands: ReadonlySet<string>;
  /** Connection settings for the per-command connection (timeouts, TLS, CA). */
  commandConnection: Omit<NutClientOptions, 'logger'>;
  logger: Logger;
  clock: Clock;
  commandsRefreshMs?: number;
  /** Time allowed for the driver to confirm a tracked command (default 5000 ms). */
  commandTrackingMs?: number;
}

/**
 * One UPS served by upsd. Each read is one `LIST VAR <ups>` on the connection shared with
 * the other UPSes of that upsd; `LIST CMD <ups>` is asked on the first good read and every
 * `commandsRefreshMs` after. When upsd says it has no current data (`DATA-STALE`,
 * `DRIVER-NOT-CONNECTED`, `UNKNOWN-UPS`, `ups.status: WAIT`) the reading says `comm_lost` (the bridge
 * then publishes the UPS unavailable), keeping the identity of the last good reading;
 * before any good reading such a reply is an error (DATA_STALE), so the UPS id is never
 * derived from an empty reading. Events come from state changes (nativeEvents false).
 */
export class NutSource implements UpsSource {
  readonly description: string;
  private commands: string[] = [];
  private commandsAt: number | undefined;
  private identity: UpsData | undefined;
  private lastWarnings = '';
  private closed = false;
  /** A read is in flight. */
  private reading = false;
  /** The last read failed for want of a working connection to upsd (not an ERR reply). */
  private lostConnection = false;

  constructor(private readonly opts: NutSourceOptions) {
    this.description = describeNutSpec(opts.spec);
  }

  capabilities(): SourceCapabilities {
    return { commands: this.commands, stickyFields: [] };
  }

  /** Nothing to open: the first read connects (or reuses the upsd's connection). */
  async open(): Promise<void> {}

  async read(signal: AbortSignal): Promise<SourceReading> {
    this.reading = true;
    try {
      const reading = await this.readOnce(signal);
      this.lostConnection = false;
      return reading;
    } catch (err) {
      // An ERR reply came over a working connection; anything else did not get through.
      this.lostConnection = !(isUps2MqttError(err) && err.context.nutError !== undefined);
      throw err;
    } finally {
      this.reading = false;
    }
  }

  private async readOnce(signal: AbortSignal): Promise<SourceReading> {
    const ups = this.opts.spec.ups;
    let vars: Map<string, string>;
    try {
      vars = parseVarList(ups, await this.opts.client.list(`VAR ${ups}`, signal));
    } catch (err) {
      // upsd has no data of this UPS (driver gone, or the UPS gone from its config).
      if (isUps2MqttError(err, 'DATA_STALE') || isUps2MqttError(err, 'UPS_UNKNOWN')) {
        return this.commLost(err);
      }
      throw this.withSource(err);
    }
    const mapped = mapNutVars(vars);
    if (mapped.waiting) {
      return this.commLost(
        new Ups2MqttError('DATA_STALE', 'upsd is still waiting for the driver (ups.status WAIT)', {
          context: { nutStatus: 'WAIT' },
        }),
      );
    }
    const key = mapped.warnings.join('\n');
    if (key !== this.lastWarnings && mapped.warnings.length > 0) {
      this.opts.logger.debug({ warnings: mapped.warnings }, 'NUT values that were left out');
    }
    this.lastWarnings = key;
    this.identity = {};
    for (const k of IDENTITY_KEYS) {
      const v = mapped.data[k];
      if (v !== undefined) this.identity[k] = v;
    }
    await this.refreshCommands(signal);
    return { data: mapped.data, events: [], nativeEvents: false, unknown: mapped.unknown };
  }

  /**
   * NUT pushes nothing: changes are seen by polling. The one wake-up: when the connection
   * shared with the other UPSes of this upsd opens (another UPS's poll reconnected) while
   * this UPS's last read failed for want of it, so this UPS is back at once instead of at
   * its next poll (the shared client makes one connect attempt per gap, not one per UPS).
   */
  onWake(listener: () => void): () => void {
    return this.opts.client.onConnect(() => {
      if (this.lostConnection && !this.reading && !this.closed) listener();
    });
  }

  /**
   * `INSTCMD` with the URI's user on a connection of its own (see sendNutCommand). upsd's
   * refusals become coded errors whose message says why (the router answers `failed`, or
   * `unsupported` for CMD-NOT-SUPPORTED); a tracked command the driver failed is
   * COMMAND_FAILED. The delay of shutdown.return/stayoff is the UPS's own
   * `ups.delay.shutdown` (NUT sends no delay with these commands).
   */
  async command(name: string, _args: CommandArgs): Promise<CommandOutcome> {
    if (!this.commands.includes(name)) {
      throw new Ups2MqttError('SOURCE_UNSUPPORTED', `upsd does not offer "${name}" for this UPS`, {
        context: { command: name, source: this.description },
      });
    }
    const { spec } = this.opts;
    try {
      const result = await sendNutCommand({
        ...this.opts.commandConnection,
        logger: this.opts.logger,
        clock: this.opts.clock,
        ups: spec.ups,
        command: name,
        username: spec.username,
        password: spec.password,
        ...(this.opts.commandTrackingMs === undefined
          ? {}
          : { trackingMs: this.opts.commandTrackingMs }),
      });
      if (result.status === 'SUCCESS') return { message: 'executed by the NUT driver' };
      if (result.status === 'PENDING') {
        return { message: 'accepted by upsd; the driver has not confirmed it yet' };
      }
      return { message: 'accepted by upsd' };
    } catch (err) {
      throw this.withSource(err, { command: name });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.opts.release?.();
  }

  private commLost(err: Ups2MqttError): SourceReading {
    if (this.identity === undefined) throw this.withSource(err);
    return {
      data: {
        ...this.identity,
        comm_lost: true,
        status_text: String(err.context.nutError ?? 'WAIT'),
      },
      events: [],
      nativeEvents: false,
    };
  }

  private async refreshCommands(signal: AbortSignal): Promise<void> {
    const now = this.opts.clock.now();
    const every = this.opts.commandsRefreshMs ?? DEFAULT_COMMANDS_REFRESH_MS;
    if (this.commandsAt !== undefined && now - this.commandsAt < every) return;
    const ups = this.opts.spec.ups;
    try {
      const advertised = parseCmdList(ups, await this.opts.client.list(`CMD ${ups}`, signal));
      this.commands = advertised.filter((c) => this.opts.knownCommands.has(c)).sort();
      this.commandsAt = now;
    } catch (err) {
      // The reading stands; the list is asked again at the next read.
      this.opts.logger.debug({ err: errInfo(err) }, 'NUT LIST CMD failed');
    }
  }

  private withSource(err: unknown, extra: Record<string, unknown> = {}): unknown {
    if (!isUps2MqttError(err)) return err;
    return new Ups2MqttError(err.code, err.message, {
      cause: err,
      context: { ...err.context, ...extra, source: this.description, ups: this.opts.spec.ups },
    });
  }
}

function errInfo(err: unknown): Record<string, unknown> {
  if (isUps2MqttError(err)) return { code: err.code, message: err.message };
  return { message: err instanceof Error ? err.message : String(err) };
}

/** What {@link createNutSource} needs besides the URI. */
export interface NutSourceDeps {
  registry: NutClientRegistry;
  knownCommands: ReadonlySet<string>;
  logger: Logger;
  clock: Clock;
  /** How often the UPS is read (sets the shared client's gap between connect attempts). */
  pollIntervalMs?: number | undefined;
}

/** Builds a {@link NutSource} for one named UPS (`nut://host/*` is expanded before this). */
export function createNutSource(
  spec: Extract<SourceSpec, { kind: 'nut' }>,
  deps: NutSourceDeps,
): NutSource {
  if (spec.ups === NUT_ALL_UPSES) {
    throw new Ups2MqttError(
      'SOURCE_URI_INVALID',
      `${describeNutSpec(spec)} names every UPS of upsd; it is expanded into one source per UPS at start-up`,
    );
  }
  const { client, release } = deps.registry.acquire(spec, deps.pollIntervalMs);
  return new NutSource({
    spec,
    client,
    release,
    knownCommands: deps.knownCommands,
    commandConnection: deps.registry.connectionOptions(spec),
    logger: deps.logger,
    clock: deps.clock,
  });
}
