/**
 * HID report-descriptor parser (HID 1.11 §6.2.2): global state with Push/Pop, local state
 * reset after every Main item, collections, report IDs, logical/physical ranges, unit and
 * unit exponent. Pure: bytes in, a flat list of report fields out, each with its NUT-style
 * usage path (`UPS.PowerSummary.RemainingCapacity`) and its exact place in its report.
 *
 * Tolerant of content (inconsistent ranges: docs/protocols/hid.md#units-and-exponents), strict about framing
 * (truncated items, unbalanced collections).
 */

import { Ups2MqttError } from '../../../core/errors.ts';
import { PAGE_ORDINAL, usage, usageId, usageName, usagePage } from '../usages.ts';
import { type DescriptorItem, tokenizeDescriptor } from './items.ts';

/** The three report types; Input is pushed on the interrupt pipe, Feature is polled/written. */
export type ReportKind = 'input' | 'output' | 'feature';

/** One value in one report, as the descriptor declares it. */
export interface HidField {
  kind: ReportKind;
  /** 0 when the descriptor declares no report IDs. */
  reportId: number;
  /** Bit offset inside the report data (after the report-ID byte). */
  bitOffset: number;
  bitSize: number;
  /** 32-bit usage (page << 16 | id). */
  usage: number;
  /** NUT-style path: collection names then the usage name, dot-separated. */
  path: string;
  /** Usages of the enclosing collections, outermost first. */
  collections: readonly number[];
  logicalMin: number;
  logicalMax: number;
  physicalMin: number;
  physicalMax: number;
  /** HID unit code (0 = none), e.g. 0x00f0d121 volt. */
  unit: number;
  /** Signed unit exponent (−8…7). */
  unitExponent: number;
  /** Decode as two's complement: only when the Logical Minimum is negative (docs/protocols/hid.md#units-and-exponents). */
  signed: boolean;
  constant: boolean;
  /** False for array items (selectors), which hold usage indexes rather than values. */
  variable: boolean;
}

/** A parsed descriptor. */
export interface ParsedDescriptor {
  fields: HidField[];
  /** Data length in bytes (without the ID byte) of every report, keyed by reportKey(). */
  reportBytes: Map<string, number>;
  /** Usages of the top-level application collections (UPS = 0x00840004). */
  applications: number[];
  /** Whether the descriptor uses report IDs (then every report starts with its ID). */
  usesReportIds: boolean;
  collectionCount: number;
  byteLength: number;
}

/** Key of a report in ParsedDescriptor.reportBytes. */
export function reportKey(kind: ReportKind, reportId: number): string {
  return `${kind}:${reportId}`;
}

interface GlobalState {
  usagePage: number;
  logicalMin: number;
  logicalMax: number;
  physicalMin: number;
  physicalMax: number;
  unitExponent: number;
  unit: number;
  reportSize: number;
  reportId: number;
  reportCount: number;
}

interface LocalState {
  usages: number[];
  usageMin: number | undefined;
  usageMax: number | undefined;
}

const MAIN_INPUT = 0x8;
const MAIN_OUTPUT = 0x9;
const MAIN_COLLECTION = 0xa;
const MAIN_FEATURE = 0xb;
const MAIN_END_COLLECTION = 0xc;
const COLLECTION_APPLICATION = 1;
/** A report count beyond this is a corrupt descriptor, not a UPS (keeps memory bounded). */
const MAX_REPORT_COUNT = 4096;
/**
 * Fields of a whole descriptor beyond this are a corrupt descriptor too: real UPSes declare
 * 50–260 (test/fixtures/hid). Without it, 4 bytes per Main item times Report Count 4096 let
 * a 4 KB descriptor claim four million fields (gigabytes, half a minute of parsing).
 */
export const MAX_DESCRIPTOR_FIELDS = 16_384;
/**
 * Longest report, in bits: a report travels in one USB control transfer, whose length is a
 * 16-bit count (USB 2.0 §9.3.5). A longer declared report would make the session allocate
 * buffers of that size and put bit offsets past exact integers.
 */
