/**
 * Fuzz targets of the apcupsd NIS source: framing (src/sources/nis/framing.ts), the client's
 * reply handling over an injected stream (client.ts), status lines (parse.ts), their mapping
 * (map.ts) and the event log (events.ts).
 */
import fc from 'fast-check';
import { ManualClock } from '../../src/core/clock.ts';
import { NIS_MAX_LINE_BYTES, nisLine } from '../../src/servers/nis/format.ts';
import {
  NIS_MAX_REQUEST_BYTES,
  type NisRequest,
  NisRequestDecoder,
  nisCommandOf,
} from '../../src/servers/nis/protocol.ts';
import { type NisSocket, nisRequest } from '../../src/sources/nis/client.ts';
import { EventLogTracker, parseEventLine } from '../../src/sources/nis/events.ts';
import {
  DEFAULT_MAX_FRAME_BYTES,
  type NisFrame,
  NisFrameDecoder,
} from '../../src/sources/nis/framing.ts';
import { mapNisStatus } from '../../src/sources/nis/map.ts';
import {
  parseNisNumber,
  parseNisTimestamp,
  parseStatusLines,
} from '../../src/sources/nis/parse.ts';
import { FakeSocket, fixtureLines } from '../unit/nis/helpers.ts';
import {
  bytes,
  check,
  coded,
  codedAsync,
  cut,
  type FuzzTarget,
  mutated,
  nastyText,
  splitPoints,
} from './harness.ts';

/** One frame as apcupsd writes it. */
function frame(payload: Buffer): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(payload.length, 0);
  return Buffer.concat([head, payload]);
}

/** A whole reply: one frame per line (with its newline), then the empty end frame. */
export function encodeReply(lines: readonly string[]): Buffer {
  return Buffer.concat([
    ...lines.map((l) => frame(Buffer.from(`${l}\n`, 'utf8'))),
    Buffer.from([0, 0]),
  ]);
}

/** Decodes `chunks` with one decoder; the error code when it threw. */
export function decodeChunks(
  chunks: readonly Buffer[],
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
): { frames: NisFrame[]; pending: number; error?: string } {
  const decoder = new NisFrameDecoder({ maxFrameBytes });
  const frames: NisFrame[] = [];
  for (const chunk of chunks) {
    const out = coded(() => decoder.push(chunk), ['FRAME_TOO_LARGE']);
    if (!out.ok) return { frames, pending: decoder.pendingBytes, error: out.code };
    frames.push(...out.value);
    check(
      decoder.pendingBytes <= maxFrameBytes + 2,
      `decoder holds ${decoder.pendingBytes} bytes, limit ${maxFrameBytes} + 2`,
    );
  }
  return { frames, pending: decoder.pendingBytes };
}

/**
 * Whether two decodings of one stream agree: the same error, or the same frames and carry.
 * Frames decoded in the push that threw are lost with it, so they are not compared then.
 */
function sameOutcome(a: ReturnType<typeof decodeChunks>, b: ReturnType<typeof decodeChunks>) {
  if (a.error !== undefined || b.error !== undefined) return a.error === b.error;
  return JSON.stringify(a) === JSON.stringify(b);
}

const CAPTURES = [
  'apcupsd-3.14.14-back-ups-xs-1400u-usb-online.txt',
  'apcupsd-3.14.14-smart-ups-rt-1000-xl-apcsmart-online.txt',
  'apcupsd-3.7.2-smart-ups-1250-100v.txt',
  'apcupsd-3.10.17-back-ups-rs-1500-usb-online.txt',
];
const captureLines = CAPTURES.map((name) => fixtureLines(name));
const NIS_KEYS = [
  ...new Set(captureLines.flatMap((lines) => parseStatusLines(lines).map((r) => r.key))),
];

/** A status line: a real key or noise, a separator, a value that is real, mutated or noise. */
const statusLine: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(fc.constantFrom(...NIS_KEYS), nastyText(12)),
    fc.constantFrom(' : ', ':', '  :  ', '', ' '),
    fc.oneof(
      fc.constantFrom(
        'ONLINE',
        '',
        'N/A',
        '0x05000008',
        '0x0',
        '-1',
        '2024-03-02 14:05:11 +0100',
        'Sun Jun 05 21:20:37 PDT 2005',
        '9999-99-99 99:99:99 +9999',
        '1e309 Volts',
        '  24.0 Percent',
        'SHUTTING DOWN COMMLOST',
        'IP',
      ),
      fc.double().map(String),
      nastyText(40),
    ),
  )
  .map(([k, sep, v]) => `${k}${sep}${v}`);

/** Fields of UpsData that must be finite when numeric. */
function checkData(data: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === 'number') check(Number.isFinite(value), `${key} is ${value}`);
    if (key.endsWith('_at') && typeof value === 'string') {
      check(Number.isFinite(Date.parse(value)), `${key} "${value}" does not parse back`);
    }
  }
}

