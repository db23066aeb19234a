/**
 * Fuzz targets of the APC Smart (UPS-Link) source: the line decoder (framing.ts), the
 * protocol client and start-up reader over a fake serial port answering garbage
 * (protocol.ts, reader.ts), the `a` reply parser (capabilities.ts) and the mapping (map.ts).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { pino } from 'pino';
import { ManualClock } from '../../src/core/clock.ts';
import { parseProtocolInfo } from '../../src/sources/apcsmart/capabilities.ts';
import {
  ALERT_CHARS,
  type AlertChar,
  type AlertMode,
  DEFAULT_MAX_LINE_BYTES,
  SmartLineDecoder,
} from '../../src/sources/apcsmart/framing.ts';
import { mapSmartValues } from '../../src/sources/apcsmart/map.ts';
import { SmartProtocol } from '../../src/sources/apcsmart/protocol.ts';
import { identify } from '../../src/sources/apcsmart/reader.ts';
import { drive, FakeTransport } from '../unit/apcsmart/fakes.ts';
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

interface Pair {
  command: string;
  replyHex: string;
}

/** The real unit's answers (test/fixtures/apcsmart, SU420INET), request byte → reply bytes. */
export const SU420_ANSWERS: ReadonlyMap<string, Buffer> = new Map(
  (
    JSON.parse(
      readFileSync(
        new URL('../fixtures/apcsmart/smart-ups-420-su420inet.pairs.json', import.meta.url),
        'utf8',
      ),
    ) as { pairs: Pair[] }
  ).pairs.map((p) => [p.command, Buffer.from(p.replyHex.replace(/\s+/g, ''), 'hex')]),
);

const A_REPLY = (SU420_ANSWERS.get('a') ?? Buffer.alloc(0)).toString('latin1').replace(/\r\n$/, '');
const LETTERS = [...SU420_ANSWERS.keys()];

/** Decodes `chunks` in one mode; replies, alerts and whether any push reported overflow. */
export function decodeSmart(chunks: readonly Buffer[], mode: AlertMode = 'alerts') {
  const decoder = new SmartLineDecoder();
  const replies: string[] = [];
  const alerts: AlertChar[] = [];
  let overflow = false;
  for (const chunk of chunks) {
    // Raw mode lasts one reply (the decoder switches back at LF): set it before each push.
    if (mode === 'raw' && replies.length === 0) decoder.setMode('raw');
    const out = coded(() => decoder.push(chunk), []);
    check(out.ok, 'push threw');
    replies.push(...out.value.replies);
    alerts.push(...out.value.alerts);
    if (out.value.overflow !== undefined) {
      check(out.value.overflow.code === 'FRAME_TOO_LARGE', 'overflow without its code');
      overflow = true;
    }
    check(decoder.pendingBytes <= DEFAULT_MAX_LINE_BYTES, `${decoder.pendingBytes} bytes held`);
  }
  for (const r of replies) check(r.length <= DEFAULT_MAX_LINE_BYTES, 'reply over the limit');
  return { replies, alerts, overflow };
}

