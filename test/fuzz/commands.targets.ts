/**
 * Fuzz targets of the command payload parser (src/commands/parse.ts): every payload gets a
 * ParsedCommand (ok with bounded args, or a refusal with its code), never an exception.
 */
import fc from 'fast-check';
import {
  MAX_COMMAND_PAYLOAD_BYTES,
  MAX_DELAY_S,
  type ParsedCommand,
  parseCommandPayload,
} from '../../src/commands/parse.ts';
import { bytes, check, coded, type FuzzTarget, mutated, nastyText } from './harness.ts';

function checkParsed(payload: Buffer, parsed: ParsedCommand): void {
  if (payload.length > MAX_COMMAND_PAYLOAD_BYTES) {
    check(!parsed.ok && parsed.code === 'payload_too_large', 'oversized payload accepted');
  }
  if (parsed.ok) {
    const keys = Object.keys(parsed.args);
    check(
      keys.every((k) => k === 'delay_s'),
      `unexpected args ${keys.join(',')}`,
    );
    const d = parsed.args.delay_s;
    if (d !== undefined) check(Number.isInteger(d) && d >= 0 && d <= MAX_DELAY_S, `delay_s ${d}`);
  } else {
    check(['payload_too_large', 'bad_payload'].includes(parsed.code), `code ${parsed.code}`);
    check(parsed.message.length <= MAX_COMMAND_PAYLOAD_BYTES + 200, 'message grows with input');
  }
  if (parsed.transaction !== undefined) {
    check(
      typeof parsed.transaction === 'string' && parsed.transaction.length <= 128,
      'transaction',
    );
  }
}

/** JSON objects near the accepted shape: right keys with wrong types, extra keys, nesting. */
const nearValid = fc
  .record(
    {
      transaction: fc.oneof(fc.string({ maxLength: 140 }), fc.anything({ maxDepth: 2 })),
      delay_s: fc.oneof(
        fc.integer({ min: -10, max: MAX_DELAY_S + 10 }),
        fc.double(),
        fc.constantFrom(1e308, -0, '10', null, true, [], {}),
      ),
      extra: fc.jsonValue({ maxDepth: 3 }),
      __proto__: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));

export const COMMAND_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'commands/payload-bytes',
    runs: 500,
    property: () =>
      fc.property(
        fc.oneof(
          bytes(1100),
          bytes(40),
          nastyText(60).map((t) => Buffer.from(t)),
        ),
        (payload) => {
          const parsed = coded(() => parseCommandPayload(payload), []);
          check(parsed.ok, 'threw');
          checkParsed(payload, parsed.value);
        },
      ),
  },
  {
    name: 'commands/payload-json',
    runs: 500,
    property: () =>
      fc.property(
        fc.oneof(
          nearValid,
          fc.json({ maxDepth: 4 }),
          nearValid.chain((j) => mutated(Buffer.from(j), 3).map((b) => b.toString('latin1'))),
          fc.constantFrom(
            '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
            ' PRESS ',
            'press',
            '{"delay_s":1e2}',
          ),
        ),
        (text) => {
          const payload = Buffer.from(text);
          const parsed = coded(() => parseCommandPayload(payload), []);
          check(parsed.ok, 'threw');
          checkParsed(payload, parsed.value);
        },
      ),
  },
];
