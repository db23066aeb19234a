/**
 * The reading state of one open UPS: latest values, the Feature reports it turned out not
 * to serve, and when static values were last read. A new poller comes with every
 * connection, so nothing read before a USB reset survives it.
 */

import { Ups2MqttError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { type HidConnection, planPolls } from './connect.ts';
import { ValueStore } from './decode.ts';
import { type MappingContext, type SignalLookup, statusKey } from './mapping.ts';
import { deviceLabel } from './select.ts';
import { HidTransportError } from './transport.ts';

/** Poller settings. */
export interface PollerOptions {
  logger: Logger;
  /** How often static values are read again. */
  staticRefreshMs: number;
  /** The source URI, for error context. */
  source: string;
}

/** Rejects with ABORTED when the signal fired. */
export function abortCheck(signal: AbortSignal, source: string): void {
  if (signal.aborted) {
    throw new Ups2MqttError('ABORTED', 'HID read aborted', {
      cause: signal.reason,
      context: { source },
    });
  }
}

/** A transfer failure as a coded error: coded errors (timeouts) stay, the rest PEER_CLOSED. */
export function transferError(err: unknown, conn: HidConnection, source: string): Ups2MqttError {
  if (err instanceof Ups2MqttError) return err;
  const failure = err instanceof HidTransportError ? err.failure : 'io';
  const text = err instanceof Error ? err.message : String(err);
  return new Ups2MqttError(
    'PEER_CLOSED',
    `${deviceLabel(conn.device)} stopped answering (${text}): unplugged, or re-enumerating after a USB reset`,
    { cause: err, context: { source, reason: failure } },
  );
}

const hexId = (id: number): string => `0x${id.toString(16).padStart(2, '0')}`;

/** Polls one connection. */
export class HidPoller {
  readonly store = new ValueStore();
  private readonly conn: HidConnection;
  private readonly opts: PollerOptions;
  private readonly unsupported = new Set<number>();
  private lastStaticAt: number | undefined;
  private knownGood: number | undefined;

  constructor(conn: HidConnection, opts: PollerOptions) {
    this.conn = conn;
    this.opts = opts;
  }

  /** The current value of a signal: its best path that has a value. */
  readonly lookup: SignalLookup = (name) => {
    for (const path of this.conn.signalPaths[name]) {
      const v = this.store.get(path);
      if (v !== undefined) return v;
    }
    return undefined;
  };

  /** Reads the Feature reports due now: volatile ones always, static ones now and then. */
  async poll(now: number, signal: AbortSignal): Promise<void> {
    const due =
      this.lastStaticAt === undefined || now - this.lastStaticAt >= this.opts.staticRefreshMs;
    const plan = planPolls(this.conn, this.unsupported);
    await this.readReports(due ? [...plan.volatile, ...plan.static] : plan.volatile, signal);
    if (due) this.lastStaticAt = now;
  }

  /** GETs one Feature report and stores its values. */
  async readFeature(reportId: number): Promise<void> {
    this.store.apply(this.conn.map, 'feature', await this.conn.session.getFeature(reportId));
  }

  /** Stores an interrupt report; true when a status flag changed (worth waking the bridge). */
  applyInput(report: Uint8Array, ctx: MappingContext): boolean {
    // Without report IDs hidapi delivers input data without the ID byte.
    const bytes = this.conn.map.descriptor.usesReportIds ? report : Uint8Array.of(0, ...report);
    const before = statusKey(this.lookup, ctx);
    if (this.store.apply(this.conn.map, 'input', bytes).length === 0) return false;
    return statusKey(this.lookup, ctx) !== before;
  }

  /**
   * A report the device refuses while a known-good one still reads is marked unsupported
   * and skipped from then on (one log line); any other failure is the device's and throws.
   */
  private async readReports(ids: readonly number[], signal: AbortSignal): Promise<void> {
    const failed: number[] = [];
    let lastReason = '';
    for (const id of ids) {
      abortCheck(signal, this.opts.source);
      try {
        await this.readFeature(id);
        this.knownGood ??= id;
      } catch (err) {
        if (!(err instanceof HidTransportError) || err.failure === 'gone') throw err;
        failed.push(id);
        lastReason = err.message;
      }
    }
    if (failed.length === 0) return;
    if (this.knownGood === undefined) {
      // The last refusal says why (a descriptor-only capture explains itself there).
      throw new HidTransportError(
        'io',
        `no Feature report could be read (tried ${ids.length}; last: ${lastReason})`,
      );
    }
    // Probe: when the device still answers, the failed reports are unsupported, not the device.
    await this.readFeature(this.knownGood);
    for (const id of failed) this.unsupported.add(id);
    this.opts.logger.warn(
      { reports: failed.map(hexId) },
      'the UPS does not serve these Feature reports; they are skipped from now on',
    );
  }
}
