/**
 * Linux enumeration through sysfs, without loading any native code: every hidraw node with
 * its USB ids and strings and, above all, its report descriptor
 * (`/sys/class/hidraw/hidrawN/device/report_descriptor`, world-readable; docs/protocols/hid.md#descriptors-and-reports).
 * Also finds UPS-like USB devices that have no hidraw node because a user-space driver
 * (NUT usbhid-ups, apcupsd via libusb) detached the kernel driver, so the log can say why
 * `hid://auto` finds nothing.
 */

import { readdir, readFile, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseReportDescriptor } from './descriptor/parser.ts';
import { UPS_VENDORS } from './identity.ts';
import type { HidDeviceInfo } from './transport.ts';
import { usageId, usagePage } from './usages.ts';

/** Where sysfs and the device nodes are; tests point these at a temporary tree. */
export interface SysfsPaths {
  sysRoot: string;
  devRoot: string;
}

/** The real locations. */
export const LINUX_PATHS: SysfsPaths = { sysRoot: '/sys', devRoot: '/dev' };

async function text(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function list(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch {
    return [];
  }
}

/** `HID_ID=0003:0000051D:00000002` and friends from a hid device's uevent. */
function parseUevent(content: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (content ?? '').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function hidrawNumber(name: string): number {
  return Number(/\d+$/.exec(name)?.[0] ?? 0);
}

async function describe(paths: SysfsPaths, name: string): Promise<HidDeviceInfo | undefined> {
  let hidDir: string;
  try {
    hidDir = await realpath(join(paths.sysRoot, 'class', 'hidraw', name, 'device'));
  } catch {
    return undefined;
  }
  const uevent = parseUevent(await text(join(hidDir, 'uevent')));
  const ids = /^([0-9a-f]+):([0-9a-f]+):([0-9a-f]+)$/i.exec(uevent.HID_ID ?? '');
  if (!ids) return undefined;
  const info: HidDeviceInfo = {
    path: join(paths.devRoot, name),
    vendorId: Number.parseInt(ids[2] ?? '', 16),
    productId: Number.parseInt(ids[3] ?? '', 16),
  };
  // hid device → USB interface → USB device, whose attributes hold the descriptor strings.
  const usbInterface = dirname(hidDir);
  const usbDevice = dirname(usbInterface);
  const ifNumber = await text(join(usbInterface, 'bInterfaceNumber'));
  if (ifNumber !== undefined) info.interfaceNumber = Number.parseInt(ifNumber, 16);
  const product = (await text(join(usbDevice, 'product'))) ?? uevent.HID_NAME;
  const manufacturer = await text(join(usbDevice, 'manufacturer'));
  const serial = (await text(join(usbDevice, 'serial'))) ?? uevent.HID_UNIQ;
  if (product) info.product = product;
  if (manufacturer) info.manufacturer = manufacturer;
  if (serial) info.serialNumber = serial;
  try {
    const descriptor = new Uint8Array(await readFile(join(hidDir, 'report_descriptor')));
    info.descriptor = descriptor;
    const app = parseReportDescriptor(descriptor).applications[0];
    if (app !== undefined) {
      info.usagePage = usagePage(app);
      info.usage = usageId(app);
    }
  } catch {
    // Unreadable or unparsable: listed without usage; the source reports the parse error.
  }
  return info;
}

/** Every hidraw device, in hidrawN order. An absent hidraw class is an empty list. */
export async function listSysfsHidDevices(
  paths: SysfsPaths = LINUX_PATHS,
): Promise<HidDeviceInfo[]> {
  const names = (await list(join(paths.sysRoot, 'class', 'hidraw')))
    .filter((n) => /^hidraw\d+$/.test(n))
    .sort((a, b) => hidrawNumber(a) - hidrawNumber(b));
  const out: HidDeviceInfo[] = [];
  for (const name of names) {
    const info = await describe(paths, name);
    if (info) out.push(info);
  }
  return out;
}

/** A USB device of a UPS vendor that has no hidraw node. */
export interface UnboundUsbUps {
  vendorId: number;
  productId: number;
  product?: string;
  /** Driver bound to its first interface: `usbfs` means a user-space program claimed it. */
  driver?: string;
  busPath: string;
}

/** UPS-vendor USB devices without a hidraw node (claimed by NUT or apcupsd through libusb). */
export async function findUnboundUsbUps(paths: SysfsPaths = LINUX_PATHS): Promise<UnboundUsbUps[]> {
  const hidrawDirs: string[] = [];
  for (const name of await list(join(paths.sysRoot, 'class', 'hidraw'))) {
    try {
      hidrawDirs.push(await realpath(join(paths.sysRoot, 'class', 'hidraw', name, 'device')));
    } catch {
      // raced with an unplug
    }
  }
  const usbRoot = join(paths.sysRoot, 'bus', 'usb', 'devices');
  const out: UnboundUsbUps[] = [];
  for (const entry of await list(usbRoot)) {
    if (entry.includes(':')) continue; // interfaces, not devices
    const vid = await text(join(usbRoot, entry, 'idVendor'));
    const pid = await text(join(usbRoot, entry, 'idProduct'));
    if (vid === undefined || pid === undefined) continue;
    const vendorId = Number.parseInt(vid, 16);
    if (!UPS_VENDORS.has(vendorId)) continue;
    let devDir: string;
    try {
      devDir = await realpath(join(usbRoot, entry));
    } catch {
      continue;
    }
    if (hidrawDirs.some((d) => d.startsWith(`${devDir}/`))) continue;
    const found: UnboundUsbUps = { vendorId, productId: Number.parseInt(pid, 16), busPath: entry };
    const product = await text(join(devDir, 'product'));
    if (product) found.product = product;
    try {
      found.driver = basename(await realpath(join(devDir, `${entry}:1.0`, 'driver')));
    } catch {
      // no driver bound at all
    }
    out.push(found);
  }
  return out;
}
