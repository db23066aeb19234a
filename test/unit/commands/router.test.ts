import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UNANSWERED_REPORTS_PER_S } from '../../../src/commands/report-budget.ts';
import { CommandRouter } from '../../../src/commands/router.ts';
import { Ups2MqttError } from '../../../src/core/errors.ts';
import { Topics } from '../../../src/mqtt/topics.ts';
import {
  captureLogger,
  ManualClock,
  RecordingPublisher,
  ScriptedSource,
  tick,
} from '../bridge/fakes.ts';

const COMMANDS = ['test.battery.start.quick', 'shutdown.return', 'shutdown.stop', 'load.off'];

function setup(allow: string[] = [], available = true) {
  const publisher = new RecordingPublisher();
  const { logger, lines } = captureLogger();
  const clock = new ManualClock(Date.parse('2026-11-21T10:00:00Z'));
  const router = new CommandRouter(
    { allow: new Set(allow), armWindowMs: 30_000, rateLimitMs: 5_000, shutdownDelayS: 60 },
    publisher,
    new Topics('ups2mqtt'),
    logger,
    clock,
  );
  const source = new ScriptedSource({ commands: COMMANDS, stickyFields: [] });
  let woken = 0;
  const target = { upsId: 'rack', source, available: () => available, afterCommand: () => woken++ };
  const send = (name: string, payload = '', retain = false) =>
    router.handle(target, {
      topic: `ups2mqtt/rack/command/${name}`,
      payload: Buffer.from(payload),
      retain,
    });
  const result = (name: string) =>
    JSON.parse(publisher.last(`ups2mqtt/rack/command/${name}/result`)?.payload ?? '{}');
  const events = () => publisher.on('ups2mqtt/rack/event').map((m) => JSON.parse(m.payload));
  return { publisher, router, source, send, result, events, lines, clock, woken: () => woken };
}

