import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { isUps2MqttError, type Ups2MqttError } from '../../../src/core/errors.ts';
import { CTRL_A, ESC } from '../../../src/sources/apcsmart/codes.ts';
import type { AlertChar } from '../../../src/sources/apcsmart/framing.ts';
import { SmartProtocol } from '../../../src/sources/apcsmart/protocol.ts';
import { captureLogger, drive, FakeTransport, settle } from './fakes.ts';

function setup(peer?: (bytes: string) => string | undefined) {
  const clock = new ManualClock(1_000_000);
  const transport = new FakeTransport(clock);
  transport.peer = peer ?? ((b) => (b === 'Y' ? 'SM\r\n' : undefined));
  const { logger, lines } = captureLogger();
  const alerts: AlertChar[] = [];
  const protocol = new SmartProtocol({
    transport,
    clock,
    logger,
    onAlert: (a) => alerts.push(a),
  });
  return { clock, transport, protocol, alerts, logs: lines };
}

/** A peer that answers from a table (and `Y` with `SM`). */
const table =
  (answers: Record<string, string>) =>
  (b: string): string | undefined =>
    b === 'Y' ? 'SM\r\n' : answers[b] === undefined ? undefined : `${answers[b]}\r\n`;

describe('SmartProtocol', () => {
  it('does the Y → SM handshake before the first request', async () => {
    const { transport, protocol } = setup(table({ f: '100.0' }));
    assert.equal(await protocol.query('f'), '100.0');
    assert.equal(transport.text(), 'Yf');
    assert.equal(transport.flushes, 1, 'input flushed before Y');
  });

  it('keeps one request outstanding: the next byte waits for the reply', async () => {
    const { transport, protocol } = setup();
    const first = protocol.query('f');
    const second = protocol.query('B');
    await settle();
    assert.equal(transport.text(), 'Yf', 'B not sent before the f reply');
    transport.feed('100.0\r\n');
    await settle();
    assert.equal(transport.text(), 'YfB');
    transport.feed('13.61\r\n');
    assert.deepEqual(await Promise.all([first, second]), ['100.0', '13.61']);
  });

  it('NA means not available', async () => {
    const { protocol } = setup(table({ C: 'NA' }));
    assert.equal(await protocol.query('C'), undefined);
  });

  it('a timeout rejects READ_TIMEOUT and forces a handshake; the late reply is not taken for the next', async () => {
    const { clock, transport, protocol } = setup();
    const late = protocol.query('f');
    const err = await drive(clock, late).catch((e: unknown) => e);
    assert.ok(isUps2MqttError(err, 'READ_TIMEOUT'));
    assert.equal(clock.now(), 1_000_000 + 2000, 'default reply timeout 2 s');
    // The late reply arrives, then the next request: handshake first, stale line skipped.
    transport.feed('100.0\r\n');
    transport.peer = (b) => (b === 'Y' ? '100.0\r\nSM\r\n' : b === 'B' ? '13.61\r\n' : undefined);
    assert.equal(await protocol.query('B'), '13.61');
    assert.equal(transport.text(), 'YfYB');
  });

  it('retries the handshake with ESC in between', async () => {
    let ys = 0;
    const { clock, transport, protocol } = setup((b) => {
      if (b === 'Y' && ++ys === 2) return 'SM\r\n';
      return b === 'f' ? '099.0\r\n' : undefined;
    });
    assert.equal(await drive(clock, protocol.query('f')), '099.0');
    assert.equal(transport.text(), `Y${ESC}Yf`);
    const [y1, esc, y2] = transport.written;
    assert.equal((esc?.at ?? 0) - (y1?.at ?? 0), 1500, 'ESC after a 1.5 s wait for SM');
    assert.equal((y2?.at ?? 0) - (esc?.at ?? 0), 300, 'Y 300 ms after ESC');
  });

  it('a UPS that never answers SM: READ_TIMEOUT after every attempt, nothing else sent', async () => {
    const { clock, transport, protocol } = setup(() => undefined);
    const err = await drive(clock, protocol.query('f')).catch((e: unknown) => e);
    assert.ok(isUps2MqttError(err, 'READ_TIMEOUT'), String(err));
    assert.equal(transport.text(), `Y${ESC}Y${ESC}Y`);
    assert.equal(clock.now() - 1_000_000, 3 * 1500 + 2 * 300);
  });

  it('a peer that answers Y with something else: PROTOCOL_ERROR', async () => {
    const { clock, protocol } = setup((b) => (b === 'Y' ? 'BYE\r\n' : undefined));
    const err = await drive(clock, protocol.query('f')).catch((e: unknown) => e);
    assert.ok(isUps2MqttError(err, 'PROTOCOL_ERROR'));
    assert.deepEqual((err as Ups2MqttError).context.replies, ['BYE', 'BYE', 'BYE']);
  });

  it('reads `a` raw (its alert section intact) and allows it 6 s', async () => {
    const { clock, transport, protocol, alerts } = setup();
    const a = protocol.query('a');
    await settle();
    clock.advance(5000);
    transport.feed('3.!$%+?=#|.\x01AQ\r\n');
    assert.equal(await a, '3.!$%+?=#|.\x01AQ');
    assert.deepEqual(alerts, []);
    // The next reply peels alerts again.
    transport.peer = table({ Q: '08' });
    const q = protocol.query('Q');
    await settle();
    transport.feed('!');
    assert.equal(await q, '08');
    assert.deepEqual(alerts, ['!']);
  });

  it('reports alerts at once, inside and outside requests', async () => {
    const { transport, protocol, alerts } = setup(table({ Q: '!$08' }));
    transport.feed('%');
    assert.deepEqual(alerts, ['%']);
    assert.equal(await protocol.query('Q'), '08');
    assert.deepEqual(alerts, ['%', '!', '$']);
  });

  it('the port vanishing fails the request in flight and every later one with PEER_CLOSED', async () => {
    const { transport, protocol } = setup();
    const q = protocol.query('f');
    await settle();
    transport.vanish();
    await assert.rejects(q, (e: unknown) => isUps2MqttError(e, 'PEER_CLOSED'));
    await assert.rejects(protocol.query('B'), (e: unknown) => isUps2MqttError(e, 'PEER_CLOSED'));
    assert.equal(protocol.open, false);
  });

  it('garbage without a line end fails the request with FRAME_TOO_LARGE and resyncs next time', async () => {
    const { transport, protocol } = setup();
    const q = protocol.query('f');
    await settle();
    transport.feed('x'.repeat(600));
    await assert.rejects(q, (e: unknown) => isUps2MqttError(e, 'FRAME_TOO_LARGE'));
    transport.feed('\r\n');
    transport.peer = table({ f: '100.0' });
    assert.equal(await protocol.query('f'), '100.0');
    assert.equal(transport.text(), 'YfYf');
  });

  it('unsolicited replies outside a request are dropped', async () => {
    const { transport, protocol, logs } = setup(table({ [CTRL_A]: 'SMART-UPS 420   ' }));
    await protocol.handshake();
    transport.feed('SMART-UPS 420   \r\n');
    assert.ok(logs.some((l) => l.msg === 'unsolicited reply from the UPS dropped'));
    assert.equal(await protocol.query(CTRL_A), 'SMART-UPS 420   ');
  });
});
