import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUps2MqttError } from '../../../src/core/errors.ts';
import {
  DEFAULT_MAX_FRAME_BYTES,
  encodeNisCommand,
  type NisFrame,
  NisFrameDecoder,
} from '../../../src/sources/nis/framing.ts';
import { encodeReply, fixtureLines, frame } from './helpers.ts';

const XS1400U = 'apcupsd-3.14.14-back-ups-xs-1400u-usb-online.txt';

function decodeChunks(chunks: readonly Buffer[], maxFrameBytes?: number): NisFrame[] {
  const decoder = new NisFrameDecoder(maxFrameBytes === undefined ? {} : { maxFrameBytes });
  const frames: NisFrame[] = [];
  for (const c of chunks) frames.push(...decoder.push(c));
  assert.equal(decoder.pendingBytes, 0, 'nothing left over after a complete reply');
  return frames;
}

function expectedFrames(lines: readonly string[]): NisFrame[] {
  return [...lines.map((l): NisFrame => ({ kind: 'line', text: `${l}\n` })), { kind: 'end' }];
}

describe('encodeNisCommand', () => {
  it('encodes status as 00 06 + ASCII, nothing else (docs/protocols/nis.md#framing)', () => {
    assert.deepEqual(
      [...encodeNisCommand('status')],
      [0x00, 0x06, 0x73, 0x74, 0x61, 0x74, 0x75, 0x73],
    );
  });
  it('encodes events as 00 06 + ASCII', () => {
    assert.deepEqual(
      [...encodeNisCommand('events')],
      [0x00, 0x06, 0x65, 0x76, 0x65, 0x6e, 0x74, 0x73],
    );
  });
});

describe('NisFrameDecoder', () => {
  const lines = fixtureLines(XS1400U);
  const reply = encodeReply(lines);

  it('decodes a real reply delivered in one chunk, trailing blanks and newline kept', () => {
    const frames = decodeChunks([reply]);
    assert.equal(frames.length, lines.length + 1);
    assert.deepEqual(frames[1], { kind: 'line', text: 'DATE     : 2022-11-13 11:40:25 +0100  \n' });
    assert.deepEqual(frames, expectedFrames(lines));
  });

  it('decodes the same frames for a split at every byte boundary', () => {
    for (let i = 1; i < reply.length; i++) {
      const frames = decodeChunks([reply.subarray(0, i), reply.subarray(i)]);
      assert.deepEqual(frames, expectedFrames(lines), `split at byte ${i}`);
    }
  });

  it('decodes the same frames fed one byte at a time', () => {
    const chunks = [...reply].map((b) => Buffer.from([b]));
    assert.deepEqual(decodeChunks(chunks), expectedFrames(lines));
  });

  it('returns only complete frames and carries the rest, even half a length prefix', () => {
    const decoder = new NisFrameDecoder();
    const bytes = Buffer.concat([frame('A\n'), frame('BB\n'), frame('CCC\n')]);
    // 2 frames complete, then the first byte of the third length prefix.
    const cut = frame('A\n').length + frame('BB\n').length + 1;
    assert.deepEqual(decoder.push(bytes.subarray(0, cut)), [
      { kind: 'line', text: 'A\n' },
      { kind: 'line', text: 'BB\n' },
    ]);
    assert.equal(decoder.pendingBytes, 1);
    assert.deepEqual(decoder.push(bytes.subarray(cut, cut + 3)), []);
    assert.equal(decoder.pendingBytes, 4);
    assert.deepEqual(decoder.push(Buffer.concat([bytes.subarray(cut + 3), Buffer.from([0, 0])])), [
      { kind: 'line', text: 'CCC\n' },
      { kind: 'end' },
    ]);
    assert.equal(decoder.pendingBytes, 0);
  });

  it('decodes two replies back to back (a kept-open connection)', () => {
    const two = Buffer.concat([encodeReply(['X']), encodeReply(['Y'])]);
    assert.deepEqual(decodeChunks([two]), [
      { kind: 'line', text: 'X\n' },
      { kind: 'end' },
      { kind: 'line', text: 'Y\n' },
      { kind: 'end' },
    ]);
  });

  it('keeps the NUL of an error reply in the frame text (the client interprets it)', () => {
    const bytes = Buffer.from('0011496e76616c696420636f6d6d616e640a000000', 'hex');
    assert.deepEqual(decodeChunks([bytes]), [
      { kind: 'line', text: 'Invalid command\n\0' },
      { kind: 'end' },
    ]);
  });

  it('defaults the payload limit to 1024 bytes', () => {
    assert.equal(DEFAULT_MAX_FRAME_BYTES, 1024);
    const ok = frame(Buffer.alloc(1024, 0x41));
    assert.equal(decodeChunks([ok]).length, 1);
  });

  it('throws FRAME_TOO_LARGE as soon as the length prefix exceeds the limit', () => {
    const decoder = new NisFrameDecoder();
    assert.throws(
      () => decoder.push(Buffer.from([0x04, 0x01])),
      (err: unknown) =>
        isUps2MqttError(err, 'FRAME_TOO_LARGE') &&
        err.context.length === 1025 &&
        err.context.maxFrameBytes === 1024,
    );
  });

  it('honours a custom limit, split length prefix included', () => {
    const decoder = new NisFrameDecoder({ maxFrameBytes: 255 });
    assert.deepEqual(decoder.push(frame(Buffer.alloc(255, 0x42)).subarray(0, 100)), []);
    const fresh = new NisFrameDecoder({ maxFrameBytes: 255 });
    assert.deepEqual(fresh.push(Buffer.from([0x01])), []);
    assert.throws(
      () => fresh.push(Buffer.from([0x00])),
      (err: unknown) => isUps2MqttError(err, 'FRAME_TOO_LARGE') && err.context.length === 256,
    );
  });
});
