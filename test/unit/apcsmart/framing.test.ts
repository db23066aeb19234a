import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUps2MqttError } from '../../../src/core/errors.ts';
import {
  ALERT_CHARS,
  type AlertChar,
  isAlertChar,
  SmartLineDecoder,
} from '../../../src/sources/apcsmart/framing.ts';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Pushes `chunks` one by one and collects everything. */
function decode(chunks: readonly string[], decoder = new SmartLineDecoder()) {
  const replies: string[] = [];
  const alerts: AlertChar[] = [];
  let overflows = 0;
  for (const c of chunks) {
    const out = decoder.push(bytes(c));
    replies.push(...out.replies);
    alerts.push(...out.alerts);
    if (out.overflow) overflows++;
  }
  return { replies, alerts, overflows, pending: decoder.pendingBytes };
}

describe('SmartLineDecoder', () => {
  const cases: { name: string; chunks: string[]; replies: string[]; alerts: string[] }[] = [
    { name: 'one reply', chunks: ['SM\r\n'], replies: ['SM'], alerts: [] },
    { name: 'runtime keeps its colon', chunks: ['0327:\r\n'], replies: ['0327:'], alerts: [] },
    { name: 'alert glued before a reply', chunks: ['!08\r\n'], replies: ['08'], alerts: ['!'] },
    { name: 'alert inside a reply', chunks: ['23$1.8\r\n'], replies: ['231.8'], alerts: ['$'] },
    { name: 'alert glued after CR LF', chunks: ['OK\r\n*'], replies: ['OK'], alerts: ['*'] },
    { name: 'alert between CR and LF', chunks: ['08\r%\n'], replies: ['08'], alerts: ['%'] },
    {
      name: 'reply split across reads',
      chunks: ['13', '.6', '1\r', '\n'],
      replies: ['13.61'],
      alerts: [],
    },
    {
      name: 'two replies in one read',
      chunks: ['SM\r\n08\r\n'],
      replies: ['SM', '08'],
      alerts: [],
    },
    { name: 'alerts only, no reply', chunks: ['!', '$'], replies: [], alerts: ['!', '$'] },
    {
      name: 'serial with NULs (SU420 n)',
      chunks: ['NS9847001053\0\0\r\n'],
      replies: ['NS9847001053\0\0'],
      alerts: [],
    },
    { name: 'empty line', chunks: ['\r\n'], replies: [''], alerts: [] },
    { name: 'bare LF ends a reply', chunks: ['NA\n'], replies: ['NA'], alerts: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = decode(c.chunks);
      assert.deepEqual(out.replies, c.replies);
      assert.deepEqual(out.alerts, c.alerts);
      assert.equal(out.pending, 0);
    });
  }

  it('peels an alert placed between every byte, in order', () => {
    const reply = '231.8\r\n';
    const all = ALERT_CHARS.join('');
    let stream = '';
    for (let i = 0; i < reply.length; i++) stream += all[i % all.length] + (reply[i] ?? '');
    // Every possible split point, including one byte per read.
    for (let size = 1; size <= stream.length; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.slice(i, i + size));
      const out = decode(chunks);
      assert.deepEqual(out.replies, ['231.8'], `chunk size ${size}`);
      assert.equal(out.alerts.join(''), [...stream].filter(isAlertChar).join(''));
    }
  });

  it('raw mode keeps alert characters in the protocol-info reply', () => {
    const decoder = new SmartLineDecoder();
    decoder.setMode('raw');
    const a = "3.!$%+?=#|.\x01\x0e\x1a')+-89@ABDEFGKLMNOPQRSUVWXYZabcdefgjklmnopqrsuxyz~\x7f";
    const out = decode([`${a}\r\n`], decoder);
    assert.deepEqual(out.replies, [a]);
    assert.deepEqual(out.alerts, []);
  });

  it('raw mode lasts one reply: an alert glued after it is peeled again', () => {
    const decoder = new SmartLineDecoder();
    decoder.setMode('raw');
    const out = decode(['3.!$.AQ\r\n!', '08\r\n'], decoder);
    assert.deepEqual(out.replies, ['3.!$.AQ', '08']);
    assert.deepEqual(out.alerts, ['!']);
  });

  it('garbage without a line end is dropped, reported once, and the stream resyncs', () => {
    const decoder = new SmartLineDecoder({ maxLineBytes: 16 });
    const first = decoder.push(bytes('x'.repeat(40)));
    assert.ok(isUps2MqttError(first.overflow, 'FRAME_TOO_LARGE'));
    assert.equal(decoder.pendingBytes, 0, 'memory stays bounded');
    const more = decoder.push(bytes('y'.repeat(1000)));
    assert.equal(more.overflow, undefined, 'one report per runaway line');
    assert.equal(decoder.pendingBytes, 0);
    // Alerts still get through while skipping; the next line is clean.
    const after = decoder.push(bytes('zz!zz\r\nSM\r\n'));
    assert.deepEqual(after.alerts, ['!']);
    assert.deepEqual(after.replies, ['SM']);
  });

  it('a line of exactly the limit is accepted', () => {
    const decoder = new SmartLineDecoder({ maxLineBytes: 5 });
    const out = decoder.push(bytes('12345\r\n'));
    assert.equal(out.overflow, undefined);
    assert.deepEqual(out.replies, ['12345']);
  });

  it('reset() drops a partial line', () => {
    const decoder = new SmartLineDecoder();
    decoder.push(bytes('23'));
    decoder.reset();
    assert.deepEqual(decoder.push(bytes('SM\r\n')).replies, ['SM']);
  });
});
