/**
 * Fuzz targets of the USB HID source: the report-descriptor tokenizer and parser
 * (src/sources/hid/descriptor/), the report decoder and value mapping (decode.ts, mapping.ts)
 * and the capture-file reader behind `hid-replay://` (capture.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseCapture } from '../../src/sources/hid/capture.ts';
import { resolveSignals } from '../../src/sources/hid/connect.ts';
import { decodeReport, ValueStore } from '../../src/sources/hid/decode.ts';
import { hexToBytes, tokenizeDescriptor } from '../../src/sources/hid/descriptor/items.ts';
import {
  MAX_DESCRIPTOR_FIELDS,
  type ParsedDescriptor,
  parseReportDescriptor,
} from '../../src/sources/hid/descriptor/parser.ts';
import { mapSignals } from '../../src/sources/hid/mapping.ts';
import { ReportMap } from '../../src/sources/hid/report-map.ts';
import { bytes, check, coded, type FuzzTarget, mutated, nastyText } from './harness.ts';

const FIXTURES = new URL('../fixtures/hid/', import.meta.url);

/** The real captures of test/fixtures/hid (descriptor and feature reports of each UPS). */
export const HID_CAPTURES = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => {
    const json = JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) as unknown;
    const capture = parseCapture(json, file);
    return {
      file,
      json,
      descriptor: Buffer.from(hexToBytes(capture.descriptorHex)),
      reports: Object.values(capture.featureReports).map((h) => Buffer.from(hexToBytes(h))),
    };
  });

/** Parses, and checks what every parsed descriptor must satisfy. */
export function parseChecked(buf: Buffer): ParsedDescriptor | undefined {
  const parsed = coded(() => parseReportDescriptor(buf), ['PROTOCOL_ERROR']);
  if (!parsed.ok) return undefined;
  const d = parsed.value;
  // Bounded whatever the input: a field cap, and no report longer than one USB transfer.
  check(d.fields.length <= MAX_DESCRIPTOR_FIELDS, `${d.fields.length} fields`);
  for (const [key, n] of d.reportBytes) check(n <= 0xffff, `report ${key} of ${n} bytes`);
  for (const f of d.fields) {
    check(f.bitSize >= 0 && f.bitOffset >= 0, 'negative size or offset');
    check(Number.isSafeInteger(f.bitOffset + f.bitSize), 'offset past safe integers');
  }
  return d;
}

/**
 * Decodes and maps every report; values must be numbers (finite or not is the device's).
 * `signals` resolves the mapping's paths (10 ms on a real descriptor: done once per map).
 */
function decodeAll(
  map: ReportMap,
  reports: readonly Buffer[],
  signals: ReturnType<typeof resolveSignals> | undefined,
): void {
  const store = new ValueStore();
  for (const r of reports) {
    for (const kind of ['feature', 'input'] as const) {
      const values = coded(() => decodeReport(map, kind, r), []);
      check(values.ok, 'decodeReport threw');
      check(values.value.length <= map.fieldsOf(kind, r[0] ?? 0).length, 'more values than fields');
      for (const v of values.value)
        check(typeof v.value === 'number' && !Number.isNaN(v.raw), 'NaN');
      coded(() => store.apply(map, kind, r), []);
    }
  }
  if (signals === undefined) return;
  const data = coded(
    () =>
      mapSignals((name) => {
        for (const p of signals[name]) {
          const v = store.get(p);
          if (v !== undefined) return v;
        }
        return undefined;
      }),
    [],
  );
  check(data.ok, 'mapSignals threw');
}

/** A report for a descriptor: a known ID first, then bytes of about the declared length. */
function reportFor(map: ReportMap): fc.Arbitrary<Buffer> {
  const ids = [...map.descriptor.reportBytes.keys()].map((k) => Number(k.split(':')[1]));
  return fc
    .tuple(fc.constantFrom(0, ...ids), bytes(Math.min(512, map.maxReportLength() + 4)))
    .map(([id, rest]) => Buffer.concat([Buffer.from([id]), rest]));
}

const maps = new Map<Buffer, { map: ReportMap; signals: ReturnType<typeof resolveSignals> }>();

/** The report map and resolved signals of a real descriptor, built once. */
function mapOf(descriptor: Buffer) {
  let hit = maps.get(descriptor);
  if (hit === undefined) {
    const map = new ReportMap(parseReportDescriptor(descriptor));
    hit = { map, signals: resolveSignals(map) };
    maps.set(descriptor, hit);
  }
  return hit;
}