/** Feeds `chunks` to nisRequest over a fake stream, then closes it when `close` is set. */
async function request(chunks: readonly Buffer[], close: boolean, maxLines = 512) {
  const socket = new FakeSocket(false);
  const clock = new ManualClock();
  socket.onWrite = () => {
    for (const c of chunks) socket.push(c);
    if (close) socket.push(null);
  };
  // Classified at once, so an early rejection is never an unhandled one.
  const outcome = codedAsync(
    () =>
      nisRequest({
        host: 'ups',
        port: 3551,
        command: 'status',
        clock,
        readTimeoutMs: 1000,
        maxLines,
        connect: () => socket as NisSocket,
      }),
    ['FRAME_TOO_LARGE', 'PROTOCOL_ERROR', 'SERVER_ERROR', 'PEER_CLOSED', 'READ_TIMEOUT'],
  );
  // Let the stream deliver, then run out the read timer: every path must settle.
  for (let i = 0; i < 4; i++) await new Promise<void>((r) => setImmediate(r));
  clock.advance(1000);
  const out = await outcome;
  check(clock.pending() === 0, `${clock.pending()} timer(s) left after the request`);
  check(socket.destroyed, 'socket not destroyed after the request');
  return out;
}

/** The NIS server's view of a client's byte stream, chunk by chunk. */
function serverRequests(chunks: readonly Buffer[]): string[] {
  const decoder = new NisRequestDecoder();
  const out: NisRequest[] = [];
  for (const chunk of chunks) {
    const got = coded(() => decoder.push(chunk), []);
    check(got.ok, 'push threw');
    out.push(...got.value);
    check(decoder.pendingBytes <= NIS_MAX_REQUEST_BYTES + 2, `${decoder.pendingBytes} held`);
  }
  const closes = out.filter((r) => r.kind === 'close').length;
  check(closes <= 1 && (closes === 0 || out.at(-1)?.kind === 'close'), 'requests after close');
  return out.map((r) => (r.kind === 'close' ? '<close>' : r.payload.toString('hex')));
}