export const MAX_REPORT_BITS = 0xffff * 8;

const KIND_BY_TAG: Record<number, ReportKind> = {
  [MAIN_INPUT]: 'input',
  [MAIN_OUTPUT]: 'output',
  [MAIN_FEATURE]: 'feature',
};

function emptyGlobals(): GlobalState {
  return {
    usagePage: 0,
    logicalMin: 0,
    logicalMax: 0,
    physicalMin: 0,
    physicalMax: 0,
    unitExponent: 0,
    unit: 0,
    reportSize: 0,
    reportId: 0,
    reportCount: 0,
  };
}

function emptyLocals(): LocalState {
  return { usages: [], usageMin: undefined, usageMax: undefined };
}

/**
 * Unit Exponent is a 4-bit two's-complement nibble (HID 1.11 §6.2.2.7): 0x0E is −2. Some
 * descriptors write the whole byte instead (0xFE); both read as −2.
 */
function unitExponent(item: DescriptorItem): number {
  if (item.size === 1 && item.unsigned <= 0x0f) {
    return item.unsigned >= 8 ? item.unsigned - 16 : item.unsigned;
  }
  return item.signed;
}

/**
 * A maximum smaller than a non-negative minimum is read unsigned: `26 ff 00` is clear, but
 * `25 ff` after `15 00` means 255, not −1 (Back-UPS BX1600MI, NUT #1208).
 */
function fixMax(min: number, item: DescriptorItem): number {
  return min >= 0 && item.signed < min ? item.unsigned : item.signed;
}

/** A Usage item: 4-byte data carries its own page; shorter data takes the current page. */
function localUsage(item: DescriptorItem, page: number): number {
  return item.size === 4 ? item.unsigned : usage(page, item.unsigned);
}

function collectionName(u: number): string {
  return usagePage(u) === PAGE_ORDINAL ? `[${usageId(u)}]` : usageName(u);
}

function fail(item: DescriptorItem, why: string): never {
  throw new Ups2MqttError('PROTOCOL_ERROR', `HID report descriptor: ${why} (byte ${item.offset})`, {
    context: { offset: item.offset },
  });
}

/** Parses a report descriptor. Throws PROTOCOL_ERROR on a framing error. */
export function parseReportDescriptor(bytes: Uint8Array): ParsedDescriptor {
  const items = tokenizeDescriptor(bytes);
  const out: ParsedDescriptor = {
    fields: [],
    reportBytes: new Map(),
    applications: [],
    usesReportIds: false,
    collectionCount: 0,
    byteLength: bytes.length,
  };
  const bitCursor = new Map<string, number>();
  const stack: GlobalState[] = [];
  const collections: { usage: number; name: string }[] = [];
  let g = emptyGlobals();
  let l = emptyLocals();

  for (const item of items) {
    if (item.long) continue;
    if (item.type === 'global') {
      switch (item.tag) {
        case 0x0:
          g.usagePage = item.unsigned;
          break;
        case 0x1:
          g.logicalMin = item.signed;
          break;
        case 0x2:
          g.logicalMax = fixMax(g.logicalMin, item);
          break;
        case 0x3:
          g.physicalMin = item.signed;
          break;
        case 0x4:
          g.physicalMax = fixMax(g.physicalMin, item);
          break;
        case 0x5:
          g.unitExponent = unitExponent(item);
          break;
        case 0x6:
          g.unit = item.unsigned;
          break;
        case 0x7:
          g.reportSize = item.unsigned;
          break;
        case 0x8:
          if (item.unsigned === 0) fail(item, 'Report ID 0 is reserved');
          g.reportId = item.unsigned;
          out.usesReportIds = true;
          break;
        case 0x9:
          if (item.unsigned > MAX_REPORT_COUNT) fail(item, `Report Count ${item.unsigned}`);
          g.reportCount = item.unsigned;
          break;
        case 0xa:
          stack.push({ ...g });
          break;
        case 0xb: {
          const popped = stack.pop();
          if (!popped) fail(item, 'Pop without Push');
          g = popped;
          break;
        }
        default:
          break;
      }
    } else if (item.type === 'local') {
      if (item.tag === 0x0) l.usages.push(localUsage(item, g.usagePage));
      else if (item.tag === 0x1) l.usageMin = localUsage(item, g.usagePage);
      else if (item.tag === 0x2) l.usageMax = localUsage(item, g.usagePage);
    } else if (item.type === 'main') {
      const kind = KIND_BY_TAG[item.tag];
      if (kind !== undefined) {
        addFields(out, bitCursor, collections, g, l, kind, item);
      } else if (item.tag === MAIN_COLLECTION) {
        const u = l.usages[0] ?? l.usageMin ?? 0;
        if (collections.length === 0 && (item.unsigned & 0xff) === COLLECTION_APPLICATION) {
          out.applications.push(u);
        }
        collections.push({ usage: u, name: collectionName(u) });
        out.collectionCount++;
      } else if (item.tag === MAIN_END_COLLECTION) {
        if (collections.pop() === undefined) fail(item, 'End Collection without a Collection');
      }
      l = emptyLocals();
    }
  }
  if (collections.length > 0) {
    throw new Ups2MqttError(
      'PROTOCOL_ERROR',
      `HID report descriptor: ${collections.length} collection(s) never closed`,
      { context: { open: collections.map((c) => c.name) } },
    );
  }
  for (const [key, bits] of bitCursor) out.reportBytes.set(key, Math.ceil(bits / 8));
  return out;
}

