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
import type { UpsStateKey } from '../../core/state.ts';
import { Listeners } from '../../util/listeners.ts';
import type { SourceSpec } from '../uri.ts';
import { runAction } from './actions.ts';
import { applyAlerts, type BatteryEpisode, followEpisode, markSelfTest } from './alerts.ts';
import { isSmartCommand, type SmartCommand, supportedCommands } from './capabilities.ts';
import { ALERT_MEANINGS, type AlertChar } from './framing.ts';
import { SmartLink } from './link.ts';
import { mapSmartValues, parseSmartNumber } from './map.ts';
import type { SmartTimeouts } from './protocol.ts';
import type { OpenSmartTransport } from './transport.ts';

/** Options of {@link ApcSmartSource}. */
export interface ApcSmartSourceOptions {
  path: string;
  logger: Logger;
  clock: Clock;
  openTransport: OpenSmartTransport;
  timeouts?: Partial<SmartTimeouts>;
  /** How often identity and EEPROM settings are read again (default 1 h, as NUT). */
  staticRefreshMs?: number;
}

/** Keys a Smart UPS reports only at times: `G` answers `NA` until it knows (docs/protocols/apcsmart.md#status-byte-and-code-tables). */
const STICKY_FIELDS: readonly UpsStateKey[] = ['last_transfer_reason', 'self_test_result'];

/** Commands whose output-off moment `delay_s` sets (see {@link ApcSmartSource.command}). */
const DELAYED: ReadonlySet<SmartCommand> = new Set([
  'shutdown.return',
  'shutdown.stayoff',
  'load.off',
]);

/**
 * An APC UPS on its Smart (UPS-Link) serial port: `apcsmart:///dev/ttyS0`.
 *
 * `read()` polls the unit's registers (status first), or, right after an alert character,
 * returns at once with the alert applied (`!` → on battery) and polls in the background,
 * waking the bridge again when the full reading is in. The port is reopened by itself after
 * it vanished (USB adapters re-enumerate): every read tries again.
 */
export class ApcSmartSource implements UpsSource {
  readonly description: string;
  private readonly link: SmartLink;
  private readonly wake: Listeners<[]>;
  private overlay: AlertChar[] = [];
  private alertPending = false;
  private polling: Promise<void> | undefined;
  private freshPoll = false;
  private selfTest: BatteryEpisode | undefined;
  private calibration: BatteryEpisode | undefined;
  private pendingShutdown: { name: SmartCommand; timer: TimerHandle } | undefined;

  constructor(private readonly opts: ApcSmartSourceOptions) {
    this.description = `apcsmart://${opts.path}`;
    this.wake = new Listeners(opts.logger, 'apcsmart wake');
    this.link = new SmartLink({
      ...opts,
      onAlert: (a) => this.onAlert(a),
      onLost: () => this.wake.emit(),
    });
  }

  /** Commands are known once the unit answered `a` (before that: none). */
  capabilities(): SourceCapabilities {
    return { commands: supportedCommands(this.link.identity?.info), stickyFields: STICKY_FIELDS };
  }

  /** Opens the port and identifies the unit; read() retries whatever failed here. */
  async open(): Promise<void> {
    this.link.reopen();
    await this.link.connect();
  }

  async read(signal: AbortSignal): Promise<SourceReading> {
    await abortable(this.link.connect(), signal);
    if (this.alertPending) {
      // An alert said what changed: publish that now, read the registers behind it.
      this.alertPending = false;
      const reading = this.snapshot();
      this.pollInBackground();
      return reading;
    }
    if (this.polling !== undefined) await abortable(this.polling, signal);
    else if (!this.freshPoll) await abortable(this.poll(), signal);
    this.freshPoll = false;
    return this.snapshot();
  }

  onWake(listener: () => void): () => void {
    return this.wake.add(listener);
  }

  /**
   * Executes an advertised command (docs/protocols/apcsmart.md#actions; docs/mqtt.md#commands). `delay_s`:
   * - `shutdown.return`, `shutdown.stayoff`: the output goes off no earlier than `delay_s`
   *   after this call. The UPS itself always waits its grace delay `p` (an EEPROM value,
   *   020/180/300/600 s, published as `shutdown_delay_s`; not rewritten here), so the command
   *   is held on this host for `delay_s − p` seconds first. A `delay_s` shorter than `p`
   *   cannot be met: the output goes off after `p`, and the result says so.
   * - `load.off`: `Z Z` cuts the load at once, so the whole `delay_s` is waited on this host.
   * - all others: ignored.
   * A command held on this host is cancelled by `shutdown.stop`, by a newer shutdown command
   * and by close(); it is lost if the process stops.
   */
  async command(name: string, args: CommandArgs): Promise<CommandOutcome> {
    if (!isSmartCommand(name) || !this.capabilities().commands.includes(name)) {
      throw new Ups2MqttError('SOURCE_UNSUPPORTED', `this UPS does not offer "${name}"`, {
        context: { command: name, source: this.description },
      });
    }
    if (name === 'shutdown.stop' && this.cancelPendingShutdown()) {
      this.opts.logger.info('held shutdown command cancelled');
    }
    if (DELAYED.has(name)) {
      const graceS =
        name === 'load.off' ? 0 : (parseSmartNumber(this.link.values.get('p') ?? '') ?? 0);
      const holdS = Math.max(0, (args.delay_s ?? 0) - graceS);
      const note = `; the UPS adds its ${graceS} s grace delay (p)`;
      if (holdS > 0) {
        this.holdShutdown(name, holdS);
        return {
          message: `${name} held for ${holdS} s on this host, then sent${name === 'load.off' ? '' : note}`,
        };
      }
      const { message } = await this.runNow(name);
      return { message: name === 'load.off' ? message : `${message}${note}` };
    }
    return this.runNow(name);
  }