export const NIS_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'nis/framing-bytes',
    runs: 300,
    property: () =>
      fc.property(
        bytes(2048),
        splitPoints(),
        fc.integer({ min: 0, max: 2048 }),
        (buf, cuts, max) => {
          const whole = decodeChunks([buf], max);
          const split = decodeChunks(cut(buf, cuts), max);
          // Any split of the stream decodes to the same frames (or the same error).
          check(sameOutcome(whole, split), 'a split stream decodes differently');
          for (const f of whole.frames) {
            if (f.kind === 'line') check(Buffer.byteLength(f.text) <= max * 3, 'line too long');
          }
          check(whole.frames.length <= buf.length / 2, 'more frames than length prefixes');
        },
      ),
  },
  {
    name: 'nis/framing-replies',
    runs: 200,
    property: () =>
      fc.property(
        fc.oneof(
          fc.constantFrom(...captureLines),
          fc.array(statusLine, { maxLength: 40, size: 'max' }),
        ),
        splitPoints(20),
        (lines, cuts) => {
          // Lines that survive UTF-8 (no lone surrogates: those never come off a wire).
          const safe = lines.filter(
            (l) =>
              Buffer.byteLength(`${l}\n`) <= DEFAULT_MAX_FRAME_BYTES &&
              Buffer.from(l, 'utf8').toString('utf8') === l,
          );
          const got = decodeChunks(cut(encodeReply(safe), cuts));
          check(got.error === undefined && got.pending === 0, 'valid reply not fully decoded');
          const texts = got.frames.map((f) => (f.kind === 'line' ? f.text : '<end>'));
          check(
            JSON.stringify(texts) === JSON.stringify([...safe.map((l) => `${l}\n`), '<end>']),
            'lines changed in framing',
          );
        },
      ),
  },
  {
    name: 'nis/framing-mutated',
    runs: 200,
    property: () =>
      fc.property(
        fc.constantFrom(...captureLines).chain((lines) => mutated(encodeReply(lines), 6)),
        splitPoints(),
        (buf, cuts) => {
          const whole = decodeChunks([buf]);
          const split = decodeChunks(cut(buf, cuts));
          check(sameOutcome(whole, split), 'split changes the outcome');
        },
      ),
  },
  {
    name: 'nis/framing-oversized-prefix',
    runs: 100,
    property: () =>
      fc.property(
        fc.constantFrom(...captureLines),
        fc.nat(),
        fc.integer({ min: DEFAULT_MAX_FRAME_BYTES + 1, max: 0xffff }),
        splitPoints(),
        (lines, at, length, cuts) => {
          const buf = encodeReply(lines);
          // Overwrite the length prefix of one frame.
          let offset = 0;
          const target = at % lines.length;
          for (let i = 0; i < target; i++) offset += 2 + buf.readUInt16BE(offset);
          buf.writeUInt16BE(length, offset);
          const got = decodeChunks(cut(buf, cuts));
          check(got.error === 'FRAME_TOO_LARGE', `got ${got.error ?? 'no error'}`);
          check(got.frames.length <= target, 'frames after the bad prefix');
        },
      ),
  },
  {
    name: 'nis/client-reply',
    runs: 120,
    property: () =>
      fc.asyncProperty(
        fc.oneof(
          bytes(1024).map((b) => [b]),
          fc
            .tuple(
              fc.oneof(fc.constantFrom(...captureLines), fc.array(statusLine, { maxLength: 30 })),
              splitPoints(),
            )
            .map(([lines, cuts]) => cut(encodeReply(lines), cuts)),
          fc
            .tuple(fc.constantFrom(...captureLines), splitPoints())
            .chain(([lines, cuts]) => mutated(encodeReply(lines), 4).map((b) => cut(b, cuts))),
        ),
        fc.boolean(),
        fc.integer({ min: 1, max: 80 }),
        async (chunks, close, maxLines) => {
          const out = await request(chunks, close, maxLines);
          if (out.ok) check(out.value.length <= maxLines, 'more lines than maxLines');
        },
      ),
  },
  {
    name: 'nis/server-requests',
    runs: 300,
    property: () =>
      fc.property(
        fc.oneof(
          bytes(1024),
          fc
            .array(
              fc.oneof(
                fc
                  .constantFrom('status', 'events', 'status\n', 'STATUS', '')
                  .map((t) => frame(Buffer.from(t, 'latin1'))),
                bytes(300).map(frame),
              ),
              { maxLength: 10 },
            )
            .map((parts) => Buffer.concat(parts)),
        ),
        splitPoints(),
        (buf, cuts) => {
          const whole = serverRequests([buf]);
          const split = serverRequests(cut(buf, cuts));
          check(
            JSON.stringify(whole) === JSON.stringify(split),
            'a split stream decodes differently',
          );
          for (const hex of whole) {
            if (hex !== '<close>') coded(() => nisCommandOf(Buffer.from(hex, 'hex')), []);
          }
        },
      ),
  },
  {
    name: 'nis/server-line',
    runs: 300,
    property: () =>
      // What the NIS server writes from UPS-provided strings must stay one record that our
      // own client parses back under the same key.
      fc.property(
        fc.constantFrom(...NIS_KEYS),
        fc.oneof(nastyText(120), fc.string({ maxLength: 400, unit: 'binary' })),
        (key, value) => {
          const line = coded(() => nisLine(key, value), []);
          check(line.ok, 'threw');
          check(Buffer.byteLength(line.value, 'utf8') <= NIS_MAX_LINE_BYTES, 'line too long');
          check(
            line.value.endsWith('\n') && line.value.indexOf('\n') === line.value.length - 1,
            'not one line',
          );
          const back = parseStatusLines([line.value.slice(0, -1)]);
          check(back.length === 1 && back[0]?.key === key, `key ${key} not parsed back`);
        },
      ),
  },
  {
    name: 'nis/status-lines',
    runs: 400,
    property: () =>
      fc.property(
        fc.oneof(
          fc.array(statusLine, { maxLength: 80, size: 'max' }),
          fc.array(nastyText(80), { maxLength: 40 }),
          fc.constantFrom(...captureLines).chain((lines) =>
            fc.array(fc.tuple(fc.nat(), statusLine), { maxLength: 8 }).map((edits) => {
              const copy = [...lines];
              for (const [i, l] of edits) copy[i % copy.length] = l;
              return copy;
            }),
          ),
        ),
        (lines) => {
          const warnings: string[] = [];
          const records = coded(() => parseStatusLines(lines, warnings), []);
          check(records.ok, 'parseStatusLines threw');
          check(records.value.length + warnings.length === lines.length, 'lines lost');
          const mapped = coded(() => mapNisStatus(records.value), []);
          check(mapped.ok, 'mapNisStatus threw');
          checkData(mapped.value.data as Record<string, unknown>);
          const inSize = lines.reduce((n, l) => n + l.length, 0);
          const outSize =
            JSON.stringify(mapped.value.data).length + JSON.stringify(mapped.value.unknown).length;
          check(outSize <= 2 * inSize + 4096, `output ${outSize} chars from ${inSize}`);
        },
      ),
  },
  {
    name: 'nis/values',
    runs: 400,
    property: () =>
      fc.property(nastyText(60), (text) => {
        const n = coded(() => parseNisNumber(text), []);
        check(n.ok && (n.value === undefined || Number.isFinite(n.value)), 'bad number');
        const t = coded(() => parseNisTimestamp(text), []);
        check(t.ok, 'timestamp threw');
        if (t.value !== undefined) check(Number.isFinite(Date.parse(t.value)), 'bad timestamp');
      }),
  },
  {
    name: 'nis/event-log',
    runs: 150,
    property: () =>
      fc.property(
        fc.array(
          fc.array(
            fc.oneof(
              nastyText(60),
              fc
                .tuple(
                  fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }),
                  fc.constantFrom('Power failure.', 'Power is back. UPS running on mains.', 'x'),
                )
                .map(([d, m]) => `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000  ${m}`),
            ),
            { maxLength: 50 },
          ),
          { maxLength: 5 },
        ),
        (replies) => {
          const tracker = new EventLogTracker();
          replies.forEach((lines, i) => {
            for (const l of lines) coded(() => parseEventLine(l), []);
            const events = coded(() => tracker.ingest(lines, { initial: i === 0 }), []);
            check(events.ok && events.value.length <= lines.length, 'more events than lines');
          });
        },
      ),
  },
];
