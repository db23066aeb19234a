/**
 * A replayed UPS: serves a capture file's reports through the HidTransport interface,
 * records every write, and can be unplugged, replugged and made to push input reports, so
 * tests and `hid-replay://` exercise the real source code path without hardware
 * (an honest fake: it implements the real interface and records what was written).
 */

import { readFile } from 'node:fs/promises';
import { Ups2MqttError } from '../../core/errors.ts';
import { captureDevice, captureFeatureReports, type HidCapture, parseCapture } from './capture.ts';
import { hexToBytes } from './descriptor/items.ts';
import {
  type HidDeviceInfo,
  type HidEnumerator,
  type HidTransport,
  HidTransportError,
} from './transport.ts';

/** Options of {@link ReplayDevice}. */
export interface ReplayDeviceOptions {
  /**
   * Keep `writes`, `reads` and `readLengths` (for tests). Off by default: the record grows
   * by every report of every poll (~15 per poll, ~170 bytes of heap), which a long
   * `hid-replay://` run would keep forever.
   */
  readonly record?: boolean;
}

/** The replayed hardware: its reports, whether it is plugged in, and what was written to it. */
export class ReplayDevice {
  readonly info: HidDeviceInfo;
  /** With `record`: every SET_REPORT(Feature) in order, as sent. */
  readonly writes: Uint8Array[] = [];
  /** With `record`: report IDs of every GET_REPORT(Feature) asked for, in order. */
  readonly reads: number[] = [];
  /** With `record`: buffer lengths of those GETs (ID byte included), for tests of the quirks. */
  readonly readLengths: number[] = [];
  readonly recording: boolean;
  private readonly features: Map<number, Uint8Array>;
  private readonly open = new Set<ReplayTransport>();
  private plugged = true;

  constructor(capture: HidCapture, path: string, options: ReplayDeviceOptions = {}) {
    this.info = captureDevice(capture, path);
    this.features = captureFeatureReports(capture);
    this.recording = options.record ?? false;
  }

  get isPlugged(): boolean {
    return this.plugged;
  }

  /** Simulates a USB disconnect: open handles fail, enumeration no longer lists it. */
  unplug(): void {
    this.plugged = false;
    for (const t of [...this.open]) t.fail(new HidTransportError('gone', 'device unplugged'));
  }

  /** The device is back (re-enumerated); old handles stay dead, new opens work. */
  replug(): void {
    this.plugged = true;
  }

  /** Pushes an interrupt-IN report to every open handle (and updates the Feature mirror). */
  emitInput(report: Uint8Array | string): void {
    const bytes = typeof report === 'string' ? hexToBytes(report) : report;
    for (const t of [...this.open]) t.deliver(bytes);
  }

  /** Replaces a Feature report's bytes, e.g. to move the replayed UPS to battery. */
  setFeature(report: Uint8Array | string): void {
    const bytes = typeof report === 'string' ? hexToBytes(report) : report;
    this.features.set(bytes[0] ?? 0, new Uint8Array(bytes));
  }

  /** False for a descriptor-only capture. */
  get hasFeatures(): boolean {
    return this.features.size > 0;
  }

  getFeature(reportId: number): Uint8Array | undefined {
    return this.features.get(reportId);
  }

  /** @internal */
  attach(t: ReplayTransport): void {
    this.open.add(t);
  }

  /** @internal */
  detach(t: ReplayTransport): void {
    this.open.delete(t);
  }
}

/** One open handle on a ReplayDevice. */
export class ReplayTransport implements HidTransport {
  private readonly device: ReplayDevice;
  private readonly inputs = new Set<(r: Uint8Array) => void>();
  private readonly errors = new Set<(e: Error) => void>();
  private dead: Error | undefined;

  constructor(device: ReplayDevice) {
    this.device = device;
    device.attach(this);
  }

  async getFeatureReport(reportId: number, length: number): Promise<Uint8Array> {
    this.check();
    if (this.device.recording) {
      this.device.reads.push(reportId);
      this.device.readLengths.push(length);
    }
    const bytes = this.device.getFeature(reportId);
    if (!bytes) {
      const why = this.device.hasFeatures
        ? 'not in capture'
        : 'not in capture (it holds a descriptor only; `ups2mqtt status` shows what it describes)';
      throw new HidTransportError('no_report', `report 0x${reportId.toString(16)} ${why}`);
    }
    return new Uint8Array(bytes);
  }

  async sendFeatureReport(bytes: Uint8Array): Promise<number> {
    this.check();
    const copy = new Uint8Array(bytes);
    if (this.device.recording) this.device.writes.push(copy);
    this.device.setFeature(copy);
    return copy.length;
  }

  onInputReport(listener: (report: Uint8Array) => void): () => void {
    this.inputs.add(listener);
    return () => this.inputs.delete(listener);
  }

  onError(listener: (err: Error) => void): () => void {
    this.errors.add(listener);
    return () => this.errors.delete(listener);
  }

  async close(): Promise<void> {
    this.dead ??= new HidTransportError('gone', 'handle closed');
    this.device.detach(this);
    this.inputs.clear();
    this.errors.clear();
  }

  /** @internal */
  deliver(report: Uint8Array): void {
    if (this.dead) return;
    for (const l of [...this.inputs]) l(new Uint8Array(report));
  }

  /** @internal */
  fail(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    this.device.detach(this);
    for (const l of [...this.errors]) l(err);
  }

  private check(): void {
    if (this.dead) throw this.dead;
  }
}

/** Enumerates one replayed device (while plugged). */
export class ReplayEnumerator implements HidEnumerator {
  readonly device: ReplayDevice;

  constructor(device: ReplayDevice) {
    this.device = device;
  }

  async list(): Promise<HidDeviceInfo[]> {
    return this.device.isPlugged ? [this.device.info] : [];
  }

  async open(info: HidDeviceInfo): Promise<HidTransport> {
    if (!this.device.isPlugged || info.path !== this.device.info.path) {
      throw new HidTransportError('gone', `${info.path} is not present`);
    }
    return new ReplayTransport(this.device);
  }
}

/** Reads and validates a capture file. Throws CONFIG_INVALID with the reason. */
export async function loadCaptureFile(path: string): Promise<HidCapture> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Ups2MqttError('CONFIG_INVALID', `cannot read HID capture ${path}`, {
      cause: err,
      context: { capture: path },
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Ups2MqttError('CONFIG_INVALID', `HID capture ${path} is not valid JSON`, {
      cause: err,
      context: { capture: path },
    });
  }
  return parseCapture(json, path);
}

/** An enumerator over a capture file, loaded on first use (constructors do no I/O). */
export class ReplayFileEnumerator implements HidEnumerator {
  private readonly path: string;
  private enumerator: ReplayEnumerator | undefined;

  constructor(path: string) {
    this.path = path;
  }

  async list(): Promise<HidDeviceInfo[]> {
    return (await this.load()).list();
  }

  async open(info: HidDeviceInfo): Promise<HidTransport> {
    return (await this.load()).open(info);
  }

  private async load(): Promise<ReplayEnumerator> {
    if (!this.enumerator) {
      const capture = await loadCaptureFile(this.path);
      this.enumerator = new ReplayEnumerator(new ReplayDevice(capture, `replay:${this.path}`));
    }
    return this.enumerator;
  }
}