  async close(): Promise<void> {
    if (this.cancelPendingShutdown()) {
      this.opts.logger.warn('source closed: the held shutdown command was not sent');
    }
    await this.link.close();
  }

  private async runNow(name: SmartCommand): Promise<{ message: string }> {
    await this.link.connect();
    const result = await this.link.session((io) =>
      runAction(io, name, {
        testRunning: this.selfTest !== undefined,
        calibrating: this.calibration !== undefined,
        hasTransferCause: this.link.identity?.info?.commands.has('G') === true,
      }),
    );
    const now = this.opts.clock.now();
    if (result.selfTest !== undefined) {
      this.selfTest = result.selfTest ? { startedAt: now, sawBattery: false } : undefined;
    }
    if (result.calibrating !== undefined) {
      this.calibration = result.calibrating ? { startedAt: now, sawBattery: false } : undefined;
    }
    this.opts.logger.info({ command: name }, result.message);
    this.wake.emit();
    return { message: result.message };
  }

  private holdShutdown(name: SmartCommand, holdS: number): void {
    if (this.cancelPendingShutdown()) this.opts.logger.info('earlier held shutdown replaced');
    const timer = this.opts.clock.setTimeout(() => {
      this.pendingShutdown = undefined;
      this.runNow(name).catch((err: unknown) =>
        this.opts.logger.error({ err, command: name }, 'held shutdown command failed'),
      );
    }, holdS * 1000);
    this.pendingShutdown = { name, timer };
    this.opts.logger.warn({ command: name, holdS }, 'shutdown command held on this host');
  }

  private cancelPendingShutdown(): boolean {
    if (this.pendingShutdown === undefined) return false;
    this.opts.clock.clearTimeout(this.pendingShutdown.timer);
    this.pendingShutdown = undefined;
    return true;
  }

  private poll(): Promise<void> {
    // Alerts before this poll are superseded by the registers it reads; later ones stay.
    this.overlay = [];
    const run = this.link.readValues().finally(() => {
      if (this.polling === run) this.polling = undefined;
    });
    this.polling = run;
    return run;
  }

  private pollInBackground(): void {
    if (this.polling !== undefined) return;
    this.poll().then(
      () => {
        this.freshPoll = true;
        this.wake.emit();
      },
      (err: unknown) => this.opts.logger.debug({ err }, 'background poll after an alert failed'),
    );
  }

  private snapshot(): SourceReading {
    const { data, unknown } = mapSmartValues(this.link.values);
    const withAlerts = applyAlerts(data, this.overlay);
    const now = this.opts.clock.now();
    this.selfTest = followEpisode(this.selfTest, withAlerts.on_battery, now);
    this.calibration = followEpisode(this.calibration, withAlerts.on_battery, now);
    const out = markSelfTest(withAlerts, this.selfTest);
    if (this.calibration !== undefined) out.calibrating = true;
    return { data: out, events: [], nativeEvents: false, unknown };
  }

  private onAlert(alert: AlertChar): void {
    this.overlay.push(alert);
    this.alertPending = true;
    if (alert === '|') this.link.markStaticDue();
    this.opts.logger.debug({ alert, meaning: ALERT_MEANINGS[alert] }, 'UPS alert');
    this.wake.emit();
  }
}

/** Rejects with ABORTED as soon as `signal` aborts (the work itself goes on). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  const aborted = (): Ups2MqttError =>
    new Ups2MqttError('ABORTED', 'Smart UPS read aborted', { cause: signal.reason });
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** What {@link createApcSmartSource} needs besides the URI. */
export interface ApcSmartSourceDeps {
  logger: Logger;
  clock: Clock;
  /** Opens the port; default the serialport adapter (loaded on first use). */
  openTransport?: OpenSmartTransport;
  timeouts?: Partial<SmartTimeouts>;
}

/** Builds an {@link ApcSmartSource} from a parsed `apcsmart:///dev/ttyX` URI. */
export function createApcSmartSource(
  spec: Extract<SourceSpec, { kind: 'apcsmart' }>,
  deps: ApcSmartSourceDeps,
): ApcSmartSource {
  const logger = deps.logger.child({ source: `apcsmart://${spec.path}` });
  const openTransport: OpenSmartTransport =
    deps.openTransport ??
    (async (path) => {
      const { openSerialPortTransport } = await import('./serialport-transport.ts');
      return openSerialPortTransport(path, { logger });
    });
  const options: ApcSmartSourceOptions = {
    path: spec.path,
    logger,
    clock: deps.clock,
    openTransport,
  };
  if (deps.timeouts !== undefined) options.timeouts = deps.timeouts;
  return new ApcSmartSource(options);
}
