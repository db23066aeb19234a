/**
 * Fuzz targets of the `nut://` source: the reply line decoder and list collector
 * (src/sources/nut/protocol.ts), request lines, the connection's reply handling over an
 * injected stream (connection.ts: LIST blocks, ERR codes, oversized and unterminated lines,
 * replies cut anywhere) and the mapping of variables (map.ts).
 */
import { Duplex } from 'node:stream';
import fc from 'fast-check';
import pino from 'pino';
import { ManualClock } from '../../src/core/clock.ts';
import type { ErrorCode } from '../../src/core/errors.ts';
import { NutConnection } from '../../src/sources/nut/connection.ts';
import { mapNutVars, nutStatusFlags, parseNutNumber } from '../../src/sources/nut/map.ts';
import { parseVarList } from '../../src/sources/nut/parse.ts';
import {
  NUT_ERROR_CODES,
  NutLineDecoder,
  NutListCollector,
  nutRequestLine,
} from '../../src/sources/nut/protocol.ts';
import { quoteNutWord, splitNutWords } from '../../src/util/nut-words.ts';
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

/** Codes a NUT reply may end in: framing, shape, and every mapped upsd `ERR`. */
export const NUT_REPLY_CODES: readonly ErrorCode[] = [
  'FRAME_TOO_LARGE',
  'PROTOCOL_ERROR',
  'SERVER_ERROR',
  ...new Set(Object.values(NUT_ERROR_CODES)),
];

/** Variable names a UPS reports, and noise. */
const KNOWN_VARS = [
  'ups.status',
  'battery.charge',
  'battery.runtime',
  'input.voltage',
  'ups.load',
  'ups.realpower',
  'ups.realpower.nominal',
  'device.serial',
  'ups.serial',
  'device.model',
  'ups.test.result',
  'input.sensitivity',
  'battery.charger.status',
  'ups.alarm',
  'ambient.temperature',
  'driver.name',
];
const varName = fc.oneof(fc.constantFrom(...KNOWN_VARS), nastyText(16));
const varValue = fc.oneof(
  fc.constantFrom(
    'OL',
    'OB LB',
    'OL CHRG ALARM',
    'WAIT',
    'FSD OB',
    '',
    ' ',
    '100',
    '004.5',
    '-1',
    '1.56117e+09',
    '1e309',
    '0x10',
    'NaN',
    'Infinity',
    'Done and passed',
    'In progress',
    'auto adjust',
    '....',
  ),
  fc.double().map(String),
  nastyText(40),
);

/** A LIST VAR reply as upsd writes it. */
function varReply(ups: string, vars: readonly (readonly [string, string])[]): string {
  const rows = vars.map(([n, v]) => `VAR ${ups} ${n} ${quoteNutWord(v)}\n`).join('');
  return `BEGIN LIST VAR ${ups}\n${rows}END LIST VAR ${ups}\n`;
}

/** Names without blanks, quotes, backslashes or line ends: what upsd would send unquoted. */
const plainName = fc.stringMatching(/^[A-Za-z0-9._-]{1,16}$/);

/** Lines a peer may answer a LIST VAR with: the real shape, mutated, or noise. */
const replyText: fc.Arbitrary<string> = fc.oneof(
  fc.array(fc.tuple(plainName, varValue), { maxLength: 30 }).map((vars) => varReply('ups', vars)),
  fc
    .array(fc.tuple(plainName, varValue), { maxLength: 10 })
    .chain((vars) => mutated(Buffer.from(varReply('ups', vars))))
    .map((b) => b.toString('utf8')),
  fc.constantFrom(...Object.keys(NUT_ERROR_CODES), 'NEW-CODE', '').map((code) => `ERR ${code}\n`),
  fc.array(nastyText(60), { maxLength: 12 }).map((lines) => lines.join('\n')),
);

/** Decodes `chunks` with one decoder; the error code when it threw. */
function decodeLines(
  chunks: readonly Buffer[],
  max: number,
): { lines: string[]; pending: number; error?: string } {
  const decoder = new NutLineDecoder(max);
  const lines: string[] = [];
  for (const chunk of chunks) {
    const out = coded(() => decoder.push(chunk), ['FRAME_TOO_LARGE']);
    if (!out.ok) return { lines, pending: decoder.pendingBytes, error: out.code };
    lines.push(...out.value);
    check(decoder.pendingBytes <= max, `decoder holds ${decoder.pendingBytes} bytes, limit ${max}`);
  }
  return { lines, pending: decoder.pendingBytes };
}

