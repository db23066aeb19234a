/**
 * The thin production adapter over `node-hid` (HIDAsync: transfers run off the main thread).
 * node-hid is imported lazily, only when a hid:// source is used, because its native
 * binding needs libusb-1.0 at load time even in its hidraw build: on a machine without it
 * every call fails with ERR_DLOPEN_FAILED, which becomes a coded SOURCE_UNSUPPORTED error
 * with an install hint instead of a crash.
 */

import { Ups2MqttError } from '../../core/errors.ts';
import {
  type HidDeviceInfo,
  type HidEnumerator,
  type HidTransport,
  HidTransportError,
} from './transport.ts';

/** The part of a node-hid device record the adapter reads. */
export interface NodeHidDeviceRecord {
  vendorId: number;
  productId: number;
  path?: string | undefined;
  serialNumber?: string | undefined;
  manufacturer?: string | undefined;
  product?: string | undefined;
  usagePage?: number | undefined;
  usage?: number | undefined;
  interface: number;
}

/** node-hid's HIDAsync handle, reduced to what the adapter uses (events as subscriptions). */
export interface NodeHidHandle {
  getFeatureReport(reportId: number, length: number): Promise<Buffer>;
  sendFeatureReport(data: number[] | Buffer): Promise<number>;
  onData(listener: (data: Buffer) => void): () => void;
  onError(listener: (err: unknown) => void): () => void;
  close(): Promise<void>;
}

/** The part of the node-hid module the adapter uses. */
export interface NodeHidModule {
  devicesAsync(): Promise<NodeHidDeviceRecord[]>;
  HIDAsync: { open(path: string): Promise<NodeHidHandle> };
}

/** Loads node-hid; injected by tests. */
export type NodeHidLoader = () => Promise<NodeHidModule>;

/** The real loader: a dynamic import, so nothing native loads until a HID source is used. */
export const importNodeHid: NodeHidLoader = async () => {
  const mod = await import('node-hid');
  return {
    devicesAsync: () => mod.devicesAsync(),
    HIDAsync: {
      async open(path: string): Promise<NodeHidHandle> {
        const h = await mod.HIDAsync.open(path);
        return {
          getFeatureReport: (id, length) => h.getFeatureReport(id, length),
          sendFeatureReport: (data) => h.sendFeatureReport(data),
          onData(listener) {
            h.on('data', listener);
            return () => h.removeListener('data', listener);
          },
          onError(listener) {
            h.on('error', listener);
            return () => h.removeListener('error', listener);
          },
          close: () => h.close(),
        };
      },
    },
  };
};

/** Why node-hid failed, as a reason code for logs and tests. */
export type NodeHidFailure =
  | 'native_unavailable'
  | 'busy'
  | 'permission'
  | 'not_found'
  | 'open_failed';

function errorText(err: unknown): { code: string; message: string } {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  return {
    code: typeof e?.code === 'string' ? e.code : '',
    message: typeof e?.message === 'string' ? e.message : String(err),
  };
}

/** Classifies a node-hid failure by its error code and text (node-hid gives nothing better). */
export function classifyNodeHidFailure(err: unknown): NodeHidFailure {
  const { code, message } = errorText(err);
  if (
    code === 'ERR_DLOPEN_FAILED' ||
    code === 'MODULE_NOT_FOUND' ||
    code === 'ERR_MODULE_NOT_FOUND'
  ) {
    return 'native_unavailable';
  }
  if (code === 'EBUSY' || /busy|claimed/i.test(message)) return 'busy';
  if (/cannot open shared object|No native build|Could not locate the bindings/i.test(message)) {
    return 'native_unavailable';
  }
  if (code === 'EACCES' || code === 'EPERM' || /permission|access denied/i.test(message)) {
    return 'permission';
  }
  if (code === 'ENOENT' || code === 'ENODEV' || /no such (device|file)/i.test(message)) {
    return 'not_found';
  }
  return 'open_failed';
}

