/**
 * The capture file format shared by the fixtures (test/fixtures/hid, see
 * test/fixtures/PROVENANCE.md), `ups2mqtt hid dump` and the `hid-replay://` source: the report
 * descriptor and report bytes of one UPS, as JSON (docs/hid.md "Capture format"). Parsing is
 * strict about what replay needs and keeps everything else as is.
 */

import { Ups2MqttError } from '../../core/errors.ts';
import { hexToBytes } from './descriptor/items.ts';
import type { HidDeviceInfo } from './transport.ts';

/** One decoded value, in the fixtures' `decodedPaths` shape. */
export interface CapturedPath {
  path: string;
  type: 'Feature' | 'Input';
  /** `0x0c`. */
  reportId: string;
  /** Bits after the report-ID byte. */
  offset: number;
  size: number;
  value: number;
  valueFrom?: string;
  rawValue: number;
  unit?: string;
  unitExponent?: number;
  reportBytes: string;
}

/** A capture file. Hex ids (`051d`), reports as space-separated hex with the ID byte first. */
export interface HidCapture {
  vendorId: string;
  productId: string;
  model?: string;
  usbProduct?: string;
  manufacturer?: string;
  serialNumber?: string;
  firmware?: string;
  source?: string;
  capturedAt?: string;
  tool?: string;
  descriptorHex: string;
  descriptorLength: number;
  /** Report ID (`0x0c`) → bytes returned by GET_REPORT(Feature). */
  featureReports: Record<string, string>;
  /** Interrupt-IN reports in arrival order. */
  inputReports: string[];
  decodedPaths?: CapturedPath[];
  notes?: string[];
}

function bad(origin: string, why: string): never {
  throw new Ups2MqttError('CONFIG_INVALID', `HID capture ${origin}: ${why}`, {
    context: { capture: origin },
  });
}

function hexId(value: unknown, origin: string, key: string): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{4}$/i.test(value)) {
    bad(origin, `${key} must be 4 hex digits`);
  }
  return value.toLowerCase();
}

const OPTIONAL_TEXT = [
  'model',
  'usbProduct',
  'manufacturer',
  'serialNumber',
  'firmware',
  'source',
  'capturedAt',
  'tool',
] as const;

/** Validates a parsed JSON capture. Throws CONFIG_INVALID naming the problem. */
export function parseCapture(json: unknown, origin: string): HidCapture {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    bad(origin, 'expected a JSON object');
  }
  const o = json as Record<string, unknown>;
  if (typeof o.descriptorHex !== 'string') bad(origin, 'descriptorHex is missing');
  const descriptor = hexToBytes(o.descriptorHex);
  if (typeof o.descriptorLength === 'number' && o.descriptorLength !== descriptor.length) {
    bad(
      origin,
      `descriptorLength ${o.descriptorLength} ≠ ${descriptor.length} bytes of descriptorHex`,
    );
  }
  const features: Record<string, string> = {};
  const rawFeatures = o.featureReports ?? {};
  if (typeof rawFeatures !== 'object' || rawFeatures === null) bad(origin, 'featureReports');
  for (const [id, hex] of Object.entries(rawFeatures as Record<string, unknown>)) {
    if (typeof hex !== 'string') bad(origin, `featureReports.${id} must be hex text`);
    const bytes = hexToBytes(hex);
    if (bytes[0] !== Number.parseInt(id, 16))
      bad(origin, `featureReports.${id} starts with another ID`);
    features[id] = hex;
  }
  const inputs: string[] = [];
  for (const entry of Array.isArray(o.inputReports) ? o.inputReports : []) {
    // Hex text, or an object with the hex in `bytes` (ours) or `reportBytes` (the shape other
    // capture tools write, matching our decodedPaths entries); other keys (time …) are ignored.
    const obj =
      typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>) : {};
    const hex = typeof entry === 'string' ? entry : (obj.bytes ?? obj.reportBytes);
    if (typeof hex !== 'string') {
      bad(origin, 'inputReports entries must be hex text or objects with bytes/reportBytes');
    }
    hexToBytes(hex);
    inputs.push(hex);
  }
  const capture: HidCapture = {
    vendorId: hexId(o.vendorId, origin, 'vendorId'),
    productId: hexId(o.productId, origin, 'productId'),
    descriptorHex: o.descriptorHex,
    descriptorLength: descriptor.length,
    featureReports: features,
    inputReports: inputs,
  };
  for (const key of OPTIONAL_TEXT) {
    const v = o[key];
    if (typeof v === 'string') capture[key] = v;
  }
  if (Array.isArray(o.decodedPaths)) capture.decodedPaths = o.decodedPaths as CapturedPath[];
  if (Array.isArray(o.notes)) capture.notes = o.notes.filter((n) => typeof n === 'string');
  return capture;
}

/**
 * The USB product string a capture stands for: the recorded one when it carries `FW:`, else
 * rebuilt as `<model> FW:<firmware>` so model and firmware split as on a live device.
 */
export function captureProduct(c: HidCapture): string | undefined {
  if (c.usbProduct?.includes('FW:')) return c.usbProduct;
  if (c.model && c.firmware) return `${c.model} FW:${c.firmware}`;
  return c.usbProduct ?? c.model;
}

/** The device a capture describes, as enumeration would list it. */
export function captureDevice(c: HidCapture, path: string): HidDeviceInfo {
  const info: HidDeviceInfo = {
    path,
    vendorId: Number.parseInt(c.vendorId, 16),
    productId: Number.parseInt(c.productId, 16),
    usagePage: 0x84,
    usage: 0x04,
    descriptor: hexToBytes(c.descriptorHex),
  };
  const product = captureProduct(c);
  if (product !== undefined) info.product = product;
  if (c.manufacturer !== undefined) info.manufacturer = c.manufacturer;
  if (c.serialNumber !== undefined) info.serialNumber = c.serialNumber;
  return info;
}

/** Feature reports of a capture by numeric ID. */
export function captureFeatureReports(c: HidCapture): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  for (const hex of Object.values(c.featureReports)) {
    const bytes = hexToBytes(hex);
    out.set(bytes[0] ?? 0, bytes);
  }
  return out;
}
