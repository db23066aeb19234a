/**
 * MqttGateway without a broker: an injected connect function hands it a scripted client,
 * and every deadline runs on a ManualClock, so the bounds are exact and nothing waits.
 */
import * as assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type { IClientOptions, MqttClient } from 'mqtt';
import { ManualClock } from '../../../src/core/clock.ts';
import {
  ERROR_REPEAT_WARN_MS,
  type GatewayOptions,
  MqttGateway,
  OFFLINE_QUEUE_LIMIT,
  PUBLISH_ACK_TIMEOUT_MS,
  RETAINED_SCAN_TIMEOUT_MS,
} from '../../../src/mqtt/gateway.ts';
import { captureLogger } from '../../helpers/log-capture.ts';
import { settle } from '../../helpers/settle.ts';

interface Sent {
  topic: string;
  payload: string;
  qos: number | undefined;
  retain: boolean | undefined;
  via: 'publish' | 'publishAsync';
}

/** Real time a deadline test may take: far below the deadlines, so a real timer fails it. */
const FAST = { timeout: 2000 };

/** A scripted mqtt.js client: records what is sent, acknowledges when told to. */
class FakeClient extends EventEmitter {
  readonly sent: Sent[] = [];
  readonly subscribed: string[] = [];
  /** Publishes through publishAsync wait for ack() while this is false. */
  autoAck = true;
  /** The sync marker of a retained scan comes back (the broker answers). */
  echoSync = true;
  private readonly pending: (() => void)[] = [];
  ended: boolean | undefined;
  /** Unacknowledged QoS 1 publishes by message id, as mqtt.js files them. */
  readonly outgoing: Record<number, { fail: (err: Error) => void }> = {};
  /** Message ids withdrawn with removeOutgoingMessage. */
  readonly removed: number[] = [];
  private nextId = 1;

  publish(topic: string, payload: string | Buffer, opts: { qos?: number; retain?: boolean }) {
    this.sent.push({
      topic,
      payload: String(payload),
      qos: opts.qos,
      retain: opts.retain,
      via: 'publish',
    });
    return this;
  }

  publishAsync(
    topic: string,
    payload: string | Buffer,
    opts: { qos?: number; retain?: boolean },
  ): Promise<void> {
    this.sent.push({
      topic,
      payload: String(payload),
      qos: opts.qos,
      retain: opts.retain,
      via: 'publishAsync',
    });
    if (this.echoSync && topic.endsWith('/sync')) {
      queueMicrotask(() => this.deliver(topic, String(payload), false));
    }
    if (this.autoAck) return Promise.resolve();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.outgoing[id] = { fail: reject };
      this.pending.push(() => {
        delete this.outgoing[id];
        resolve();
      });
    });
  }

  getLastMessageId(): number {
    return this.nextId - 1;
  }

  removeOutgoingMessage(id: number): this {
    this.removed.push(id);
    this.outgoing[id]?.fail(new Error('Message removed'));
    delete this.outgoing[id];
    return this;
  }

  async subscribeAsync(filter: string | Record<string, unknown>): Promise<void> {
    if (typeof filter === 'string') this.subscribed.push(filter);
    else this.subscribed.push(...Object.keys(filter).filter((k) => k !== 'resubscribe'));
  }

  unsubscribe(): this {
    return this;
  }

  async endAsync(force?: boolean): Promise<void> {
    this.ended = force === true;
  }

  deliver(topic: string, payload: string, retain: boolean): void {
    this.emit('message', topic, Buffer.from(payload), { retain });
  }

  ackAll(): void {
    for (const r of this.pending.splice(0)) r();
  }
}

const OPTS: GatewayOptions = {
  url: 'mqtt://broker.invalid:1883',
  rejectUnauthorized: true,
  clientId: 'test',
  protocolVersion: 4,
  keepaliveS: 30,
  reconnectPeriodMs: 1000,
  bridgeStateTopic: 'ups2mqtt/bridge/state',
};

function setup(overrides: Partial<GatewayOptions> = {}) {
  const client = new FakeClient();
  const clock = new ManualClock(1_000_000);
  const { logger, lines } = captureLogger();
  const connects: IClientOptions[] = [];
  const gateway = new MqttGateway({ ...OPTS, ...overrides }, logger, {
    clock,
    connect: (_url, opts) => {
      connects.push(opts);
      return client as unknown as MqttClient;
    },
  });
  return { client, clock, gateway, lines, connects };
}

const topics = (sent: readonly Sent[]): string[] => sent.map((s) => `${s.topic}=${s.payload}`);

