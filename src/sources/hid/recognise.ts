/**
 * What ups2mqtt makes of one HID device, for `ups2mqtt probe`: vendor, where the report
 * layout comes from, which normalized values and commands it yields, which quirks apply.
 * Pure (the descriptor is already in the device record).
 */

import { availableCommands, commandFields } from './commands.ts';
import { resolveSignals } from './connect.ts';
import { type ParsedDescriptor, parseReportDescriptor } from './descriptor/parser.ts';
import { fallbackDescriptor, fallbackMapFor } from './fallback-maps.ts';
import { UPS_VENDORS, vidPid } from './identity.ts';
import { quirksFor } from './quirks.ts';
import { ReportMap } from './report-map.ts';
import { selectorText } from './select.ts';
import { SIGNAL_NAMES } from './signals.ts';
import type { HidDeviceInfo } from './transport.ts';

/** One device as probe prints it. */
export interface RecognisedDevice {
  /** The URI that pins this device. */
  uri: string;
  vidPid: string;
  vendor?: string;
  product?: string;
  serial?: string;
  path: string;
  /** `descriptor (N bytes)`, a built-in map id, or `none`. */
  layout: string;
  /** Signals (values the mapping uses) the layout provides. */
  signals: string[];
  commands: string[];
  quirks: string[];
  /** Why the device cannot be used, when it cannot. */
  problem?: string;
}

/** Recognises a device. Never throws: problems are reported in the result. */
export function recogniseDevice(d: HidDeviceInfo): RecognisedDevice {
  const serial = d.serialNumber?.replace(/\0/g, '').trim();
  const sel =
    serial === undefined || serial === ''
      ? { vendorId: d.vendorId, productId: d.productId }
      : { vendorId: d.vendorId, productId: d.productId, serial };
  const out: RecognisedDevice = {
    uri: selectorText(sel),
    vidPid: vidPid(d.vendorId, d.productId),
    path: d.path,
    layout: 'none',
    signals: [],
    commands: [],
    quirks: quirksFor(d).map((q) => q.id),
  };
  const vendor = UPS_VENDORS.get(d.vendorId);
  if (vendor) out.vendor = vendor;
  if (d.product) out.product = d.product.trim();
  if (serial) out.serial = serial;
  let descriptor: ParsedDescriptor | undefined;
  try {
    if (d.descriptor !== undefined) {
      descriptor = parseReportDescriptor(d.descriptor);
      out.layout = `descriptor (${d.descriptor.length} bytes, ${descriptor.fields.length} fields)`;
    } else {
      const fallback = fallbackMapFor(d);
      if (fallback) {
        descriptor = fallbackDescriptor(fallback);
        out.layout = `built-in map ${fallback.id}`;
      } else {
        out.problem = 'no report descriptor on this platform and no built-in map for this model';
      }
    }
  } catch (err) {
    out.problem = `report descriptor does not parse: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (descriptor) {
    const map = new ReportMap(descriptor);
    const paths = resolveSignals(map);
    out.signals = SIGNAL_NAMES.filter((n) => paths[n].length > 0);
    out.commands = availableCommands(commandFields(map));
  }
  return out;
}