/** A reply body as a unit sends it: printable, no CR, LF or alert characters. */
const replyBody = fc
  .string({
    maxLength: 40,
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  })
  .map((s) => s.replace(/[!$%+?=#&|*]/g, ''));

/** A fake UPS: answers each write with `script`'s next bytes (cycled), or stays silent. */
function scriptedPeer(script: readonly (Buffer | null)[]) {
  let i = 0;
  return (): string | undefined => {
    if (script.length === 0) return undefined;
    const next = script[i++ % script.length];
    return next === null || next === undefined ? undefined : next.toString('latin1');
  };
}

const silentLogger = pino({ level: 'silent' });

export const APCSMART_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'apcsmart/decoder-bytes',
    runs: 300,
    property: () =>
      fc.property(
        bytes(2048),
        splitPoints(),
        fc.constantFrom<AlertMode>('alerts', 'raw'),
        (buf, cuts, mode) => {
          const whole = decodeSmart([buf], mode);
          if (mode === 'raw') return;
          const split = decodeSmart(cut(buf, cuts), mode);
          check(
            JSON.stringify(whole) === JSON.stringify(split),
            'a split stream decodes differently',
          );
          check(whole.replies.length + whole.alerts.length <= buf.length, 'more items than bytes');
        },
      ),
  },
  {
    name: 'apcsmart/decoder-replies-with-alerts',
    runs: 200,
    property: () =>
      fc.property(
        fc.array(
          fc.tuple(
            replyBody,
            fc.array(fc.tuple(fc.nat(), fc.constantFrom(...ALERT_CHARS)), { maxLength: 3 }),
          ),
          { maxLength: 20 },
        ),
        splitPoints(20),
        (items, cuts) => {
          const expectAlerts: AlertChar[] = [];
          const wire = items
            .map(([body, alerts]) => {
              let line = `${body}\r\n`;
              for (const [at, a] of alerts) {
                const p = at % (line.length + 1);
                line = `${line.slice(0, p)}${a}${line.slice(p)}`;
              }
              // Alerts come out in stream order.
              for (const c of line)
                if ((ALERT_CHARS as readonly string[]).includes(c))
                  expectAlerts.push(c as AlertChar);
              return line;
            })
            .join('');
          const got = decodeSmart(cut(Buffer.from(wire, 'latin1'), cuts));
          check(
            JSON.stringify(got.replies) === JSON.stringify(items.map(([b]) => b)),
            'replies changed by alerts or splits',
          );
          check(
            JSON.stringify(got.alerts) === JSON.stringify(expectAlerts),
            'alerts lost or reordered',
          );
          check(!got.overflow, 'overflow on short replies');
        },
      ),
  },
  {
    name: 'apcsmart/protocol-info',
    runs: 300,
    property: () =>
      fc.property(
        fc.oneof(
          nastyText(80),
          mutated(Buffer.from(A_REPLY, 'latin1'), 4).map((b) => b.toString('latin1')),
        ),
        (text) => {
          const info = coded(() => parseProtocolInfo(text), []);
          check(info.ok, 'threw');
          if (info.value)
            check(info.value.commands.size <= text.length, 'more commands than bytes');
        },
      ),
  },
  {
    name: 'apcsmart/map-values',
    runs: 300,
    property: () =>
      fc.property(
        fc.array(
          fc.tuple(
            fc.oneof(fc.constantFrom(...LETTERS), fc.string({ maxLength: 2 })),
            fc.oneof(
              fc.constantFrom(
                ...[...SU420_ANSWERS.values()].map((b) =>
                  b.toString('latin1').replace(/\r\n$/, ''),
                ),
              ),
              nastyText(30),
              fc.double().map(String),
              fc.constantFrom('1e400', '-0', 'FF', '0x1F', '99999999999999999999:', ''),
            ),
          ),
          { maxLength: 60 },
        ),
        (pairs) => {
          const mapped = coded(() => mapSmartValues(new Map(pairs)), []);
          check(mapped.ok, 'threw');
          for (const [key, value] of Object.entries(mapped.value.data)) {
            if (typeof value === 'number') check(Number.isFinite(value), `${key} is ${value}`);
          }
        },
      ),
  },
  {
    name: 'apcsmart/protocol-start-up',
    runs: 60,
    property: () =>
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.constant(null),
            fc.constantFrom(...SU420_ANSWERS.values()),
            bytes(64),
            mutated(Buffer.from('SM\r\n'), 2),
            bytes(700).map((b) => Buffer.concat([b, Buffer.from('\r\n')])),
          ),
          { maxLength: 12 },
        ),
        fc.boolean(),
        async (script, vanish) => {
          const clock = new ManualClock(1_000_000);
          const transport = new FakeTransport(clock);
          const peer = scriptedPeer(script);
          let writes = 0;
          transport.peer = (b) => {
            writes++;
            // Every first Y is answered SM so start-up gets past the handshake sometimes.
            if (b === 'Y' && writes === 1) return 'SM\r\n';
            if (vanish && writes > 20) transport.vanish();
            return peer();
          };
          const protocol = new SmartProtocol({
            transport,
            clock,
            logger: silentLogger,
            timeouts: {
              replyMs: 50,
              slowReplyMs: 50,
              handshakeMs: 50,
              handshakeAttempts: 2,
              escapePauseMs: 10,
            },
          });
          const values = new Map<string, string>();
          const out = await codedAsync(
            () =>
              drive(
                clock,
                protocol.session((io) => identify(io, values, silentLogger)),
                50,
                600_000,
              ),
            ['READ_TIMEOUT', 'PROTOCOL_ERROR', 'FRAME_TOO_LARGE', 'PEER_CLOSED'],
          );
          protocol.dispose();
          check(clock.pending() === 0, `${clock.pending()} timer(s) left`);
          check(writes < 2000, `${writes} writes for one start-up`);
          for (const v of values.values()) check(v.length <= DEFAULT_MAX_LINE_BYTES, 'long value');
          if (out.ok) mapSmartValues(values);
        },
      ),
  },
];