const HINTS: Record<NodeHidFailure, string> = {
  native_unavailable:
    'node-hid could not load its native library; install libusb-1.0 (Debian/Ubuntu: apt install libusb-1.0-0)',
  busy: 'the device is held by another program (apcupsd or NUT usbhid-ups?); stop it or read through it (nis://, nut://)',
  permission:
    'no permission to open it; add a udev rule giving your user access to the hidraw node (see docs/hid.md)',
  not_found: 'the device is gone (unplugged or re-enumerating after a USB reset)',
  open_failed:
    'the device could not be opened: check permissions (udev rule) and that no other program (apcupsd, NUT) holds it',
};

/** A coded error for a node-hid failure, with the hint a person can act on. */
export function nodeHidError(err: unknown, action: string, path?: string): Ups2MqttError {
  const reason = classifyNodeHidFailure(err);
  const { message } = errorText(err);
  const code = reason === 'native_unavailable' ? 'SOURCE_UNSUPPORTED' : 'CONNECT_FAILED';
  return new Ups2MqttError(code, `${action} failed: ${HINTS[reason]} (${message})`, {
    cause: err,
    context: { reason, ...(path === undefined ? {} : { path }) },
  });
}

/** A HidTransport over one node-hid handle. */
class NodeHidTransport implements HidTransport {
  private readonly handle: NodeHidHandle;

  constructor(handle: NodeHidHandle) {
    this.handle = handle;
  }

  async getFeatureReport(reportId: number, length: number): Promise<Uint8Array> {
    try {
      return new Uint8Array(await this.handle.getFeatureReport(reportId, length));
    } catch (err) {
      throw new HidTransportError('io', errorText(err).message, { cause: err });
    }
  }

  async sendFeatureReport(bytes: Uint8Array): Promise<number> {
    try {
      return await this.handle.sendFeatureReport(Buffer.from(bytes));
    } catch (err) {
      throw new HidTransportError('io', errorText(err).message, { cause: err });
    }
  }

  onInputReport(listener: (report: Uint8Array) => void): () => void {
    return this.handle.onData((data) => listener(new Uint8Array(data)));
  }

  onError(listener: (err: Error) => void): () => void {
    // node-hid reports a failed interrupt read (device unplugged) as an 'error' event.
    return this.handle.onError((err) =>
      listener(new HidTransportError('gone', errorText(err).message, { cause: err })),
    );
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Enumerates and opens devices through node-hid (every platform; on Linux see sysfs.ts). */
export class NodeHidEnumerator implements HidEnumerator {
  private readonly load: NodeHidLoader;
  private module: NodeHidModule | undefined;

  constructor(load: NodeHidLoader = importNodeHid) {
    this.load = load;
  }

  async list(): Promise<HidDeviceInfo[]> {
    const mod = await this.loaded('listing HID devices');
    let records: NodeHidDeviceRecord[];
    try {
      records = await mod.devicesAsync();
    } catch (err) {
      throw nodeHidError(err, 'listing HID devices');
    }
    const out: HidDeviceInfo[] = [];
    for (const r of records) {
      if (r.path === undefined || r.path === '') continue;
      const info: HidDeviceInfo = { path: r.path, vendorId: r.vendorId, productId: r.productId };
      if (r.serialNumber) info.serialNumber = r.serialNumber;
      if (r.manufacturer) info.manufacturer = r.manufacturer;
      if (r.product) info.product = r.product;
      if (r.usagePage !== undefined) info.usagePage = r.usagePage;
      if (r.usage !== undefined) info.usage = r.usage;
      if (r.interface >= 0) info.interfaceNumber = r.interface;
      out.push(info);
    }
    return out;
  }

  async open(device: HidDeviceInfo): Promise<HidTransport> {
    const mod = await this.loaded(`opening ${device.path}`);
    try {
      return new NodeHidTransport(await mod.HIDAsync.open(device.path));
    } catch (err) {
      throw nodeHidError(err, `opening ${device.path}`, device.path);
    }
  }

  private async loaded(action: string): Promise<NodeHidModule> {
    if (this.module) return this.module;
    try {
      this.module = await this.load();
      return this.module;
    } catch (err) {
      throw nodeHidError(err, action);
    }
  }
}