/** A stream the connection reads from; `connect` is announced as a TCP socket would. */
export class FakeNutSocket extends Duplex {
  onWrite: (text: string) => void = () => {};

  constructor() {
    super();
    process.nextTick(() => this.emit('connect'));
  }

  setNoDelay(): this {
    return this;
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.onWrite(chunk.toString('utf8'));
    cb();
  }
}

const logger = pino({ level: 'silent' });

/**
 * Opens a NutConnection over a fake stream that answers the first request with `chunks`
 * (and closes when `close` is set), runs `request`, then runs out the read timer.
 */
async function exchange(
  chunks: readonly Buffer[],
  close: boolean,
  request: (c: NutConnection) => Promise<unknown>,
) {
  const socket = new FakeNutSocket();
  const clock = new ManualClock();
  socket.onWrite = () => {
    for (const c of chunks) socket.push(c);
    if (close) socket.push(null);
  };
  const conn = await NutConnection.open({
    host: 'ups',
    port: 3493,
    tls: 'off',
    clock,
    readTimeoutMs: 1000,
    maxLineBytes: 512,
    maxListItems: 64,
    logger,
    connect: () => socket as never,
  });
  // Classified at once, so an early rejection is never an unhandled one.
  const outcome = codedAsync(
    () => request(conn),
    [...NUT_REPLY_CODES, 'PEER_CLOSED', 'READ_TIMEOUT'],
  );
  for (let i = 0; i < 4; i++) await new Promise<void>((r) => setImmediate(r));
  clock.advance(1000);
  const out = await outcome;
  check(clock.pending() === 0, `${clock.pending()} timer(s) left after the request`);
  // Only a complete reply or upsd's own ERR leaves the connection usable.
  if (!out.ok && !Object.values(NUT_ERROR_CODES).includes(out.code)) {
    check(!conn.usable && socket.destroyed, 'a broken reply left the connection open');
  }
  conn.close();
  return out;
}

