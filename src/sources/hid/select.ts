/**
 * Which HID device a `hid://` URI means (src/sources/uri.ts): `hid://auto` takes the first
 * UPS-like device, APC first; `hid://VID:PID` and `hid://VID:PID/SERIAL` pin one. A device is
 * UPS-like when its top-level collection is on the Power Device (0x84) or Battery System
 * (0x85) page, or, when the platform does not tell the usage page, when it comes from a
 * known UPS vendor. Pure.
 */

import type { SourceSpec } from '../uri.ts';
import { UPS_VENDORS, vidPid } from './identity.ts';
import type { HidDeviceInfo } from './transport.ts';
import { PAGE_BATTERY_SYSTEM, PAGE_POWER_DEVICE } from './usages.ts';

/** The device part of a hid:// URI. */
export type HidSelector = Omit<Extract<SourceSpec, { kind: 'hid' }>, 'kind'>;

/** Whether a device looks like a UPS. */
export function isUpsCandidate(d: HidDeviceInfo): boolean {
  if (d.usagePage !== undefined) {
    return d.usagePage === PAGE_POWER_DEVICE || d.usagePage === PAGE_BATTERY_SYSTEM;
  }
  return UPS_VENDORS.has(d.vendorId);
}

const VENDOR_RANK = [...UPS_VENDORS.keys()];

function rank(d: HidDeviceInfo): number {
  const i = VENDOR_RANK.indexOf(d.vendorId);
  const vendor = i < 0 ? VENDOR_RANK.length : i;
  // A power-device interface before any other interface of the same device.
  const power = d.usagePage === PAGE_POWER_DEVICE ? 0 : 1;
  return vendor * 2 + power;
}

function sameSerial(a: string | undefined, b: string): boolean {
  return (a ?? '').replace(/\0/g, '').trim().toLowerCase() === b.trim().toLowerCase();
}

/** The devices a selector matches, best first. */
export function matchDevices(devices: readonly HidDeviceInfo[], sel: HidSelector): HidDeviceInfo[] {
  const pinned = sel.vendorId !== undefined;
  const found = devices.filter((d) => {
    if (pinned) {
      if (d.vendorId !== sel.vendorId || d.productId !== sel.productId) return false;
    } else if (!isUpsCandidate(d)) {
      return false;
    }
    return sel.serial === undefined || sameSerial(d.serialNumber, sel.serial);
  });
  return found.sort((a, b) => rank(a) - rank(b));
}

/** The URI form of a selector, for log lines. */
export function selectorText(sel: HidSelector): string {
  if (sel.vendorId === undefined || sel.productId === undefined) return 'hid://auto';
  const base = `hid://${vidPid(sel.vendorId, sel.productId)}`;
  return sel.serial === undefined ? base : `${base}/${encodeURIComponent(sel.serial)}`;
}

/** One line per device for logs and `ups2mqtt probe`. */
export function deviceLabel(d: HidDeviceInfo): string {
  const serial = d.serialNumber?.trim();
  const product = d.product?.trim();
  return `${vidPid(d.vendorId, d.productId)}${product ? ` "${product}"` : ''}${serial ? ` serial ${serial}` : ''} at ${d.path}`;
}
