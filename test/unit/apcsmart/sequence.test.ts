import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { isUps2MqttError, type Ups2MqttError } from '../../../src/core/errors.ts';
import { SmartProtocol } from '../../../src/sources/apcsmart/protocol.ts';
import {
  abortShutdown,
  hibernate,
  loadOff,
  loadOn,
  runSequence,
  type SmartSequence,
  selfTest,
  simulateFailure,
  softShutdown,
  stayOffShutdown,
} from '../../../src/sources/apcsmart/sequence.ts';
import { captureLogger, drive, FakeTransport } from './fakes.ts';

/** Plays `seq` against a peer that answers the byte at `ackOn` (counting from 1) with `ack`. */
async function play(
  seq: SmartSequence,
  ack: string | undefined,
  ackOn = seq.steps.filter((s) => s.op === 'send').length,
) {
  const clock = new ManualClock(0);
  const transport = new FakeTransport(clock);
  let sent = 0;
  transport.peer = (b) => {
    if (b === 'Y') return 'SM\r\n';
    sent++;
    return sent === ackOn ? ack : undefined;
  };
  const protocol = new SmartProtocol({ transport, clock, logger: captureLogger().logger });
  await drive(clock, protocol.handshake());
  transport.written.length = 0;
  const start = clock.now();
  const result = await drive(
    clock,
    protocol.session((io) => runSequence(io, seq)),
  ).catch((e: unknown) => e);
  const timeline = transport.written.map((w) => [w.bytes, w.at - start] as const);
  return { result, timeline, elapsed: clock.now() - start };
}

describe('Smart action sequences: exact bytes and gaps', () => {
  const cases: {
    name: string;
    seq: SmartSequence;
    ack: string | undefined;
    timeline: (readonly [string, number])[];
    result: string;
  }[] = [
    { name: 'W → OK', seq: selfTest(), ack: 'OK\r\n', timeline: [['W', 0]], result: 'OK' },
    {
      name: 'S → * (older units)',
      seq: softShutdown(),
      ack: '*',
      timeline: [['S', 0]],
      result: '*',
    },
    {
      name: 'U → ! is enough',
      seq: simulateFailure(),
      ack: '!',
      timeline: [['U', 0]],
      result: '!',
    },
    {
      name: 'DEL → OK',
      seq: abortShutdown(),
      ack: 'OK\r\n',
      timeline: [['\x7f', 0]],
      result: 'OK',
    },
    {
      name: 'K, 2 s, K → OK',
      seq: stayOffShutdown(),
      ack: 'OK\r\n',
      timeline: [
        ['K', 0],
        ['K', 2000],
      ],
      result: 'OK',
    },
    {
      name: 'K K → * (older units)',
      seq: stayOffShutdown(),
      ack: '*',
      timeline: [
        ['K', 0],
        ['K', 2000],
      ],
      result: '*',
    },
    {
      name: 'Z, 2 s, Z → silence is success',
      seq: loadOff(),
      ack: undefined,
      timeline: [
        ['Z', 0],
        ['Z', 2000],
      ],
      result: 'silence',
    },
    {
      name: '^N, 2 s, ^N → silence is success',
      seq: loadOn(),
      ack: undefined,
      timeline: [
        ['\x0e', 0],
        ['\x0e', 2000],
      ],
      result: 'silence',
    },
    {
      name: '@000 paced 200 ms per byte',
      seq: hibernate(0),
      ack: 'OK\r\n',
      timeline: [
        ['@', 0],
        ['0', 200],
        ['0', 400],
        ['0', 600],
      ],
      result: 'OK',
    },
    {
      name: '@010: one hour of extra wake-up delay (10 × 6 min)',
      seq: hibernate(10),
      ack: 'OK\r\n',
      timeline: [
        ['@', 0],
        ['0', 200],
        ['1', 400],
        ['0', 600],
      ],
      result: 'OK',
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { result, timeline } = await play(c.seq, c.ack);
      assert.deepEqual(timeline, c.timeline);
      assert.equal(result, c.result);
    });
  }

  it('a refusal after the first K stops the sequence: the second K is never sent', async () => {
    const { result, timeline } = await play(stayOffShutdown(), 'NA\r\n', 1);
    assert.ok(isUps2MqttError(result, 'SERVER_ERROR'));
    assert.deepEqual(timeline, [['K', 0]]);
  });

  it('W answered NO: SERVER_ERROR naming the reply', async () => {
    const { result } = await play(selfTest(), 'NO\r\n');
    assert.ok(isUps2MqttError(result, 'SERVER_ERROR'));
    assert.equal((result as Ups2MqttError).context.reply, 'NO');
  });

  it('K K without an acknowledgement: READ_TIMEOUT after 3 s', async () => {
    const { result, elapsed } = await play(stayOffShutdown(), undefined);
    assert.ok(isUps2MqttError(result, 'READ_TIMEOUT'));
    assert.equal(elapsed, 2000 + 3000);
  });

  it('Z Z answered NA: refused', async () => {
    const { result } = await play(loadOff(), 'NA\r\n');
    assert.ok(isUps2MqttError(result, 'SERVER_ERROR'));
  });

  it('hibernate() rejects what @nnn cannot carry', () => {
    assert.throws(() => hibernate(1000), RangeError);
    assert.throws(() => hibernate(-1), RangeError);
    assert.throws(() => hibernate(1.5), RangeError);
  });
});
