import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpsBridge, type UpsBridgeOptions } from '../../../src/bridge/ups-bridge.ts';
import { Ups2MqttError } from '../../../src/core/errors.ts';
import type { UpsData } from '../../../src/core/state.ts';
import { Topics } from '../../../src/mqtt/topics.ts';
import { settle } from '../../helpers/settle.ts';
import { captureLogger, ManualClock, RecordingPublisher, ScriptedSource, tick } from './fakes.ts';

const ONLINE: UpsData = {
  model: 'Back-UPS XS 1400U',
  serial_number: '4B1948P07984',
  online: true,
  on_battery: false,
  low_battery: false,
  battery_charge_pct: 100,
  input_voltage_v: 232,
  runtime_s: 4218,
};

function setup(opts: Partial<UpsBridgeOptions> = {}, source = new ScriptedSource()) {
  const clock = new ManualClock(Date.parse('2026-11-21T10:00:00Z'));
  const publisher = new RecordingPublisher();
  const { logger, lines } = captureLogger();
  const discoveries: { keys: string[]; upsId: string; identifier: string }[] = [];
  const bridge = new UpsBridge(
    { pollIntervalMs: 1000, heartbeatIntervalMs: 60_000, maxDataAgeS: 180, ...opts },
    {
      source,
      publisher,
      topics: new Topics('ups2mqtt'),
      clock,
      logger,
      discovery: {
        update: async (ups, _state, keys) => {
          discoveries.push({ keys: [...keys], upsId: ups.upsId, identifier: ups.deviceIdentifier });
        },
      },
    },
  );
  return { clock, publisher, bridge, source, lines, discoveries };
}

/**
 * Runs `n` periods of `ms` in 100 ms steps, letting async work finish at each step the way
 * real time would (one big jump would fire timers before the reads they race with).
 */
async function polls(clock: ManualClock, n: number, ms = 1000): Promise<void> {
  for (let elapsed = 0; elapsed < n * ms; elapsed += 100)
    await tick(clock, Math.min(100, n * ms - elapsed));
}

