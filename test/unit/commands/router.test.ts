import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandRouter } from '../../../src/commands/router.ts';
import { Topics } from '../../../src/mqtt/topics.ts';
import { captureLogger, RecordingPublisher, ScriptedSource } from '../bridge/fakes.ts';

function setup(allow: string[] = []) {
  const publisher = new RecordingPublisher();
  const { logger, lines } = captureLogger();
  const router = new CommandRouter(
    { allow: new Set(allow) },
    publisher,
    new Topics('ups2mqtt'),
    logger,
  );
  const source = new ScriptedSource({
    commands: ['test.battery.start.quick', 'shutdown.return'],
    stickyFields: [],
  });
  let woken = 0;
  const target = { upsId: 'rack', source, afterCommand: () => woken++ };
  const send = (name: string, payload = '', retain = false) =>
    router.handle(target, {
      topic: `ups2mqtt/rack/command/${name}`,
      payload: Buffer.from(payload),
      retain,
    });
  return { publisher, router, source, send, lines, woken: () => woken };
}

describe('CommandRouter', () => {
  it('runs an advertised command and publishes an ok result with the transaction', async () => {
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
    assert.equal(t.woken(), 1);
  });

  it('never executes a retained command message', async () => {
    const t = setup(['shutdown.return']);
    const result = await t.send('shutdown.return', '', true);
    assert.equal(result, undefined);
    assert.deepEqual(t.source.commands, []);
    assert.equal(t.publisher.messages.length, 0);
    assert.ok(t.lines.some((l) => l.level === 'warn' && /retained/.test(l.msg ?? '')));
  });

  it('refuses commands the source does not advertise', async () => {
    const t = setup();
    await t.send('beeper.disable');
    assert.equal(JSON.parse(t.publisher.messages[0]?.payload ?? '{}').code, 'unsupported');
    assert.deepEqual(t.source.commands, []);
  });

  it('refuses destructive commands unless allowed', async () => {
    const t = setup();
    await t.send('shutdown.return', '{"delay_s":30}');
    assert.deepEqual(JSON.parse(t.publisher.messages[0]?.payload ?? '{}'), {
      status: 'error',
      command: 'shutdown.return',
      code: 'disabled',
      message: 'this command is disabled; allow it in the configuration',
    });
    assert.deepEqual(t.source.commands, []);
    const allowed = setup(['shutdown.return']);
    await allowed.send('shutdown.return', '{"delay_s":30}');
    assert.deepEqual(allowed.source.commands, [{ name: 'shutdown.return', args: { delay_s: 30 } }]);
  });

  it('answers garbage with bad_payload and does not call the source', async () => {
    const t = setup();
    await t.send('test.battery.start.quick', 'rm -rf /');
    assert.equal(JSON.parse(t.publisher.messages[0]?.payload ?? '{}').code, 'bad_payload');
    assert.deepEqual(t.source.commands, []);
  });

  it('lists only advertised and enabled commands', () => {
    assert.deepEqual(setup().router.enabledCommands(setup().source), ['test.battery.start.quick']);
  });
});
