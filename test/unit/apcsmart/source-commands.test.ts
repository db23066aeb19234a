import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUps2MqttError } from '../../../src/core/errors.ts';
import { advance, drive } from './fakes.ts';
import { setup } from './source-setup.ts';

describe('ApcSmartSource: commands', () => {
  it('test.battery.start.quick sends W, wakes, and shows the test in progress', async () => {
    const { source, clock, read, port, wakes } = setup();
    await read();
    const before = port().written.length;
    const outcome = await drive(clock, source.command('test.battery.start.quick', {}));
    assert.equal(port().written.slice(before)[0]?.bytes, 'W');
    assert.match(outcome.message ?? '', /self-test started/);
    assert.ok(wakes() >= 1);
    const during = await read();
    assert.equal(during.data.self_test_result, 'in_progress');
    assert.equal(during.data.test_in_progress, true);
  });

  it('test.battery.stop refuses when no test runs (W would start one)', async () => {
    const { source, clock, read, port } = setup();
    await read();
    const before = port().written.length;
    await assert.rejects(drive(clock, source.command('test.battery.stop', {})), (e: unknown) =>
      isUps2MqttError(e, 'SERVER_ERROR'),
    );
    assert.equal(
      port()
        .written.slice(before)
        .map((w) => w.bytes)
        .join(''),
      'QG',
      'no W sent',
    );
  });

  it('calibrate.stop refuses when none runs; calibrate.start sends D', async () => {
    const { source, clock, read, port } = setup();
    await read();
    await assert.rejects(drive(clock, source.command('calibrate.stop', {})), (e: unknown) =>
      isUps2MqttError(e, 'SERVER_ERROR'),
    );
    const before = port().written.length;
    await drive(clock, source.command('calibrate.start', {}));
    assert.equal(
      port()
        .written.slice(before)
        .map((w) => w.bytes)
        .join(''),
      'QD',
    );
    assert.equal((await read()).data.calibrating, true);
  });

  it('shutdown.return on line: @000, paced, after checking the status', async () => {
    const { source, clock, read, port } = setup();
    await read();
    const before = port().written.length;
    const t0 = clock.now();
    const outcome = await drive(clock, source.command('shutdown.return', {}));
    const sent = port()
      .written.slice(before)
      .map((w) => [w.bytes, w.at - t0]);
    assert.deepEqual(sent, [
      ['Q', 0],
      ['@', 0],
      ['0', 200],
      ['0', 400],
      ['0', 600],
    ]);
    assert.match(outcome.message ?? '', /@000.*20 s grace delay/);
  });

  it('shutdown.return on battery: S', async () => {
    const { source, clock, read, port, model } = setup();
    await read();
    model.failMains();
    const before = port().written.length;
    await drive(clock, source.command('shutdown.return', {}));
    assert.equal(
      port()
        .written.slice(before)
        .map((w) => w.bytes)
        .join(''),
      'QS',
    );
  });

  it('delay_s longer than the grace delay p holds the command on this host; shutdown.stop cancels it', async () => {
    const { source, clock, read, port } = setup();
    await read();
    const before = port().written.length;
    const held = await drive(clock, source.command('shutdown.stayoff', { delay_s: 60 }));
    assert.match(held.message ?? '', /held for 40 s/);
    await advance(clock, 39_000, 1000);
    assert.equal(port().written.length, before, 'nothing sent during the hold');
    await drive(clock, source.command('shutdown.stop', {}));
    assert.equal(
      port()
        .written.slice(before)
        .map((w) => w.bytes)
        .join(''),
      '\x7f',
    );
    await advance(clock, 10_000, 1000);
    assert.equal(
      port()
        .written.slice(before)
        .map((w) => w.bytes)
        .join(''),
      '\x7f',
      'K K never sent',
    );
  });

  it('a held shutdown is sent when its time comes (K, 2 s, K)', async () => {
    const { source, clock, read, port } = setup();
    await read();
    const before = port().written.length;
    const t0 = clock.now();
    await drive(clock, source.command('shutdown.stayoff', { delay_s: 30 }));
    await advance(clock, 13_000);
    const sent = port()
      .written.slice(before)
      .map((w) => [w.bytes, w.at - t0]);
    assert.deepEqual(sent, [
      ['K', 10_000],
      ['K', 12_000],
    ]);
  });

  it('load.off: Z, 2 s, Z; no reply is success', async () => {
    const { source, clock, read, port, model } = setup();
    await read();
    const before = port().written.length;
    await drive(clock, source.command('load.off', {}));
    assert.deepEqual(
      port()
        .written.slice(before)
        .map((w) => w.bytes),
      ['Z', 'Z'],
    );
    assert.deepEqual(model.shutdowns, ['Z Z']);
    assert.deepEqual(model.violations, []);
  });

  it('beeper.disable steps k with - until N, waiting for each | confirmation', async () => {
    const { source, clock, read, port, model } = setup({ eepromConfirmMs: 0 });
    await read();
    const before = port().written.length;
    const outcome = await drive(clock, source.command('beeper.disable', {}));
    assert.equal(
      port()
        .written.slice(before)
        .map((w) => w.bytes)
        .join(''),
      'k-k-k-k',
    );
    assert.equal(model.values.get('k'), 'N');
    assert.match(outcome.message ?? '', /k set to N in 3 EEPROM step/);
  });

  it('refuses commands the unit does not offer', async () => {
    const { source, clock, read } = setup();
    await read();
    await assert.rejects(drive(clock, source.command('beeper.mute', {})), (e: unknown) =>
      isUps2MqttError(e, 'SOURCE_UNSUPPORTED'),
    );
  });
});