describe('UpsBridge', () => {
  it('keeps polling while publishes hang (a silent broker) and never calls the UPS unreachable', async () => {
    const t = setup({ id: 'rack' });
    t.source.next = { data: ONLINE };
    await t.bridge.start();
    await tick(t.clock, 0);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const publish = t.publisher.publish.bind(t.publisher);
    t.publisher.publish = async (...args) => {
      await gate;
      return publish(...args);
    };
    // On battery: the state publish hangs, as on a connection whose broker went silent.
    t.source.next = { data: { ...ONLINE, online: false, on_battery: true } };
    const before = t.source.reads;
    await polls(t.clock, 5);
    t.source.next = { data: ONLINE };
    await polls(t.clock, 5);
    assert.ok(t.source.reads - before >= 9, `polled ${t.source.reads - before} times in 10 s`);
    assert.deepEqual(
      t.lines.filter((l) => /unavailable|unreach/i.test(l.msg)).map((l) => l.msg),
      [],
    );
    release();
    await polls(t.clock, 2);
    // The publish under way, then the latest reading (the 9 in between replaced each other):
    // on battery and back, with both events, and never offline.
    const onBattery = t.publisher
      .on('ups2mqtt/rack/state')
      .map((m) => (JSON.parse(m.payload) as { on_battery: boolean }).on_battery);
    assert.deepEqual(onBattery, [false, true, false]);
    assert.deepEqual(
      t.publisher.on('ups2mqtt/rack/availability').map((m) => m.payload),
      ['online'],
    );
    const events = t.publisher
      .on('ups2mqtt/rack/event')
      .map((m) => (JSON.parse(m.payload) as { event_type: string }).event_type);
    assert.deepEqual(events, ['power_lost', 'power_restored']);
  });

  it('publishes retained state, then availability, and discovery after the first reading', async () => {
    const t = setup({ id: 'rack' });
    t.source.next = { data: ONLINE };
    await t.bridge.start();
    await tick(t.clock, 0);
    assert.deepEqual(
      t.publisher.messages.map((m) => [m.topic, m.retain]),
      [
        ['ups2mqtt/rack/state', true],
        ['ups2mqtt/rack/availability', true],
      ],
    );
    assert.equal(t.publisher.last('ups2mqtt/rack/availability')?.payload, 'online');
    const state = JSON.parse(t.publisher.last('ups2mqtt/rack/state')?.payload ?? '{}');
    assert.deepEqual(state, {
      ...ONLINE,
      status: 'online',
      updated_at: '2026-11-21T10:00:00.000Z',
    });
    assert.equal(t.discoveries.length, 1);
    assert.equal(t.discoveries[0]?.identifier, 'ups2mqtt_4b1948p07984');
  });

  it('takes the UPS id from the slugified serial when none is configured', async () => {
    const t = setup();
    t.source.next = { data: { ...ONLINE, serial_number: ' 3B1733X16096  ' } };
    await t.bridge.start();
    await tick(t.clock, 0);
    assert.equal(t.bridge.id, '3b1733x16096');
    assert.equal(t.publisher.messages[0]?.topic, 'ups2mqtt/3b1733x16096/state');
  });

  it('falls back to an id from the source when the serial is a placeholder, and warns', async () => {
    const t = setup();
    t.source.next = { data: { ...ONLINE, serial_number: 'Blank' } };
    await t.bridge.start();
    await tick(t.clock, 0);
    assert.equal(t.bridge.id, 'fake_ups');
    assert.ok(t.lines.some((l) => l.level === 'warn' && /no usable serial/.test(l.msg ?? '')));
  });

  it('publishes state only on change, plus a heartbeat', async () => {
    const t = setup({ id: 'rack', heartbeatIntervalMs: 10_000 });
    t.source.next = { data: ONLINE };
    await t.bridge.start();
    await tick(t.clock, 0);
    await polls(t.clock, 5);
    assert.equal(
      t.publisher.on('ups2mqtt/rack/state').length,
      1,
      'unchanged readings are not published',
    );
    t.source.next = { data: { ...ONLINE, input_voltage_v: 229 } };
    await polls(t.clock, 1);
    assert.equal(t.publisher.on('ups2mqtt/rack/state').length, 2);
    t.source.next = { data: { ...ONLINE, input_voltage_v: 229 } };
    await polls(t.clock, 10);
    assert.equal(t.publisher.on('ups2mqtt/rack/state').length, 3, 'heartbeat after 10 s');
    const last = JSON.parse(t.publisher.last('ups2mqtt/rack/state')?.payload ?? '{}');
    assert.equal(
      last.updated_at,
      new Date(t.clock.now()).toISOString(),
      'heartbeat carries the time of its reading',
    );
  });

  it('ignores volatile keys (sampled_at, reported_at, data_age_s) when deciding to publish', async () => {
    const t = setup({ id: 'rack' });
    t.source.next = {
      data: {
        ...ONLINE,
        sampled_at: '2026-11-21T09:59:57+00:00',
        reported_at: '2026-11-21T10:00:00+00:00',
        data_age_s: 3,
      },
    };
    await t.bridge.start();
    await tick(t.clock, 0);
    // apcupsd re-stamps DATE and END APC on every poll of its own, the UPS unchanged.
    t.source.next = {
      data: {
        ...ONLINE,
        sampled_at: '2026-11-21T09:59:58+00:00',
        reported_at: '2026-11-21T10:00:01+00:00',
        data_age_s: 3,
      },
    };
    await polls(t.clock, 3);
    assert.equal(t.publisher.on('ups2mqtt/rack/state').length, 1);
    t.source.next = { data: { ...ONLINE, sampled_at: '2026-11-21T10:00:02+00:00', load_pct: 41 } };
    await polls(t.clock, 1);
    const states = t.publisher.on('ups2mqtt/rack/state');
    assert.equal(states.length, 2, 'a real change is published');
    assert.equal(
      JSON.parse(states[1]?.payload ?? '{}').sampled_at,
      '2026-11-21T10:00:02+00:00',
      'and carries the latest DATE',
    );
  });

  it('goes offline within two missed polls when the source fails, with a reduced state and one event', async () => {
    const t = setup({ id: 'rack' });
    t.source.next = { data: ONLINE };
    await t.bridge.start();
    await tick(t.clock, 0);
    t.publisher.clear();
    t.source.next = {
      error: new Ups2MqttError('CONNECT_FAILED', 'connect ECONNREFUSED 127.0.0.1:3551'),
    };
    await polls(t.clock, 1);
    assert.equal(
      t.publisher.on('ups2mqtt/rack/availability').length,
      0,
      'one failure is not yet an outage',
    );
    await polls(t.clock, 1, 1300); // the first retry comes after the interval ±20 % jitter
    assert.equal(t.publisher.last('ups2mqtt/rack/availability')?.payload, 'offline');
    assert.equal(t.publisher.last('ups2mqtt/rack/availability')?.retain, true);
    const reduced = JSON.parse(t.publisher.last('ups2mqtt/rack/state')?.payload ?? '{}');
    assert.deepEqual(Object.keys(reduced).sort(), [
      'comm_lost',
      'model',
      'serial_number',
      'status',
      'updated_at',
    ]);
    assert.equal(reduced.status, 'comm_lost');
    assert.equal(reduced.comm_lost, true);
    const events = t.publisher.on('ups2mqtt/rack/event').map((m) => JSON.parse(m.payload));
    assert.deepEqual(
      events.map((e) => [e.event_type, e.origin]),
      [['comm_lost', 'bridge']],
    );
    assert.equal(t.publisher.last('ups2mqtt/rack/event')?.retain, false);
    assert.ok(
      t.lines.some(
        (l) =>
          l.level === 'warn' && (l.err as { code?: string } | undefined)?.code === 'CONNECT_FAILED',
      ),
    );
  });

  it('marks a source that accepts and never answers offline two intervals after its last reading', async () => {
    const t = setup({ id: 'rack' });
    t.source.next = { data: ONLINE };
    await t.bridge.start();
    await tick(t.clock, 0);
    t.source.next = 'hang';
    await tick(t.clock, 1000);
    await tick(t.clock, 999);
    assert.equal(t.bridge.currentAvailability, 'online');
    await tick(t.clock, 1);
    assert.equal(t.bridge.currentAvailability, 'offline');
  });

  it('still marks a hanging source offline when the watchdog timer fires a few ms early', async () => {
    // Node's timers run on the loop's cached time, which can trail Date.now() when the timer
    // is armed: the callback then comes a few ms before the deadline by the wall clock.
    class EarlyClock extends ManualClock {
      override setTimeout(fn: () => void, ms: number) {
        return super.setTimeout(fn, ms > 3 ? ms - 3 : ms);
      }
    }
    const clock = new EarlyClock(Date.parse('2026-11-21T10:00:00Z'));
    const source = new ScriptedSource();
    const bridge = new UpsBridge(
      { id: 'rack', pollIntervalMs: 1000, heartbeatIntervalMs: 60_000, maxDataAgeS: 180 },
      {
        source,
        publisher: new RecordingPublisher(),
        topics: new Topics('ups2mqtt'),
        clock,
        logger: captureLogger().logger,
      },
    );
    source.next = { data: ONLINE };
    await bridge.start();
    await tick(clock, 0);
    assert.equal(bridge.currentAvailability, 'online');
    source.next = 'hang';
    await tick(clock, 1000);
    await tick(clock, 997); // the watchdog fires here, 3 ms before its deadline
    assert.equal(bridge.currentAvailability, 'online');
    await tick(clock, 3);
    assert.equal(bridge.currentAvailability, 'offline', 'offline two intervals after the reading');
    await bridge.stop();
  });

  it('after an outage publishes the fresh state before availability online', async () => {
    const t = setup({ id: 'rack' });
    t.source.next = { data: ONLINE };
    await t.bridge.start();
    await tick(t.clock, 0);
    t.source.next = { error: new Ups2MqttError('CONNECT_FAILED', 'refused') };
    await polls(t.clock, 3);
    assert.equal(t.bridge.currentAvailability, 'offline');
    t.publisher.clear();
    t.source.next = { data: ONLINE };
    await polls(t.clock, 1);
    const order = t.publisher.messages
      .filter((m) => m.topic !== 'ups2mqtt/rack/event')
      .map(
        (m) => `${m.topic}=${m.topic.endsWith('state') ? JSON.parse(m.payload).status : m.payload}`,
      );
    assert.deepEqual(order, ['ups2mqtt/rack/state=online', 'ups2mqtt/rack/availability=online']);
  });

  it('recovers by itself: online again, full state, comm_restored', async () => {
    const t = setup({ id: 'rack' });
    t.source.next = { data: ONLINE };
    await t.bridge.start();
    await tick(t.clock, 0);
    t.source.next = { error: new Ups2MqttError('CONNECT_FAILED', 'refused') };
    await polls(t.clock, 3);
    assert.equal(t.bridge.currentAvailability, 'offline');
    t.publisher.clear();
    t.source.next = { data: ONLINE };
    await polls(t.clock, 1); // the next poll after the source answers again: no backoff
    assert.equal(t.publisher.last('ups2mqtt/rack/availability')?.payload, 'online');
    const state = JSON.parse(t.publisher.last('ups2mqtt/rack/state')?.payload ?? '{}');
    assert.equal(state.battery_charge_pct, 100);
    assert.equal(state.comm_lost, undefined);
    const events = t.publisher
      .on('ups2mqtt/rack/event')
      .map((m) => JSON.parse(m.payload).event_type);
    assert.deepEqual(events, ['comm_restored']);
  });

  it('treats a COMMLOST reading as unavailable without deriving events when the source logs its own', async () => {
    const t = setup({ id: 'rack' });
    t.source.next = { data: ONLINE, nativeEvents: true };
    await t.bridge.start();
    await tick(t.clock, 0);
    t.source.next = {
      data: { model: 'Back-UPS XS 1400U', serial_number: '4B1948P07984', comm_lost: true },
      nativeEvents: true,
      events: [
        {
          event_type: 'comm_lost',
          at: '2026-11-21T10:00:01+00:00',
          message: 'Communications with UPS lost.',
          origin: 'source_log',
        },
      ],
    };
    await polls(t.clock, 1);
    assert.equal(t.publisher.last('ups2mqtt/rack/availability')?.payload, 'offline');
    assert.equal(
      JSON.parse(t.publisher.last('ups2mqtt/rack/state')?.payload ?? '{}').status,
      'comm_lost',
    );
    const events = t.publisher.on('ups2mqtt/rack/event').map((m) => JSON.parse(m.payload));
    assert.deepEqual(
      events.map((e) => [e.event_type, e.origin]),
      [['comm_lost', 'source_log']],
    );
  });

  it('treats data older than max_data_age as unavailable', async () => {
    const t = setup({ id: 'rack', maxDataAgeS: 180 });
    t.source.next = { data: { ...ONLINE, data_age_s: 181 } };
    await t.bridge.start();
    await tick(t.clock, 0);
    assert.equal(t.publisher.last('ups2mqtt/rack/availability')?.payload, 'offline');
    assert.ok(t.lines.some((l) => /older than state.max_data_age/.test(l.msg ?? '')));
  });

  it('derives power events from state changes for sources without a log, marked during a self-test', async () => {
    const t = setup({ id: 'rack' });
    t.source.next = { data: ONLINE };
    await t.bridge.start();
    await tick(t.clock, 0);
    t.source.next = {
      data: { ...ONLINE, online: false, on_battery: true, test_in_progress: true },
    };
    await polls(t.clock, 1);
    t.source.next = { data: { ...ONLINE, test_in_progress: false, self_test_result: 'passed' } };
    await polls(t.clock, 1);
    const events = t.publisher.on('ups2mqtt/rack/event').map((m) => JSON.parse(m.payload));
    assert.deepEqual(
      events.map((e) => [e.event_type, e.during_self_test ?? false]),
      [
        ['power_lost', true],
        ['self_test_started', false],
        ['power_restored', true],
        ['self_test_completed', false],
      ],
    );
  });

  it('re-runs discovery only when the set of keys grows', async () => {
    const t = setup(
      { id: 'rack' },
      new ScriptedSource({ commands: [], stickyFields: ['last_self_test_at'] }),
    );
    t.source.next = { data: ONLINE };
    await t.bridge.start();
    await tick(t.clock, 0);
    assert.ok(t.discoveries[0]?.keys.includes('last_self_test_at'), 'sticky fields are discovered');
    t.source.next = { data: { ...ONLINE, input_voltage_v: 220 } };
    await polls(t.clock, 2);
    assert.equal(t.discoveries.length, 1);
    t.source.next = { data: { ...ONLINE, internal_temp_c: 31.5 } };
    await polls(t.clock, 1);
    assert.equal(t.discoveries.length, 2);
    assert.ok(t.discoveries[1]?.keys.includes('internal_temp_c'));
  });

  it('announce() re-publishes availability and the last state; stop() publishes offline', async () => {
    const t = setup({ id: 'rack' });
    t.source.next = { data: ONLINE };
    await t.bridge.start();
    await tick(t.clock, 0);
    const first = t.publisher.last('ups2mqtt/rack/state')?.payload;
    t.publisher.clear();
    await t.bridge.announce();
    assert.deepEqual(
      t.publisher.messages.map((m) => [m.topic, m.payload === first || m.payload]),
      [
        ['ups2mqtt/rack/availability', 'online'],
        ['ups2mqtt/rack/state', true],
      ],
    );
    assert.equal(t.discoveries.length, 2);
    await t.bridge.stop();
    assert.equal(t.publisher.last('ups2mqtt/rack/availability')?.payload, 'offline');
    const reads = t.source.reads;
    await polls(t.clock, 3);
    assert.equal(t.source.reads, reads, 'no polling after stop');
  });

  it('announce() on a quiet UPS re-publishes the latest reading, not the last publish', async () => {
    const t = setup({ id: 'rack' });
    t.source.next = { data: ONLINE };
    await t.bridge.start();
    await tick(t.clock, 0);
    await polls(t.clock, 10); // nothing changes: no publish until the heartbeat
    const stamps = t.publisher.messages
      .filter((m) => m.topic === 'ups2mqtt/rack/state')
      .map((m) => JSON.parse(m.payload).updated_at);
    assert.deepEqual(stamps, ['2026-11-21T10:00:00.000Z']);
    t.publisher.clear();
    await t.bridge.announce();
    const state = JSON.parse(t.publisher.last('ups2mqtt/rack/state')?.payload ?? '{}');
    assert.equal(state.updated_at, '2026-11-21T10:00:10.000Z');
    assert.equal(state.battery_charge_pct, 100);
  });

  it('wakes for an immediate read when the source signals a change', async () => {
    const t = setup({ id: 'rack' });
    t.source.next = { data: ONLINE };
    await t.bridge.start();
    await tick(t.clock, 0);
    const reads = t.source.reads;
    t.source.triggerWake();
    await tick(t.clock, 0);
    assert.equal(t.source.reads, reads + 1);
    await settle();
  });
});
