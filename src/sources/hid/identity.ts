/**
 * Identity of a HID UPS from its USB strings (docs/protocols/hid.md#finding-the-ups): the product string is
 * `<model> FW:<ups fw> USB FW:<usb fw>`; apcupsd takes MODEL = text before `FW:` and
 * FIRMWARE = text after it. Serial numbers often carry trailing blanks. Pure.
 */

import type { UpsData } from '../../core/state.ts';
import type { HidDeviceInfo } from './transport.ts';

/** Known UPS vendors, in the order `hid://auto` prefers them (APC first-class). */
export const UPS_VENDORS: ReadonlyMap<number, string> = new Map([
  [0x051d, 'APC'],
  [0x0764, 'CyberPower'],
  [0x0463, 'Eaton'],
  [0x09ae, 'Tripp Lite'],
]);

/** `051d:0002`. */
export function vidPid(vendorId: number, productId: number): string {
  const hex = (n: number): string => n.toString(16).padStart(4, '0');
  return `${hex(vendorId)}:${hex(productId)}`;
}

function clean(text: string | undefined): string | undefined {
  // Some firmware pads strings with NULs as well as blanks.
  const t = text?.replace(/\0/g, '').trim();
  return t === undefined || t === '' ? undefined : t;
}

/** Splits a product string into model and firmware. */
export function splitProduct(product: string | undefined): { model?: string; firmware?: string } {
  const p = clean(product);
  if (p === undefined) return {};
  const at = p.indexOf('FW:');
  if (at < 0) return { model: p };
  const model = clean(p.slice(0, at));
  const firmware = clean(p.slice(at + 3));
  return { ...(model ? { model } : {}), ...(firmware ? { firmware } : {}) };
}

/** Model, firmware, serial and manufacturer of a device. */
export function identityOf(device: HidDeviceInfo): UpsData {
  const { model, firmware } = splitProduct(device.product);
  const serial = clean(device.serialNumber);
  const manufacturer = clean(device.manufacturer) ?? UPS_VENDORS.get(device.vendorId);
  const data: UpsData = {};
  if (model) data.model = model;
  if (firmware) data.firmware = firmware;
  if (serial) data.serial_number = serial;
  if (manufacturer) data.manufacturer = manufacturer;
  return data;
}
