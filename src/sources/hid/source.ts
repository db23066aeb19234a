/**
 * `hid://` and `hid-replay://` sources: a UPS read directly over USB HID, driven by its
 * report descriptor. Feature reports are polled; interrupt Input reports update values
 * between polls and wake the bridge when a status flag changes (mains loss is seen at once).
 *
 * Resilience (docs/hid.md#failures-and-recovery): every transfer failure drops the connection with one clear log
 * line and rejects read() with a coded error (the bridge marks the UPS offline); the next
 * read() enumerates again, so a UPS that re-enumerated after a USB reset comes back by itself.
 */

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
import { Listeners } from '../../util/listeners.ts';
import { availableCommands, planCommand } from './commands.ts';
import { type ConnectOptions, connectHid, type HidConnection } from './connect.ts';
import { describeReadBack, unknownValues } from './describe.ts';
import { bytesToHex } from './descriptor/items.ts';
import { identityOf } from './identity.ts';
import { type MappingContext, mapSignals } from './mapping.ts';
import { abortCheck, HidPoller, transferError } from './poller.ts';
import { deviceLabel, type HidSelector } from './select.ts';
import { type HidEnumerator, HidTransportError } from './transport.ts';

/** Options of {@link HidSource}. */
export interface HidSourceOptions {
  /** The URI for logs (`hid://051d:0002`, `hid-replay://ups.json`). */
  description: string;
  selector: HidSelector;
  enumerator: HidEnumerator;
  logger: Logger;
  clock: Clock;
  /** Longest wait for one control transfer (default 2000 ms). */
  timeoutMs?: number;
  /** Least time between control transfers (default 20 ms, apcupsd's value). */
  minGapMs?: number;
  /** How often static values (nominal voltages, dates…) are read again (default 5 min). */
  staticRefreshMs?: number;
  /** Extra lines for the "not found" error (claimed-by-another-driver hints). */
  explainMissing?: () => Promise<string[]>;
  /**
   * Keeps the process alive during an operation and returns the release function. The
   * injected clock's timers are unref'd (core/clock.ts), so a one-shot `ups2mqtt status`
   * without sockets would otherwise exit during the 20 ms pacing between transfers.
   */
  holdProcess?: () => () => void;
}

interface Active {
  conn: HidConnection;
  poller: HidPoller;
  unsubscribe: (() => void)[];
}

/** A UPS read over USB HID. */
export class HidSource implements UpsSource {
  readonly description: string;
  private readonly opts: HidSourceOptions;
  private readonly wake: Listeners<[]>;
  private active: Active | undefined;
  private connecting: Promise<Active> | undefined;
  private commands: string[] = [];
  private deepTestRunning = false;
  private lastProblem: string | undefined;
  /** Bumped by close(), so a connect still in flight then is discarded. */
  private generation = 0;

  constructor(opts: HidSourceOptions) {
    this.opts = opts;
    this.description = opts.description;
    this.wake = new Listeners(opts.logger, 'hid wake');
  }

  /** Commands are known once the descriptor was read; they stay advertised while offline. */
  capabilities(): SourceCapabilities {
    return { commands: this.commands, stickyFields: [] };
  }

  /** Connects now, so configuration problems show at start; read() retries on its own. */
  async open(): Promise<void> {
    await this.held(() => this.connection());
  }

  read(signal: AbortSignal): Promise<SourceReading> {
    return this.held(() => this.readNow(signal));
  }

  onWake(listener: () => void): () => void {
    return this.wake.add(listener);
  }

  command(name: string, args: CommandArgs): Promise<CommandOutcome> {
    return this.held(() => this.commandNow(name, args));
  }

  async close(): Promise<void> {
    this.generation++;
    const active = this.active;
    this.detach();
    if (active) await active.conn.session.transport.close().catch(() => undefined);
  }

  private async held<T>(fn: () => Promise<T>): Promise<T> {
    const release = this.opts.holdProcess?.();
    try {
      return await fn();
    } finally {
      release?.();
    }
  }

  private async readNow(signal: AbortSignal): Promise<SourceReading> {
    abortCheck(signal, this.description);
    const { conn, poller } = await this.connection();
    try {
      await poller.poll(this.opts.clock.now(), signal);
    } catch (err) {
      if (isUps2MqttError(err, 'ABORTED')) throw err;
      throw await this.lose(conn, err);
    }
    if (this.lastProblem !== undefined) {
      // Back only once it answers: a device that opens and then stalls again is not.
      this.opts.logger.info({ device: deviceLabel(conn.device) }, 'HID UPS is back');
      this.lastProblem = undefined;
    }
    const test = poller.lookup('test');
    // A test result (passed, warning, error, aborted) ends a calibration we started.
    if (test !== undefined && test >= 1 && test <= 4) this.deepTestRunning = false;
    const data = {
      ...identityOf(conn.device),
      ...mapSignals(poller.lookup, this.mappingContext(conn)),
    };
    return { data, events: [], nativeEvents: false, unknown: unknownValues(conn, poller.store) };
  }