export const NUT_SOURCE_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'nut-source/lines-split',
    runs: 300,
    property: () =>
      fc.property(
        fc.oneof(
          bytes(2048),
          replyText.map((t) => Buffer.from(t, 'utf8')),
          // Multi-byte characters, which a cut may split.
          fc
            .array(fc.constantFrom('é', '😀', '€', 'a', ' ', '"', '\n', '\r\n'), {
              maxLength: 200,
              size: 'max',
            })
            .map((a) => Buffer.from(a.join(''), 'utf8')),
        ),
        splitPoints(),
        fc.oneof(fc.integer({ min: 0, max: 512 }), fc.constant(4096)),
        (buf, cuts, max) => {
          const whole = decodeLines([buf], max);
          const split = decodeLines(cut(buf, cuts), max);
          // Lines decoded in the push that threw are lost with it: compare errors only then.
          if (whole.error !== undefined || split.error !== undefined) {
            check(whole.error === split.error, 'a split stream fails differently');
          } else {
            check(
              JSON.stringify(whole) === JSON.stringify(split),
              'a split stream decodes differently',
            );
          }
          for (const l of whole.lines) {
            check(Buffer.byteLength(l, 'utf8') <= max * 3, 'line too long');
            check(!l.includes('\n'), 'a line holds a newline');
          }
        },
      ),
  },
  {
    name: 'nut-source/list-reply',
    runs: 400,
    property: () =>
      fc.property(replyText, fc.integer({ min: 0, max: 40 }), (text, maxItems) => {
        const collector = new NutListCollector('LIST VAR ups', maxItems);
        const lines = text.split('\n');
        let items: string[][] | undefined;
        for (const line of lines) {
          const got = coded(() => collector.push(line), NUT_REPLY_CODES);
          if (!got.ok) return;
          items = got.value;
          if (items !== undefined) break;
        }
        if (items === undefined) return;
        check(items.length <= Math.min(lines.length, maxItems), 'more items than lines');
        const vars = coded(() => parseVarList('ups', items ?? []), []);
        check(vars.ok, 'parseVarList threw');
        const mapped = coded(() => mapNutVars(vars.value), []);
        check(mapped.ok, 'mapNutVars threw');
      }),
  },
  {
    name: 'nut-source/list-round-trip',
    runs: 300,
    property: () =>
      // What upsd quotes, our reader gives back exactly (values free of line ends).
      fc.property(
        fc.array(
          fc.tuple(
            plainName,
            nastyText(40).map((v) => v.replace(/[\r\n]/g, '')),
          ),
          { maxLength: 20 },
        ),
        (vars) => {
          const collector = new NutListCollector('LIST VAR ups');
          let items: string[][] | undefined;
          for (const line of varReply('ups', vars).split('\n').slice(0, -1)) {
            const got = coded(() => collector.push(line), []);
            check(got.ok, 'threw');
            items = got.value;
          }
          check(items !== undefined, 'list not complete');
          const back = [...parseVarList('ups', items)];
          const want = [...new Map(vars.map(([n, v]) => [n, v]))];
          check(JSON.stringify(back) === JSON.stringify(want), 'values changed on the way');
        },
      ),
  },
  {
    name: 'nut-source/request-line',
    runs: 400,
    property: () =>
      fc.property(
        fc.array(fc.oneof(plainName, nastyText(20)), { minLength: 1, maxLength: 6 }),
        (words) => {
          const line = coded(() => nutRequestLine(words), ['PROTOCOL_ERROR']);
          if (!line.ok) {
            check(
              words.some((w) => /[\r\n\0]/.test(w)),
              'refused words that need no refusal',
            );
            return;
          }
          // One line, whatever the words hold: a word must never start a second request.
          check(line.value.indexOf('\n') === line.value.length - 1, 'more than one line');
          const back = splitNutWords(line.value.slice(0, -1));
          check(JSON.stringify(back) === JSON.stringify(words), 'words changed on the way');
        },
      ),
  },
  {
    name: 'nut-source/connection',
    runs: 150,
    property: () =>
      fc.asyncProperty(
        fc.oneof(
          replyText.map((t) => Buffer.from(t, 'utf8')),
          bytes(1024),
          // An endless line: more than the connection's 512-byte bound, no newline.
          fc.integer({ min: 513, max: 4096 }).map((n) => Buffer.alloc(n, 0x41)),
        ),
        splitPoints(),
        fc.boolean(),
        fc.boolean(),
        async (buf, cuts, close, list) => {
          const out = await exchange(cut(buf, cuts), close, (c) =>
            list ? c.list('LIST VAR ups') : c.single('GET VAR ups ups.status'),
          );
          if (out.ok && list) {
            check((out.value as string[][]).length <= 64, 'more items than the bound');
          }
        },
      ),
  },
  {
    name: 'nut-source/map',
    runs: 400,
    property: () =>
      fc.property(fc.array(fc.tuple(varName, varValue), { maxLength: 40 }), (pairs) => {
        const vars = new Map(pairs);
        const mapped = coded(() => mapNutVars(vars), []);
        check(mapped.ok, 'mapNutVars threw');
        const { data, unknown, warnings } = mapped.value;
        for (const [key, value] of Object.entries(data)) {
          if (typeof value === 'number') check(Number.isFinite(value), `${key} is ${value}`);
        }
        check(warnings.length <= vars.size, 'more warnings than variables');
        check(Object.keys(unknown).length <= vars.size, 'more unknown than variables');
        const inSize = pairs.reduce((n, [k, v]) => n + k.length + v.length, 0);
        const outSize = JSON.stringify(data).length + JSON.stringify(unknown).length;
        check(outSize <= 2 * inSize + 4096, `output ${outSize} chars from ${inSize}`);
        for (const [, v] of pairs) {
          const n = coded(() => parseNutNumber(v), []);
          check(n.ok && (n.value === undefined || Number.isFinite(n.value)), 'bad number');
          check(coded(() => nutStatusFlags(v, v), []).ok, 'nutStatusFlags threw');
        }
      }),
  },
];