describe('CommandRouter', () => {
  it('runs an advertised command and answers with the transaction, an event and a wake', async () => {
    const t = setup();
    await t.send('test.battery.start.quick', '{"transaction":"tx-7"}');
    assert.deepEqual(t.source.commands, [{ name: 'test.battery.start.quick', args: {} }]);
    const res = t.publisher.last('ups2mqtt/rack/command/test.battery.start.quick/result');
    assert.equal(res?.retain, false);
    assert.deepEqual(JSON.parse(res?.payload ?? '{}'), {
      status: 'ok',
      command: 'test.battery.start.quick',
      transaction: 'tx-7',
      code: 'done',
      message: 'did test.battery.start.quick',
    });
    assert.deepEqual(t.events(), [
      {
        event_type: 'command_executed',
        at: '2026-11-21T10:00:00.000Z',
        message: 'test.battery.start.quick: did test.battery.start.quick',
        origin: 'bridge',
        command: 'test.battery.start.quick',
        code: 'done',
        transaction: 'tx-7',
      },
    ]);
    assert.equal(t.woken(), 1);
  });

  // One row per guard, in the documented order; none of them may reach the source.
  const refusals: {
    name: string;
    allow: string[];
    arm?: boolean;
    available?: boolean;
    command: string;
    payload?: string;
    retain?: boolean;
    code: string;
  }[] = [
    {
      name: 'retained message',
      allow: ['shutdown.return'],
      arm: true,
      command: 'shutdown.return',
      retain: true,
      code: 'retained',
    },
    {
      name: 'garbage payload',
      allow: [],
      command: 'test.battery.start.quick',
      payload: 'rm -rf /',
      code: 'bad_payload',
    },
    {
      name: 'delay out of range',
      allow: ['shutdown.return'],
      arm: true,
      command: 'shutdown.return',
      payload: '{"delay_s":99999}',
      code: 'bad_payload',
    },
    {
      name: 'oversize payload',
      allow: [],
      command: 'test.battery.start.quick',
      payload: 'x'.repeat(2000),
      code: 'payload_too_large',
    },
    {
      name: 'not advertised by the source',
      allow: [],
      command: 'beeper.disable',
      code: 'unsupported',
    },
    {
      name: 'destructive, not allowed',
      allow: [],
      arm: false,
      command: 'shutdown.return',
      code: 'disabled',
    },
    {
      name: 'destructive, allowed but not armed',
      allow: ['shutdown.return'],
      command: 'shutdown.return',
      code: 'not_armed',
    },
    {
      name: 'destructive, armed, UPS not being read',
      allow: ['shutdown.return'],
      arm: true,
      available: false,
      command: 'shutdown.return',
      code: 'unavailable',
    },
    {
      name: 'arm without any destructive command enabled',
      allow: [],
      command: 'arm',
      code: 'unsupported',
    },
  ];
  for (const row of refusals) {
    it(`refuses: ${row.name}`, async () => {
      const t = setup(row.allow, row.available ?? true);
      if (row.arm) await t.send('arm');
      await t.send(row.command, row.payload ?? '', row.retain ?? false);
      assert.deepEqual(t.source.commands, [], 'the source was not called');
      const res = t.result(row.command);
      assert.equal(res.status, 'error');
      assert.equal(res.code, row.code);
      assert.equal(t.events().at(-1)?.event_type, 'command_refused');
      assert.ok(t.lines.some((l) => l.level === 'warn' && l.msg === 'command refused'));
    });
  }

  it('runs an allowed destructive command once armed, with the configured delay, and disarms', async () => {
    const t = setup(['shutdown.return']);
    await t.send('arm', '{"transaction":"a1"}');
    const armed = t.result('arm');
    assert.equal(armed.code, 'armed');
    assert.equal(armed.armed_until, '2026-11-21T10:00:30.000Z');
    t.clock.advance(10_000);
    await t.send('shutdown.return');
    assert.deepEqual(t.source.commands, [{ name: 'shutdown.return', args: { delay_s: 60 } }]);
    assert.equal(t.result('shutdown.return').code, 'done');
    t.clock.advance(10_000);
    await t.send('shutdown.return');
    assert.equal(t.result('shutdown.return').code, 'not_armed', 'one arming, one execution');
  });

  it('expires the arming after the window, and disarm cancels it', async () => {
    const t = setup(['load.off']);
    await t.send('arm');
    t.clock.advance(30_001);
    await t.send('load.off');
    assert.equal(t.result('load.off').code, 'not_armed');
    await t.send('arm');
    await t.send('disarm');
    await t.send('load.off');
    assert.equal(t.result('load.off').code, 'not_armed');
    assert.deepEqual(t.source.commands, []);
  });

  it('rate-limits the same command per UPS', async () => {
    const t = setup();
    await t.send('test.battery.start.quick');
    t.clock.advance(4_000);
    await t.send('test.battery.start.quick');
    assert.equal(t.result('test.battery.start.quick').code, 'rate_limited');
    t.clock.advance(1_000);
    await t.send('test.battery.start.quick');
    assert.equal(t.result('test.battery.start.quick').code, 'done');
    assert.equal(t.source.commands.length, 2);
  });

  it('keeps shutdown.stop (cancel) available without arming', async () => {
    const t = setup(['shutdown.return']);
    await t.send('shutdown.stop');
    assert.equal(t.result('shutdown.stop').code, 'done');
  });

  it('passes an explicit delay and takes the shutdown delay set from Home Assistant', async () => {
    const t = setup(['shutdown.return']);
    await t.router.handleShutdownDelay('rack', {
      topic: 'ups2mqtt/rack/shutdown_delay/set',
      payload: Buffer.from('120'),
      retain: false,
    });
    assert.equal(t.publisher.last('ups2mqtt/rack/shutdown_delay')?.payload, '120');
    assert.equal(t.publisher.last('ups2mqtt/rack/shutdown_delay')?.retain, true);
    await t.send('arm');
    await t.send('shutdown.return');
    t.clock.advance(6_000);
    await t.send('arm');
    await t.send('shutdown.return', '{"delay_s":30}');
    assert.deepEqual(
      t.source.commands.map((c) => c.args),
      [{ delay_s: 120 }, { delay_s: 30 }],
    );
    await t.router.handleShutdownDelay('rack', {
      topic: 'x',
      payload: Buffer.from('-5'),
      retain: false,
    });
    assert.equal(t.router.shutdownDelayFor('rack'), 120, 'an invalid value is refused');
  });

  it('answers a failing source with failed, and an unknown name with unsupported', async () => {
    const t = setup();
    t.source.command = async () => {
      throw new Ups2MqttError('READ_TIMEOUT', 'the UPS did not acknowledge');
    };
    await t.send('test.battery.start.quick');
    assert.deepEqual(
      [t.result('test.battery.start.quick').code, t.result('test.battery.start.quick').message],
      ['failed', 'the UPS did not acknowledge'],
    );
  });

  it('lists only advertised and enabled commands', () => {
    const t = setup(['load.off']);
    assert.deepEqual(t.router.enabledCommands(t.source), [
      'test.battery.start.quick',
      'shutdown.stop',
      'load.off',
    ]);
    assert.equal(t.router.needsArming(t.source), true);
    assert.equal(t.router.hasShutdownDelay(t.source), false);
  });

  it('a local request (the demo) passes the same guards as MQTT', async () => {
    const t = setup();
    const res = await t.router.execute(
      { upsId: 'rack', source: t.source, available: () => true, afterCommand: () => {} },
      { name: 'shutdown.return', origin: 'local' },
    );
    assert.equal(res.code, 'disabled');
    assert.deepEqual(t.source.commands, []);
    assert.equal(t.result('shutdown.return').code, 'disabled');
  });

  it('the power policy needs neither allow-list nor arming, but the UPS must be read', async () => {
    for (const available of [true, false]) {
      const t = setup([], available);
      const target = {
        upsId: 'rack',
        source: t.source,
        available: () => available,
        afterCommand: () => {},
      };
      const first = await t.router.execute(target, { name: 'shutdown.return', origin: 'policy' });
      const again = await t.router.execute(target, { name: 'shutdown.return', origin: 'policy' });
      if (available) {
        assert.deepEqual([first.code, again.code], ['done', 'done']);
        assert.deepEqual(t.source.commands, [
          { name: 'shutdown.return', args: { delay_s: 60 } },
          { name: 'shutdown.return', args: { delay_s: 60 } },
        ]);
        assert.equal(t.events()[0]?.event_type, 'command_executed');
      } else {
        assert.deepEqual([first.code, again.code], ['unavailable', 'unavailable']);
        assert.deepEqual(t.source.commands, []);
      }
    }
  });

  it('answers a flood of messages that run nothing within a budget; executions always', async () => {
    const t = setup(['load.off']);
    const answers = () => t.publisher.messages.filter((m) => m.topic.endsWith('/result')).length;
    // 200 refusals (unsupported, bad payload, rate limited) and arm/disarm in one second.
    await t.send('test.battery.start.quick');
    for (let i = 0; i < 50; i++) {
      await t.send(`nope${i}`);
      await t.send('shutdown.stop', '\u00ff binary');
      await t.send('test.battery.start.quick');
      await t.send(i % 2 === 0 ? 'arm' : 'disarm');
    }
    assert.equal(answers(), 1 + UNANSWERED_REPORTS_PER_S);
    assert.equal(t.events().length, 1 + UNANSWERED_REPORTS_PER_S);
    assert.equal(t.source.commands.length, 1, 'nothing but the first one ran');
    // An execution in the same second is answered all the same.
    await t.send('shutdown.stop');
    assert.equal(t.result('shutdown.stop').code, 'done');
    // The end of the window: one warning counts what went unanswered.
    await tick(t.clock, 1000);
    const warned = t.lines.filter((l) => l.msg.startsWith('command messages refused without'));
    assert.deepEqual(
      warned.map((l) => [l.level, l.unanswered]),
      [['warn', 200 - UNANSWERED_REPORTS_PER_S]],
    );
    await t.send('nope');
    assert.equal(t.result('nope').code, 'unsupported', 'answered again in the next second');
  });

  it('attach subscribes the command topics once per UPS, only when it has commands', async () => {
    const t = setup(['shutdown.return']);
    const filters: string[] = [];
    const subscriber = {
      subscribe: async (filter: string) => {
        filters.push(filter);
        return () => {};
      },
    };
    const target = {
      upsId: 'rack',
      source: t.source,
      available: () => true,
      afterCommand: () => {},
    };
    await t.router.attach(subscriber, target);
    await t.router.attach(subscriber, target);
    assert.deepEqual(filters, ['ups2mqtt/rack/command/+', 'ups2mqtt/rack/shutdown_delay/set']);
    assert.equal(t.publisher.last('ups2mqtt/rack/shutdown_delay')?.payload, '60');
  });
});
