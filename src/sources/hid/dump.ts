/**
 * `ups2mqtt hid dump`: reads everything a HID UPS offers (descriptor, every Feature report
 * the descriptor declares, a few interrupt Input reports) into one capture file in the
 * fixtures' format (capture.ts), decoded values included so a reader can check them.
 */

import type { Clock } from '../../core/clock.ts';
import type { CapturedPath, HidCapture } from './capture.ts';
import { decodeReport } from './decode.ts';
import { bytesToHex } from './descriptor/items.ts';
import {
  type ParsedDescriptor,
  parseReportDescriptor,
  type ReportKind,
} from './descriptor/parser.ts';
import { ReportMap } from './report-map.ts';
import { deviceLabel } from './select.ts';
import { HidSession } from './session.ts';
import type { HidDeviceInfo, HidTransport } from './transport.ts';

/** How a dump runs. */
export interface DumpOptions {
  clock: Clock;
  /** How long to listen for interrupt reports. */
  inputWaitMs: number;
  /** Stop listening after this many input reports. */
  maxInputs: number;
  timeoutMs: number;
  minGapMs: number;
  /** Text for the capture's `tool` key, e.g. `ups2mqtt 0.1.0 hid dump`. */
  tool: string;
}

const hexId = (id: number): string => `0x${id.toString(16).padStart(2, '0')}`;
const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

/** The decoded values of one report, in the fixtures' `decodedPaths` shape. */
export function capturedPaths(
  map: ReportMap,
  kind: ReportKind,
  report: Uint8Array,
): CapturedPath[] {
  return decodeReport(map, kind, report).map(({ field, raw, value }) => {
    const entry: CapturedPath = {
      path: field.path,
      type: kind === 'input' ? 'Input' : 'Feature',
      reportId: hexId(field.reportId),
      offset: field.bitOffset,
      size: field.bitSize,
      value,
      valueFrom: 'ups2mqtt',
      rawValue: raw,
      reportBytes: bytesToHex(report),
    };
    if (field.unit !== 0) entry.unit = `0x${field.unit.toString(16).padStart(8, '0')}`;
    if (field.unitExponent !== 0) entry.unitExponent = field.unitExponent;
    return entry;
  });
}

function featureIds(d: ParsedDescriptor): number[] {
  const ids = new Set<number>();
  for (const f of d.fields) if (f.kind === 'feature') ids.add(f.reportId);
  return [...ids].sort((a, b) => a - b);
}

/** Reads a device into a capture. The caller opened `transport` and closes it afterwards. */
export async function dumpDevice(
  device: HidDeviceInfo,
  descriptorBytes: Uint8Array,
  transport: HidTransport,
  opts: DumpOptions,
): Promise<HidCapture> {
  const descriptor = parseReportDescriptor(descriptorBytes);
  const map = new ReportMap(descriptor);
  const session = new HidSession(transport, map, {
    clock: opts.clock,
    timeoutMs: opts.timeoutMs,
    minGapMs: opts.minGapMs,
    bufferLength: 0,
    exactLengths: true,
    device: deviceLabel(device),
  });
  const notes: string[] = [];
  const inputs: Uint8Array[] = [];
  let inputsDone: () => void = () => undefined;
  const enough = new Promise<void>((resolve) => {
    inputsDone = resolve;
  });
  const stop = transport.onInputReport((r) => {
    if (inputs.length < opts.maxInputs) inputs.push(new Uint8Array(r));
    if (inputs.length >= opts.maxInputs) inputsDone();
  });
  const started = opts.clock.now();
  const featureReports: Record<string, string> = {};
  const decodedPaths: CapturedPath[] = [];
  for (const id of featureIds(descriptor)) {
    try {
      const report = await session.getFeature(id);
      featureReports[hexId(id)] = bytesToHex(report);
      decodedPaths.push(...capturedPaths(map, 'feature', report));
    } catch (err) {
      notes.push(
        `GET feature ${hexId(id)} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  const left = opts.inputWaitMs - (opts.clock.now() - started);
  if (left > 0 && inputs.length < opts.maxInputs) {
    await Promise.race([enough, new Promise<void>((r) => opts.clock.setTimeout(r, left))]);
  }
  stop();
  for (const r of inputs) decodedPaths.push(...capturedPaths(map, 'input', r));
  // Key order follows the fixtures' files: identity first, then the bytes.
  return {
    vendorId: hex4(device.vendorId),
    productId: hex4(device.productId),
    ...(device.product ? { usbProduct: device.product } : {}),
    ...(device.manufacturer ? { manufacturer: device.manufacturer } : {}),
    ...(device.serialNumber ? { serialNumber: device.serialNumber } : {}),
    source: `${opts.tool} of ${deviceLabel(device)}`,
    capturedAt: new Date(opts.clock.now()).toISOString(),
    tool: opts.tool,
    descriptorHex: bytesToHex(descriptorBytes),
    descriptorLength: descriptorBytes.length,
    featureReports,
    inputReports: inputs.map((r) => bytesToHex(r)),
    decodedPaths,
    notes,
  };
}