/** The usage of element `i` of a main item: listed usages first, then a Min/Max range. */
function usageAt(l: LocalState, i: number): number | undefined {
  if (i < l.usages.length) return l.usages[i];
  if (l.usageMin !== undefined && l.usageMax !== undefined) {
    const u = l.usageMin + (i - l.usages.length);
    return u <= l.usageMax ? u : l.usageMax;
  }
  // HID 1.11 §6.2.2.8: the last usage applies to the remaining controls.
  return l.usages[l.usages.length - 1];
}

function addFields(
  out: ParsedDescriptor,
  bitCursor: Map<string, number>,
  collections: readonly { usage: number; name: string }[],
  g: GlobalState,
  l: LocalState,
  kind: ReportKind,
  item: DescriptorItem,
): void {
  const flags = item.unsigned;
  const key = reportKey(kind, g.reportId);
  const start = bitCursor.get(key) ?? 0;
  const end = start + g.reportSize * g.reportCount;
  if (end > MAX_REPORT_BITS) {
    fail(item, `${kind} report ${g.reportId} grows to ${end} bits, past ${MAX_REPORT_BITS}`);
  }
  bitCursor.set(key, end);
  const variable = (flags & 0x02) !== 0;
  const prefix = collections.map((c) => c.name).join('.');
  const collectionUsages = collections.map((c) => c.usage);
  for (let i = 0; i < g.reportCount; i++) {
    const u = usageAt(l, variable ? i : 0);
    if (u === undefined) continue; // padding
    if (out.fields.length >= MAX_DESCRIPTOR_FIELDS) {
      fail(item, `more than ${MAX_DESCRIPTOR_FIELDS} fields`);
    }
    out.fields.push({
      kind,
      reportId: g.reportId,
      bitOffset: start + i * g.reportSize,
      bitSize: g.reportSize,
      usage: u,
      path: prefix === '' ? usageName(u) : `${prefix}.${usageName(u)}`,
      collections: collectionUsages,
      logicalMin: g.logicalMin,
      logicalMax: g.logicalMax,
      physicalMin: g.physicalMin,
      physicalMax: g.physicalMax,
      unit: g.unit,
      unitExponent: g.unitExponent,
      signed: g.logicalMin < 0,
      constant: (flags & 0x01) !== 0,
      variable,
    });
  }
}
