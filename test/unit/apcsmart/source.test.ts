import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUps2MqttError, Ups2MqttError } from '../../../src/core/errors.ts';
import { settle } from './fakes.ts';
import { POLL, START_UP, setup } from './source-setup.ts';

describe('ApcSmartSource: reading', () => {
  it('identifies the unit, then polls only what its `a` reply lists', async () => {
    const { source, read, port } = setup();
    assert.deepEqual(source.capabilities().commands, [], 'nothing known before the unit answered');
    assert.equal(source.description, 'apcsmart:///dev/ttyS0');
    const { data, unknown, events, nativeEvents } = await read();
    assert.equal(port().text(), START_UP + POLL);
    assert.deepEqual(unknown, {});
    assert.deepEqual(events, []);
    assert.equal(nativeEvents, false);
    assert.equal(data.model, 'SMART-UPS 420');
    assert.equal(data.serial_number, 'NS9847001053');
    assert.equal(data.online, true);
    assert.equal(data.runtime_s, 2520);
    assert.equal(data.self_test_result, 'passed');
    assert.equal(data.test_in_progress, false);
    assert.deepEqual(source.capabilities().commands, [
      'test.battery.start.quick',
      'test.battery.stop',
      'test.panel.start',
      'test.failure.start',
      'calibrate.start',
      'calibrate.stop',
      'shutdown.return',
      'shutdown.stayoff',
      'shutdown.stop',
      'load.off',
      'load.on',
      'beeper.enable',
      'beeper.disable',
    ]);
    assert.deepEqual(source.capabilities().stickyFields, [
      'last_transfer_reason',
      'self_test_result',
    ]);
  });

  it('an alert updates the state at once, wakes the bridge, and the registers follow', async () => {
    const { model, read, port, wakes } = setup();
    await read();
    const before = port().written.length;
    model.failMains();
    assert.equal(wakes(), 1, 'woken synchronously by the ! alert');
    const fast = await read();
    assert.equal(fast.data.on_battery, true);
    assert.equal(fast.data.online, false);
    assert.equal(fast.data.input_voltage_v, 231.8, 'registers not read yet');
    await settle();
    assert.equal(
      port()
        .written.slice(before)
        .map((w) => w.bytes)
        .join(''),
      POLL,
      'background poll',
    );
    assert.equal(wakes(), 2, 'woken again when the registers are in');
    const full = await read();
    assert.equal(full.data.on_battery, true);
    assert.equal(full.data.input_voltage_v, 0);
    assert.equal(full.data.last_transfer_reason, 'Low line voltage');
    assert.equal(
      port()
        .written.slice(before)
        .map((w) => w.bytes)
        .join(''),
      POLL,
      'no extra poll',
    );
    model.restoreMains();
    assert.equal((await read()).data.online, true);
  });

  it('the port vanishing wakes the bridge; reads fail clearly until the port is back', async () => {
    const { read, port, ports, wakes, failOpen } = setup();
    await read();
    port().vanish();
    assert.equal(wakes(), 1);
    const noDevice = Object.assign(new Error('gone'), { code: 'ENOENT' });
    failOpen(new Ups2MqttError('CONNECT_FAILED', 'no such device', { cause: noDevice }));
    await assert.rejects(read(), (e: unknown) => isUps2MqttError(e, 'CONNECT_FAILED'));
    failOpen(undefined);
    const again = await read();
    assert.equal(again.data.serial_number, 'NS9847001053');
    assert.equal(ports.length, 2);
    assert.equal(port().text(), START_UP + POLL, 'identified anew on the new port');
  });

  it('a UPS that stops answering: READ_TIMEOUT, then it recovers', async () => {
    const { read, port } = setup();
    await read();
    const silent = port().peer;
    port().peer = () => undefined;
    await assert.rejects(read(), (e: unknown) => isUps2MqttError(e, 'READ_TIMEOUT'));
    port().peer = silent;
    assert.equal((await read()).data.online, true);
  });

  it('old firmware without `a`: no commands, letters answering NA are dropped', async () => {
    const { source, read, port, model } = setup();
    model.values.delete('a');
    await read();
    assert.deepEqual(source.capabilities().commands, []);
    const first = port().text();
    await read();
    const second = port().text().slice(first.length);
    assert.ok(!second.includes('C'), 'C answered NA once and is no longer asked');
    assert.ok(second.startsWith('Q'));
  });

  it('an aborted read rejects ABORTED', async () => {
    const { source } = setup();
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(source.read(controller.signal), (e: unknown) =>
      isUps2MqttError(e, 'ABORTED'),
    );
  });

  it('close() closes the port and further reads reject', async () => {
    const { source, read, port } = setup();
    await read();
    await source.close();
    assert.equal(port().closed, true);
    await assert.rejects(read(), (e: unknown) => isUps2MqttError(e, 'ABORTED'));
  });
});
