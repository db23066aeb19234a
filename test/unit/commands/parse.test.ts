import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommandPayload } from '../../../src/commands/parse.ts';

const rows: { name: string; payload: string | Buffer; expect: unknown }[] = [
  { name: 'empty payload (plain publish)', payload: '', expect: { ok: true, args: {} } },
  { name: 'HA button PRESS', payload: 'PRESS', expect: { ok: true, args: {} } },
  {
    name: 'JSON with transaction',
    payload: '{"transaction":"abc-1"}',
    expect: { ok: true, args: {}, transaction: 'abc-1' },
  },
  {
    name: 'JSON with delay',
    payload: '{"delay_s":60,"transaction":"t"}',
    expect: { ok: true, args: { delay_s: 60 }, transaction: 't' },
  },
  {
    name: 'garbage text',
    payload: 'shutdown now!',
    expect: {
      ok: false,
      code: 'bad_payload',
      message: 'expected an empty payload, PRESS, or a JSON object',
    },
  },
  {
    name: 'JSON array',
    payload: '[1]',
    expect: { ok: false, code: 'bad_payload', message: 'expected a JSON object' },
  },
  {
    name: 'unknown key',
    payload: '{"force":true}',
    expect: { ok: false, code: 'bad_payload', message: 'unknown key "force"' },
  },
  {
    name: 'negative delay',
    payload: '{"delay_s":-1}',
    expect: {
      ok: false,
      code: 'bad_payload',
      message: 'delay_s must be a whole number from 0 to 7200',
    },
  },
  {
    name: 'delay too long',
    payload: '{"delay_s":7201,"transaction":"x"}',
    expect: {
      ok: false,
      code: 'bad_payload',
      message: 'delay_s must be a whole number from 0 to 7200',
      transaction: 'x',
    },
  },
  {
    name: 'fractional delay',
    payload: '{"delay_s":1.5}',
    expect: {
      ok: false,
      code: 'bad_payload',
      message: 'delay_s must be a whole number from 0 to 7200',
    },
  },
  {
    name: 'delay as string',
    payload: '{"delay_s":"60"}',
    expect: {
      ok: false,
      code: 'bad_payload',
      message: 'delay_s must be a whole number from 0 to 7200',
    },
  },
  {
    name: 'non-string transaction',
    payload: '{"transaction":5}',
    expect: {
      ok: false,
      code: 'bad_payload',
      message: 'transaction must be a string of at most 128 characters',
    },
  },
  {
    name: 'oversize payload',
    payload: Buffer.alloc(1025, 0x20),
    expect: { ok: false, code: 'payload_too_large', message: 'payload over 1024 bytes' },
  },
  {
    name: 'invalid UTF-8 bytes',
    payload: Buffer.from([0xff, 0xfe, 0x00]),
    expect: {
      ok: false,
      code: 'bad_payload',
      message: 'expected an empty payload, PRESS, or a JSON object',
    },
  },
];

describe('parseCommandPayload', () => {
  for (const row of rows) {
    it(row.name, () => {
      const payload = typeof row.payload === 'string' ? Buffer.from(row.payload) : row.payload;
      assert.deepEqual(parseCommandPayload(payload), row.expect);
    });
  }
});