  private async commandNow(name: string, args: CommandArgs): Promise<CommandOutcome> {
    const { conn, poller } = await this.connection();
    const plan = planCommand(conn.commands, name, args);
    const sent: string[] = [];
    try {
      for (const w of plan.writes) {
        sent.push(bytesToHex(await conn.session.writeField(w.field, w.logical)));
      }
      // Read back what the UPS made of it (apcupsd logs the value after every write, docs/protocols/hid.md#polling).
      await poller.readFeature(plan.readBack.reportId);
      if (plan.shutdown && conn.quirks.statusAfterShutdown) await this.rereadStatus(conn, poller);
    } catch (err) {
      // A report this UPS does not serve is the command's problem, not the connection's.
      if (err instanceof HidTransportError && err.failure === 'no_report') {
        throw new Ups2MqttError('PROTOCOL_ERROR', `${name} failed: ${err.message}`, {
          cause: err,
          context: { command: name, sent },
        });
      }
      throw await this.lose(conn, err);
    }
    const readBack = poller.store.get(plan.readBack.path);
    if (name === 'test.battery.start.deep') this.deepTestRunning = true;
    if (name === 'test.battery.stop') this.deepTestRunning = false;
    this.opts.logger.info({ command: name, sent, readBack }, `HID command: ${plan.summary}`);
    this.wake.emit();
    return { message: `${plan.summary}; ${describeReadBack(plan, readBack)}` };
  }

  /** The Back-UPS RS1000G repeats a killpower on re-enumeration unless APCStatusFlag is read. */
  private async rereadStatus(conn: HidConnection, poller: HidPoller): Promise<void> {
    for (const path of conn.signalPaths.apcStatusFlag) {
      const f = conn.map.fieldsAt(path).find((x) => x.kind === 'feature');
      if (f) return poller.readFeature(f.reportId);
    }
  }

  private mappingContext(conn: HidConnection): MappingContext {
    return {
      deepTestRunning: this.deepTestRunning,
      runtimeInMinutes: !!conn.quirks.runtimeInMinutes,
    };
  }

  /** The open connection, or a new one (one attempt at a time). */
  private async connection(): Promise<Active> {
    if (this.active) return this.active;
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<Active> {
    const o = this.opts;
    const generation = this.generation;
    const options: ConnectOptions = {
      selector: o.selector,
      enumerator: o.enumerator,
      clock: o.clock,
      timeoutMs: o.timeoutMs ?? 2000,
      minGapMs: o.minGapMs ?? 20,
    };
    if (o.explainMissing) options.explainMissing = o.explainMissing;
    let conn: HidConnection;
    try {
      conn = await connectHid(options);
    } catch (err) {
      const coded = isUps2MqttError(err)
        ? err
        : new Ups2MqttError('CONNECT_FAILED', `cannot open ${this.description}: ${String(err)}`, {
            cause: err,
          });
      this.report(coded, 'HID UPS not available');
      throw coded;
    }
    if (generation !== this.generation) {
      await conn.session.transport.close().catch(() => undefined);
      throw new Ups2MqttError('ABORTED', 'HID source closed while connecting', {
        context: { source: this.description },
      });
    }
    const attached = this.attach(conn);
    const opened = {
      device: deviceLabel(conn.device),
      layout: conn.layout,
      quirks: conn.quirkIds,
      commands: this.commands,
      interrupt: !conn.quirks.noInterrupt,
    };
    // After a problem, opening proves little (a stalled device opens, then times out again):
    // readNow() says "is back" on the first answer, and keeps the problem until then, so a
    // repeating failure stays one warning.
    if (this.lastProblem === undefined) o.logger.info(opened, 'HID UPS opened');
    else o.logger.debug(opened, 'HID UPS opened again; waiting for its first answer');
    return attached;
  }

  private attach(conn: HidConnection): Active {
    const poller = new HidPoller(conn, {
      logger: this.opts.logger,
      staticRefreshMs: this.opts.staticRefreshMs ?? 300_000,
      source: this.description,
    });
    const t = conn.session.transport;
    const unsubscribe = [
      t.onError((err) => {
        void this.lose(conn, err).then(() => this.wake.emit());
      }),
    ];
    // NUT disables the interrupt pipe where it is unreliable (quirks.ts).
    if (!conn.quirks.noInterrupt) {
      unsubscribe.push(
        t.onInputReport((report) => {
          if (this.active?.conn !== conn || report.length === 0) return;
          if (poller.applyInput(report, this.mappingContext(conn))) this.wake.emit();
        }),
      );
    }
    this.active = { conn, poller, unsubscribe };
    this.commands = availableCommands(conn.commands);
    return this.active;
  }

  private detach(): void {
    for (const u of this.active?.unsubscribe ?? []) u();
    this.active = undefined;
  }

  /** Drops a failed connection (logged once per distinct problem); returns the coded error. */
  private async lose(conn: HidConnection, err: unknown): Promise<Ups2MqttError> {
    const coded = transferError(err, conn, this.description);
    if (this.active?.conn !== conn) return coded;
    this.detach();
    await conn.session.transport.close().catch(() => undefined);
    this.report(coded, 'HID UPS lost; it is looked for again on the next read');
    return coded;
  }

  private report(err: Ups2MqttError, what: string): void {
    const key = `${err.code}:${err.message}`;
    const log = { err, code: err.code, source: this.description, ...err.context };
    if (key === this.lastProblem) this.opts.logger.debug(log, what);
    else this.opts.logger.warn(log, what);
    this.lastProblem = key;
  }
}
