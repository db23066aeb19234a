/**
 * Per-model workarounds, one row each, each citing the public source that found it. Generic
 * tolerance (unsigned decoding when Logical Minimum ≥ 0, never clamping to the logical range,
 * short reports) lives in the decoder, not here: it needs no model match.
 */

import type { HidDeviceInfo } from './transport.ts';

/** What a quirk changes. */
export interface QuirkEffects {
  /** Do not listen to the interrupt pipe; poll only. */
  noInterrupt?: boolean;
  /** Ask for the descriptor's largest report size on every GET (the unit sends more than declared). */
  maxReportBuffer?: boolean;
  /** RunTimeToEmpty is in minutes, not seconds. */
  runtimeInMinutes?: boolean;
  /** Read the status report once more after a shutdown command. */
  statusAfterShutdown?: boolean;
}

/** One table row. */
export interface HidQuirk {
  id: string;
  vendorId: number;
  /** Any of these product ids; absent = every product of the vendor. */
  productIds?: readonly number[];
  /** Any of these USB product-string prefixes; absent = any product string. */
  productPrefixes?: readonly string[];
  effects: QuirkEffects;
  /** The public source of the quirk. */
  source: string;
}

const APC = 0x051d;

/** The quirk table. */
export const HID_QUIRKS: readonly HidQuirk[] = [
  {
    id: 'apc-5g-no-interrupt',
    vendorId: APC,
    productIds: [0x0003, 0x0004],
    effects: { noInterrupt: true },
    // NUT's disable_interrupt_pipe() ("used by proprietary protocol") for PID 0003; 0004 is
    // newer firmware of the same family (NUT issue #1429, docs/protocols/hid.md#finding-the-ups).
    source: 'networkupstools/nut drivers/apc-hid.c disable_interrupt_pipe; NUT issue #1429',
  },
  {
    id: 'apc-back-ups-report-overflow',
    vendorId: APC,
    productIds: [0x0002],
    productPrefixes: ['Back-UPS ES 525', 'Back-UPS CS'],
    effects: { maxReportBuffer: true },
    // ES 525 overflows on report 0x0c, CS 650 on 0x46.
    source: 'networkupstools/nut drivers/apc-hid.c tweak_max_report',
  },
  {
    id: 'apc-old-back-ups-pro-runtime-minutes',
    vendorId: APC,
    productPrefixes: ['BackUPS Pro 500 FW:16.3.D USB FW:4'],
    effects: { runtimeInMinutes: true },
    source: 'apcupsd src/drivers/usb/usb.c QUIRK_OLD_BACKUPS_PRO_MODEL_STRING',
  },
  {
    id: 'apc-status-after-shutdown',
    vendorId: APC,
    effects: { statusAfterShutdown: true },
    // The Back-UPS RS1000G repeats a killpower on every USB re-enumeration unless the status
    // is read once more after it.
    source: 'apcupsd USB killpower sequence (docs/protocols/hid.md#commands)',
  },
];

/** The quirks that apply to a device. */
export function quirksFor(
  device: Pick<HidDeviceInfo, 'vendorId' | 'productId' | 'product'>,
): HidQuirk[] {
  const product = device.product?.trim() ?? '';
  return HID_QUIRKS.filter(
    (q) =>
      q.vendorId === device.vendorId &&
      (q.productIds === undefined || q.productIds.includes(device.productId)) &&
      (q.productPrefixes === undefined || q.productPrefixes.some((p) => product.startsWith(p))),
  );
}

/** The combined effects of the quirks that apply. */
export function quirkEffects(quirks: readonly HidQuirk[]): QuirkEffects {
  const out: QuirkEffects = {};
  for (const q of quirks) Object.assign(out, q.effects);
  return out;
}