describe('MqttGateway', () => {
  it('warns of a repeated connection error once, then once a minute, and again after a connect', () => {
    const t = setup();
    t.gateway.start();
    const refused = () =>
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const warnings = () => t.lines.filter((l) => l.level === 'warn').map((l) => l.msg);
    for (let i = 0; i <= 120; i++) {
      t.client.emit('error', refused()); // one a second for two minutes, both ends included
      t.clock.advance(1000);
    }
    assert.deepEqual(warnings(), ['MQTT error', 'MQTT error, still', 'MQTT error, still']);
    assert.equal(t.lines.filter((l) => l.msg === 'MQTT error (repeated)').length, 118);
    assert.equal(
      t.lines.find((l) => l.msg === 'MQTT error, still')?.repeated,
      ERROR_REPEAT_WARN_MS / 1000 + 1,
    );
    t.client.emit('error', new Error('Connection refused: Not authorized'));
    assert.equal(warnings().length, 4, 'another error is a warning at once');
    t.client.emit('connect');
    t.client.emit('error', new Error('Connection refused: Not authorized'));
    assert.equal(warnings().length, 5, 'after a connect the first error warns again');
  });

  it("connects without mqtt-packet's number cache (65,536 Buffers, 6 MiB of heap)", () => {
    const t = setup();
    t.gateway.start();
    assert.equal(t.connects[0]?.writeCache, false);
  });

  it("silences mqtt.js's debug trace unless asked for (DEBUG=mqttjs* still works then)", () => {
    const quiet = setup();
    quiet.gateway.start();
    assert.equal(typeof quiet.connects[0]?.log, 'function');
    assert.equal(
      quiet.connects[0]?.log?.('publish :: message `%s` to topic `%s`', 'x', 'y'),
      undefined,
    );
    const traced = setup({ libraryTrace: true });
    traced.gateway.start();
    assert.equal(traced.connects[0]?.log, undefined);
  });

  it('connects with the last will and publishes the birth on the same topic, retained, QoS 1', () => {
    const t = setup();
    t.gateway.start();
    assert.deepEqual(t.connects[0]?.will, {
      topic: 'ups2mqtt/bridge/state',
      payload: Buffer.from('offline'),
      qos: 1,
      retain: true,
    });
    t.client.emit('connect');
    assert.deepEqual(t.client.sent, [
      { topic: 'ups2mqtt/bridge/state', payload: 'online', qos: 1, retain: true, via: 'publish' },
    ]);
    assert.equal(t.gateway.connected, true);
  });

  it(`keeps at most ${OFFLINE_QUEUE_LIMIT} queued messages while offline, dropping the oldest`, async () => {
    const t = setup();
    t.gateway.start();
    const extra = 5;
    for (let i = 0; i < OFFLINE_QUEUE_LIMIT + extra; i++) {
      const ok = await t.gateway.publish('ups2mqtt/x/event', `e${i}`, {
        retain: false,
        queueWhileOffline: true,
      });
      assert.equal(ok, false, 'reported as not delivered now');
    }
    // A state publish while offline is dropped, not queued: it is re-derived on connect.
    await t.gateway.publish('ups2mqtt/x/state', '{}', { retain: true });
    assert.equal(t.gateway.stats.dropped, OFFLINE_QUEUE_LIMIT + extra + 1);
    t.client.emit('connect');
    const flushed = t.client.sent.filter((s) => s.topic === 'ups2mqtt/x/event');
    assert.equal(flushed.length, OFFLINE_QUEUE_LIMIT);
    assert.equal(flushed[0]?.payload, `e${extra}`, 'the oldest were dropped');
    assert.equal(flushed.at(-1)?.payload, `e${OFFLINE_QUEUE_LIMIT + extra - 1}`);
    assert.deepEqual(
      t.client.sent.filter((s) => s.topic === 'ups2mqtt/x/state'),
      [],
      'state is not replayed',
    );
  });

  it(
    `gives up on an unacknowledged publish after exactly ${PUBLISH_ACK_TIMEOUT_MS} ms`,
    FAST,
    async () => {
      const t = setup();
      t.gateway.start();
      t.client.emit('connect');
      t.client.autoAck = false;
      let outcome: boolean | undefined;
      const pending = t.gateway.publish('ups2mqtt/x/state', '{}', { retain: true }).then((ok) => {
        outcome = ok;
      });
      await settle();
      t.clock.advance(PUBLISH_ACK_TIMEOUT_MS - 1);
      await settle();
      assert.equal(outcome, undefined, 'still waiting 1 ms before the deadline');
      t.clock.advance(1);
      await pending;
      assert.equal(outcome, false);
      assert.equal(t.gateway.stats.publishFailures, 1);
      assert.equal(t.gateway.stats.publishes, 0);
      assert.deepEqual(
        t.lines.filter((l) => l.level === 'warn').map((l) => [l.msg, l.topic]),
        [['the broker did not acknowledge a publish in time', 'ups2mqtt/x/state']],
      );
      // An acknowledged publish counts as delivered and leaves no timer behind.
      t.client.ackAll();
      t.client.autoAck = true;
      assert.equal(await t.gateway.publish('ups2mqtt/x/state', '{}', { retain: true }), true);
      assert.equal(t.gateway.stats.publishes, 1);
      assert.equal(t.clock.pending(), 0);
    },
  );

  it("sends the publishes of one event-loop turn in writes of up to 8, all by the turn's end", async () => {
    const t = setup();
    // The socket under mqtt.js: a depth of 0 means its writes go out.
    const log: string[] = [];
    let depth = 0;
    const stream = {
      cork: () => {
        depth++;
        log.push(`cork ${depth}`);
      },
      uncork: () => {
        depth--;
        log.push(`uncork ${depth}`);
      },
    };
    Object.assign(t.client, { stream });
    t.gateway.start();
    t.client.emit('connect');
    const sent: Promise<boolean>[] = [];
    for (let i = 0; i < 20; i++) {
      sent.push(t.gateway.publish(`ups2mqtt/u${i}/state`, '{}', { retain: true }));
      log.push(`publish ${i}`);
    }
    // Publishes 0-7 held together, 8-15 together, then 16-19 until the turn ends.
    const expected = [
      'cork 1',
      ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => `publish ${i}`),
      'uncork 0',
      'cork 1',
      ...[8, 9, 10, 11, 12, 13, 14, 15].map((i) => `publish ${i}`),
      'uncork 0',
      'cork 1',
      ...[16, 17, 18, 19].map((i) => `publish ${i}`),
    ];
    assert.deepEqual(log, expected);
    await settle(1);
    assert.deepEqual(log, [...expected, 'uncork 0']);
    assert.equal(depth, 0);
    assert.deepEqual(await Promise.all(sent), new Array(20).fill(true));
    // The next turn starts a new hold.
    await t.gateway.publish('ups2mqtt/u0/state', '{}', { retain: true });
    assert.deepEqual(log.slice(expected.length + 1, expected.length + 2), ['cork 1']);
    await settle(1);
    assert.equal(depth, 0);
  });

  it('gives each unacknowledged publish its own deadline through one timer', FAST, async () => {
    const t = setup();
    t.gateway.start();
    t.client.emit('connect');
    t.client.autoAck = false;
    const ended: string[] = [];
    const track = (topic: string) =>
      t.gateway.publish(topic, '{}', { retain: true }).then((ok) => {
        ended.push(`${topic}=${ok}`);
      });
    const first = track('ups2mqtt/a/state');
    await settle();
    t.clock.advance(4000);
    const second = track('ups2mqtt/b/state');
    await settle();
    assert.equal(t.clock.pending(), 1, 'one deadline timer for both');
    t.clock.advance(PUBLISH_ACK_TIMEOUT_MS - 4000);
    await first;
    assert.deepEqual(ended, ['ups2mqtt/a/state=false']);
    t.clock.advance(4000 - 1);
    await settle();
    assert.deepEqual(ended, ['ups2mqtt/a/state=false'], 'b still waits 1 ms before its deadline');
    t.clock.advance(1);
    await second;
    assert.deepEqual(ended, ['ups2mqtt/a/state=false', 'ups2mqtt/b/state=false']);
    assert.equal(t.clock.pending(), 0);
  });

  it(
    'stops waiting for acknowledgements when the connection closes; only events are resent',
    FAST,
    async () => {
      const t = setup();
      t.gateway.start();
      t.client.emit('connect');
      t.client.autoAck = false;
      const state = t.gateway.publish('ups2mqtt/x/state', '{"on_battery":true}', { retain: true });
      const event = t.gateway.publish('ups2mqtt/x/event', '{"event_type":"outage_started"}', {
        retain: false,
        queueWhileOffline: true,
      });
      await settle();
      // A silent broker: mqtt.js's keepalive gives up and closes the connection.
      t.client.emit('close');
      assert.deepEqual(await Promise.all([state, event]), [false, false], 'no deadline waited for');
      // mqtt.js would send both again after the reconnect: the state (id 1) is withdrawn,
      // since the bridge announces the current one; the event (id 2) stays, to arrive once.
      assert.deepEqual(t.client.removed, [1]);
      assert.deepEqual(Object.keys(t.client.outgoing), ['2']);
      assert.equal(t.gateway.stats.publishFailures, 2);
      assert.equal(t.clock.pending(), 0, 'no deadline timer left');
    },
  );

  it('returns the retained messages once its marker comes back, before any deadline', async () => {
    const t = setup();
    t.gateway.start();
    t.client.emit('connect');
    t.client.echoSync = false;
    const scan = t.gateway.scanRetained('homeassistant/device/+/config', 'ups2mqtt/bridge/sync');
    await settle();
    t.client.deliver('homeassistant/device/ups2mqtt_a/config', '{"a":1}', true);
    t.client.deliver('homeassistant/device/ups2mqtt_b/config', '{"b":1}', false); // live: not retained
    const marker = t.client.sent.find((s) => s.topic === 'ups2mqtt/bridge/sync');
    assert.ok(marker, 'a marker was published');
    t.client.deliver('ups2mqtt/bridge/sync', marker.payload, false);
    const found = await scan;
    assert.deepEqual(
      found.map((m) => m.topic),
      ['homeassistant/device/ups2mqtt_a/config'],
    );
    assert.equal(t.clock.pending(), 0, 'the deadline timer is cleared');
  });

  it(
    `ends a retained scan after ${RETAINED_SCAN_TIMEOUT_MS} ms when the marker never comes back`,
    FAST,
    async () => {
      const t = setup();
      t.gateway.start();
      t.client.emit('connect');
      t.client.echoSync = false;
      let done = false;
      const scan = t.gateway
        .scanRetained('homeassistant/device/+/config', 'ups2mqtt/bridge/sync')
        .finally(() => {
          done = true;
        });
      await settle();
      t.client.deliver('homeassistant/device/ups2mqtt_a/config', '{"a":1}', true);
      t.clock.advance(RETAINED_SCAN_TIMEOUT_MS - 1);
      await settle();
      assert.equal(done, false);
      t.clock.advance(1);
      const found = await scan;
      assert.deepEqual(
        found.map((m) => m.topic),
        ['homeassistant/device/ups2mqtt_a/config'],
      );
      assert.ok(t.lines.some((l) => l.msg === 'retained scan timed out'));
    },
  );

  it('after a reconnect: birth again, listeners again, queued events flushed, handlers kept', async () => {
    const t = setup();
    let connectedCalls = 0;
    let disconnectedCalls = 0;
    t.gateway.onConnected(() => {
      connectedCalls++;
    });
    t.gateway.onDisconnected(() => {
      disconnectedCalls++;
    });
    const got: string[] = [];
    t.gateway.start();
    t.client.emit('connect');
    await t.gateway.subscribe('ups2mqtt/x/command/#', (m) => got.push(m.topic));
    t.client.emit('close');
    assert.equal(t.gateway.connected, false);
    assert.deepEqual(
      t.lines.filter((l) => l.level === 'warn').map((l) => l.msg),
      ['lost the MQTT broker; reconnecting'],
    );
    await t.gateway.publish('ups2mqtt/x/event', 'while-away', {
      retain: false,
      queueWhileOffline: true,
    });
    t.client.sent.length = 0;
    t.client.emit('connect');
    assert.deepEqual(topics(t.client.sent), [
      'ups2mqtt/bridge/state=online',
      'ups2mqtt/x/event=while-away',
    ]);
    assert.deepEqual([connectedCalls, disconnectedCalls], [2, 1]);
    assert.equal(t.gateway.stats.connects, 2);
    assert.equal(t.connects[0]?.resubscribe, true, 'mqtt.js renews subscriptions itself');
    t.client.deliver('ups2mqtt/x/command/beeper.mute', '', false);
    assert.deepEqual(got, ['ups2mqtt/x/command/beeper.mute']);
  });

  it('refuses wildcard topics without touching the client', async () => {
    const t = setup();
    t.gateway.start();
    t.client.emit('connect');
    t.client.sent.length = 0;
    assert.equal(await t.gateway.publish('ups2mqtt/+/state', '{}', { retain: true }), false);
    assert.deepEqual(t.client.sent, []);
  });

  it('stops by publishing offline and ending cleanly', async () => {
    const t = setup();
    t.gateway.start();
    t.client.emit('connect');
    t.client.sent.length = 0;
    await t.gateway.stop();
    assert.deepEqual(topics(t.client.sent), ['ups2mqtt/bridge/state=offline']);
    assert.equal(t.client.ended, false, 'a clean end while connected');
  });
});
