/**
 * One open HID device: paced, serialized, time-limited control transfers over a
 * HidTransport. apcupsd keeps at least 20 ms between control transfers because the 650 CS
 * and 800 RS lock up otherwise (docs/protocols/hid.md#polling); reads are serialized so a command, a
 * poll and a dump never interleave on the control pipe.
 */

import type { Clock } from '../../core/clock.ts';
import { Ups2MqttError } from '../../core/errors.ts';
import { writeField } from './bits.ts';
import { bytesToHex } from './descriptor/items.ts';
import type { HidField } from './descriptor/parser.ts';
import type { ReportMap } from './report-map.ts';
import { type HidTransport, HidTransportError } from './transport.ts';

/** Session settings. */
export interface HidSessionOptions {
  clock: Clock;
  /** Longest wait for one transfer. */
  timeoutMs: number;
  /** Least time between two control transfers. */
  minGapMs: number;
  /** Buffer length for every GET (ID byte included); 0 = the descriptor's length per report. */
  bufferLength: number;
  /**
   * Whether the map's report lengths are the device's (a parsed descriptor) rather than the
   * known extent of a built-in map; only then are SETs cut to the declared length.
   */
  exactLengths: boolean;
  /** For error context. */
  device: string;
}

/** Paced access to one device. */
export class HidSession {
  readonly transport: HidTransport;
  readonly map: ReportMap;
  private readonly opts: HidSessionOptions;
  private queue: Promise<unknown> = Promise.resolve();
  private lastTransferAt = Number.NEGATIVE_INFINITY;

  constructor(transport: HidTransport, map: ReportMap, opts: HidSessionOptions) {
    this.transport = transport;
    this.map = map;
    this.opts = opts;
  }

  /** GET_REPORT(Feature) of one report; the result starts with the report ID. */
  getFeature(reportId: number): Promise<Uint8Array> {
    const length = this.opts.bufferLength || this.map.reportLength('feature', reportId);
    return this.serial(`GET feature 0x${hex(reportId)}`, async () => {
      const report = await this.transport.getFeatureReport(reportId, Math.max(length, 2));
      if (report.length === 0 || report[0] !== reportId) {
        throw new HidTransportError(
          'io',
          `report 0x${hex(reportId)} came back as ${bytesToHex(report.slice(0, 8)) || 'nothing'}`,
        );
      }
      return report;
    });
  }

  /** SET_REPORT(Feature) of whole report bytes. */
  setFeature(bytes: Uint8Array): Promise<number> {
    return this.serial(`SET feature 0x${hex(bytes[0] ?? 0)}`, () =>
      this.transport.sendFeatureReport(bytes),
    );
  }

  /**
   * Read-modify-write of one field (apcupsd's write_int_to_ups, docs/protocols/hid.md#polling): GET the whole report,
   * patch the field in place, SET it back. Returns the exact bytes sent.
   */
  async writeField(field: HidField, logical: number): Promise<Uint8Array> {
    const current = await this.getFeature(field.reportId);
    const declared = this.map.reportLength('feature', field.reportId);
    // Send exactly the declared length: a longer GET buffer must not leak into the SET, and a
    // short answer is padded so the field is really written.
    const length = this.opts.exactLengths ? declared : Math.max(declared, current.length);
    const base = new Uint8Array(length);
    base.set(current.subarray(0, length));
    const bytes = writeField(field, base, logical);
    await this.setFeature(bytes);
    return bytes;
  }

  private serial<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      await this.pace();
      try {
        return await this.withTimeout(what, fn());
      } finally {
        this.lastTransferAt = this.opts.clock.now();
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private pace(): Promise<void> {
    const wait = this.lastTransferAt + this.opts.minGapMs - this.opts.clock.now();
    if (wait <= 0) return Promise.resolve();
    return new Promise((resolve) => this.opts.clock.setTimeout(resolve, wait));
  }

  private withTimeout<T>(what: string, work: Promise<T>): Promise<T> {
    const { clock, timeoutMs, device } = this.opts;
    return new Promise<T>((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        reject(
          new Ups2MqttError('READ_TIMEOUT', `${what} on ${device} took over ${timeoutMs} ms`, {
            context: { device, timeoutMs },
          }),
        );
      }, timeoutMs);
      work.then(
        (v) => {
          clock.clearTimeout(timer);
          resolve(v);
        },
        (err: unknown) => {
          clock.clearTimeout(timer);
          reject(err);
        },
      );
    });
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
