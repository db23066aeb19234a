/**
 * The project-owned seam between the HID source and the operating system. The production
 * adapters (node-hid.ts, sysfs.ts) and the replay adapter (replay.ts) implement it; the
 * source never imports node-hid itself. Reports always travel as `[reportId, ...data]`.
 */

/** One HID interface as enumeration sees it. */
export interface HidDeviceInfo {
  /** Opaque handle for open(): `/dev/hidraw0` on Linux, an IOService path on macOS, … */
  path: string;
  vendorId: number;
  productId: number;
  serialNumber?: string;
  manufacturer?: string;
  /** USB product string, e.g. `Back-UPS ES 550 FW:828.D2.I USB FW:D2`. */
  product?: string;
  /** Usage page and usage of the top-level collection (UPS: 0x84 / 0x04), when known. */
  usagePage?: number;
  usage?: number;
  interfaceNumber?: number;
  /**
   * The raw report descriptor when the platform exposes it (Linux sysfs, replay files).
   * Without it the source falls back to a built-in map for known models (fallback-maps.ts).
   */
  descriptor?: Uint8Array;
}

/** Why a transport call failed, for the source's log line and error code. */
export type HidFailure =
  /** The device went away (unplugged, USB reset, re-enumeration). */
  | 'gone'
  /** The device does not serve this report (one report, not the device, is at fault). */
  | 'no_report'
  /** Anything else; the source treats it like `gone` after a probe. */
  | 'io';

/** An error from a transport, classified. */
export class HidTransportError extends Error {
  readonly failure: HidFailure;
  constructor(failure: HidFailure, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HidTransportError';
    this.failure = failure;
  }
}

/** An open HID device. */
export interface HidTransport {
  /**
   * GET_REPORT(Feature). `length` counts the report-ID byte (node-hid's convention); the
   * result starts with the ID and may be shorter or longer than asked (docs/protocols/hid.md#units-and-exponents).
   */
  getFeatureReport(reportId: number, length: number): Promise<Uint8Array>;
  /** SET_REPORT(Feature) with `bytes[0]` = report ID; resolves to the bytes written. */
  sendFeatureReport(bytes: Uint8Array): Promise<number>;
  /** Listens to interrupt-IN reports. Returns the unsubscribe function. */
  onInputReport(listener: (report: Uint8Array) => void): () => void;
  /** Listens to asynchronous failures (the device vanished while idle). */
  onError(listener: (err: Error) => void): () => void;
  close(): Promise<void>;
}

/** Lists HID devices and opens one. */
export interface HidEnumerator {
  list(): Promise<HidDeviceInfo[]>;
  open(device: HidDeviceInfo): Promise<HidTransport>;
}