export const HID_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'hid/descriptor-bytes',
    runs: 400,
    property: () =>
      fc.property(bytes(1024), (buf) => {
        const items = coded(() => tokenizeDescriptor(buf), ['PROTOCOL_ERROR']);
        if (items.ok) check(items.value.length <= buf.length, 'more items than bytes');
        const parsed = parseChecked(buf);
        if (parsed) decodeAll(new ReportMap(parsed), [], undefined);
      }),
  },
  {
    name: 'hid/descriptor-mutated',
    runs: 100,
    property: () =>
      fc.property(
        fc
          .constantFrom(...HID_CAPTURES)
          .chain((c) => fc.tuple(fc.constant(c), mutated(c.descriptor, 6))),
        ([capture, buf]) => {
          const parsed = parseChecked(buf);
          if (parsed === undefined) return;
          const map = new ReportMap(parsed);
          decodeAll(map, capture.reports, resolveSignals(map));
        },
      ),
  },
  {
    name: 'hid/descriptor-item-stream',
    runs: 300,
    property: () =>
      // Well-formed items with hostile values: huge Report Count/Size, deep collections,
      // Push without Pop, usage ranges upside down.
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom(
              0x04,
              0x14,
              0x24,
              0x34,
              0x44,
              0x54,
              0x64,
              0x74,
              0x84,
              0x94,
              0xa4,
              0xb4,
              0x08,
              0x18,
              0x28,
              0x80,
              0x90,
              0xa0,
              0xb0,
              0xc0,
            ),
            fc.constantFrom(0, 1, 2, 3),
            fc.oneof(
              fc.constantFrom(0, 1, 8, 16, 32, 255, 4096, 65535, 0x7fffffff, 0xffffffff),
              fc.nat(),
            ),
          ),
          { maxLength: 200 },
        ),
        (items) => {
          const parts = items.map(([prefix, sizeCode, value]) => {
            const size = [0, 1, 2, 4][sizeCode] ?? 0;
            const data = Buffer.alloc(4);
            data.writeUInt32LE(value >>> 0, 0);
            return Buffer.concat([Buffer.from([prefix | sizeCode]), data.subarray(0, size)]);
          });
          const buf = Buffer.concat(parts);
          const parsed = parseChecked(buf);
          if (parsed) decodeAll(new ReportMap(parsed), [], undefined);
        },
      ),
  },
  {
    name: 'hid/descriptor-amplification',
    runs: 40,
    property: () =>
      // Few bytes, many fields: one Report Count/Size, then repeated Usage + Input/Feature
      // items, each declaring up to 4096 values (found by this target: see the fixtures).
      fc.property(
        fc.integer({ min: 1, max: 4096 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.constantFrom(0x81, 0xb1, 0x91),
        fc.boolean(),
        (count, size, repeats, main, withIds) => {
          const head = Buffer.from([
            0x05,
            0x84,
            0x09,
            0x04,
            0xa1,
            0x01, // Usage Page (Power Device), UPS, Collection
            ...(withIds ? [0x85, 0x01] : []),
            0x96,
            count & 0xff,
            count >> 8, // Report Count
            0x75,
            size, // Report Size
          ]);
          const block = Buffer.from([0x09, 0x30, main, 0x02]);
          const buf = Buffer.concat([
            head,
            ...Array<Buffer>(repeats).fill(block),
            Buffer.from([0xc0]),
          ]);
          const parsed = parseChecked(buf);
          if (parsed) decodeAll(new ReportMap(parsed), [], undefined);
        },
      ),
  },
  {
    name: 'hid/report-decode',
    runs: 300,
    property: () =>
      fc.property(
        fc.constantFrom(...HID_CAPTURES).chain((c) => {
          const { map, signals } = mapOf(c.descriptor);
          return fc.tuple(
            fc.constant(map),
            fc.constant(signals),
            fc.array(
              fc.oneof(
                reportFor(map),
                ...(c.reports.length > 0
                  ? [fc.constantFrom(...c.reports).chain((r) => mutated(r, 3))]
                  : []),
              ),
              { maxLength: 20 },
            ),
          );
        }),
        ([map, signals, reports]) => decodeAll(map, reports, signals),
      ),
  },
  {
    name: 'hid/capture-file',
    runs: 200,
    property: () =>
      fc.property(
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }),
          fc
            .constantFrom(...HID_CAPTURES)
            .chain((c) =>
              fc
                .tuple(
                  fc.constantFrom(
                    'descriptorHex',
                    'featureReports',
                    'inputReports',
                    'vendorId',
                    'descriptorLength',
                    'decodedPaths',
                  ),
                  fc.oneof(fc.jsonValue({ maxDepth: 2 }), nastyText(30)),
                )
                .map(([key, value]) => ({ ...(c.json as object), [key]: value })),
            ),
        ),
        (json) => {
          const got = coded(
            () => parseCapture(json, 'fuzz.json'),
            ['CONFIG_INVALID', 'PROTOCOL_ERROR'],
          );
          if (got.ok) parseChecked(Buffer.from(hexToBytes(got.value.descriptorHex)));
        },
      ),
  },
];
