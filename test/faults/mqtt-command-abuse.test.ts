/**
 * Fault: command abuse over MQTT against a bridge whose source runs commands (`sim://`,
 * issue 14): retained commands (live and after a bridge restart), wildcard-looking and odd
 * topics, 1 MiB / binary / invalid UTF-8 payloads and JSON bombs, thousands of messages a
 * second, replayed commands. What reached the source is read from the simulator's own log
 * line ("simulated UPS command") and its state; every test ends with a valid command that
 * runs, the answers are counted, and the process holds what it held before.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, type RecordedMessage, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { pollUntil } from '../helpers/ports.ts';
import { ProcessRegistry } from '../helpers/process.ts';
import { BridgeUnderTest, type ResourceSnapshot, resourceGrowth } from './harness.ts';
import {
  assertNoSecrets,
  brokerLogin,
  json,
  KEEP_ALL_OUTPUT,
  lineRate,
  logLines,
  MIB,
  resourceFigures,
  WARN,
} from './mqtt-faults.ts';

const CMD = 'ups2mqtt/abuse/command';
const STATE = 'ups2mqtt/abuse/state';
/** Answers per UPS and second for messages that run nothing (src/commands/report-budget.ts). */
const BUDGET = 10;

/**
 * The answer budget counts in one-second windows from the first message that spends it: a
 * section that counts answers starts after the previous section's window is over.
 */
const freshBudget = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1100));

const isResult = (m: RecordedMessage): boolean =>
  m.topic.startsWith(`${CMD}/`) && m.topic.endsWith('/result');

describe('command abuse over MQTT (sim:// source)', { timeout: 120_000 }, () => {
  const registry = new ProcessRegistry();
  const login = brokerLogin('Abuse');
  const env = (): Record<string, string> => ({
    UPS2MQTT_SOURCE: 'sim://?serial=ABUSE1',
    UPS2MQTT_UPS_ID: 'abuse',
    UPS2MQTT_MQTT_URL: broker.url,
    UPS2MQTT_MQTT_USERNAME: login.username,
    UPS2MQTT_MQTT_PASSWORD: login.password,
    UPS2MQTT_POLL_INTERVAL: '0.5',
    UPS2MQTT_COMMANDS_ALLOW: 'load.off',
    UPS2MQTT_LOG_LEVEL: 'trace',
  });
  let broker: MosquittoHandle;
  let rec: MqttRecording;
  let client: MqttClient;
  const bridges: BridgeUnderTest[] = [];
  let bridge: BridgeUnderTest;
  let baseline: ResourceSnapshot;

  const connect = (): Promise<MqttClient> =>
    mqtt.connectAsync(
      broker.url,
      {
        ...login,
        protocolVersion: 5,
        reconnectPeriod: 0,
        clientId: `attacker-${randomBytes(4).toString('hex')}`,
      },
      false,
    );
  const startBridge = async (name: string): Promise<void> => {
    bridge = await BridgeUnderTest.start(registry, name, env(), [], {
      ringChars: KEEP_ALL_OUTPUT,
    });
    bridges.push(bridge);
  };
  /** The commands that reached the simulated UPS, in order, across every bridge run. */
  const executed = (): string[] =>
    bridges.flatMap((b) =>
      logLines(b.process)
        .filter((l) => l.msg === 'simulated UPS command')
        .map((l) => String(l.fields.command)),
    );
  /** Sends one command and waits for its answer (matched by a fresh transaction). */
  const roundTrip = async (name: string, extra: Record<string, unknown> = {}) => {
    const transaction = randomBytes(6).toString('hex');
    await client.publishAsync(`${CMD}/${name}`, JSON.stringify({ transaction, ...extra }), {
      qos: 1,
    });
    const m = await rec.waitFor(
      (r) => r.topic === `${CMD}/${name}/result` && json(r).transaction === transaction,
      15_000,
    );
    return json(m);
  };
  const latestState = async (pred: (s: Record<string, unknown>) => boolean) =>
    json(await rec.waitFor((m) => m.topic === STATE && pred(json(m)), 15_000));

  before(async () => {
    broker = await startMosquitto({ registry, auth: login });
    // Not the command topics themselves: the recorder would get the flood too.
    const topics = ['state', 'availability', 'event', 'command/+/result'];
    rec = await recordMqtt(
      broker.url,
      topics.map((t) => `ups2mqtt/abuse/${t}`),
      login,
    );
    registry.track(rec);
    client = await connect();
    registry.track({ stop: () => client.endAsync(true) });
    await startBridge('bridge-1');
    await rec.waitFor(
      (m) => m.topic === 'ups2mqtt/abuse/availability' && m.text === 'online',
      30_000,
    );
    await rec.waitFor((m) => m.topic === STATE, 10_000);
  });

  after(() => registry.stopAll());

  it('never runs a retained command, live or replayed to a restarted bridge', async () => {
    // Live: the bridge subscribes with Retain-As-Published, so it sees the flag.
    assert.equal((await roundTrip('arm')).code, 'armed');
    for (const name of ['load.off', 'simulate.power_fail']) {
      await client.publishAsync(`${CMD}/${name}`, 'PRESS', { qos: 1, retain: true });
      const r = await rec.waitFor((m) => m.topic === `${CMD}/${name}/result`, 10_000);
      assert.equal(json(r).code, 'retained');
    }
    assert.equal((await roundTrip('disarm')).code, 'disarmed');
    // A bridge started later gets both from the broker's store on subscribe.
    await bridge.process.stop();
    rec.clear();
    await startBridge('bridge-2');
    for (const name of ['load.off', 'simulate.power_fail']) {
      const r = await rec.waitFor((m) => m.topic === `${CMD}/${name}/result`, 30_000);
      assert.equal(json(r).code, 'retained', r.text);
    }
    for (const name of ['load.off', 'simulate.power_fail']) {
      await client.publishAsync(`${CMD}/${name}`, '', { qos: 1, retain: true }); // clear
    }
    const s = await latestState(() => true);
    assert.equal(s.on_battery, false);
    assert.equal(s.output_off, false);
    assert.deepEqual(executed(), []);
    baseline = await bridge.settledSnapshot();
  });

  it('wildcard-looking and odd topics under the command tree run nothing', async () => {
    // A PUBLISH to a topic with + or # is a protocol error: the broker drops the client.
    for (const topic of [
      `${CMD}/+`,
      `${CMD}/#`,
      `${CMD}/load.off/#`,
      'ups2mqtt/+/command/load.off',
    ]) {
      const c = await connect();
      await c.publishAsync(topic, 'PRESS', { qos: 0 }).catch(() => undefined);
      await c.endAsync(true);
    }
    const odd = [
      `${CMD}/`,
      `${CMD}/load.off/extra`,
      `${CMD}/LOAD.OFF`,
      `${CMD}/load.off `,
      `${CMD}/%2B`,
      `${CMD}/${'x'.repeat(10_000)}`,
      `${CMD}/\u00e9\u2603`,
    ];
    for (const topic of odd) await client.publishAsync(topic, 'PRESS', { qos: 1 });
    assert.equal((await roundTrip('beeper.enable')).code, 'done');
    const answers = rec.messages.filter(isResult).map((m) => [m.topic.length, json(m).code]);
    // Only the names without a '/' reach the router, each refused as unsupported.
    // (The previous test's clearing of its retained commands is answered `retained`.)
    assert.deepEqual(
      answers.filter(([, code]) => code !== 'done' && code !== 'retained').map(([, c]) => c),
      ['unsupported', 'unsupported', 'unsupported', 'unsupported', 'unsupported'],
    );
    assert.deepEqual(executed(), ['beeper.enable']);
  });

  it('1 MiB, binary, invalid UTF-8 and JSON bombs are refused unread or unparsed', async () => {
    await freshBudget();
    rec.clear();
    const nest = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const payloads: [Buffer | string, string][] = [
      [Buffer.alloc(MIB, 0x41), 'payload_too_large'],
      [randomBytes(MIB), 'payload_too_large'],
      [`{"transaction":"x","delay_s":${nest(200_000)}}`, 'payload_too_large'],
      [`[${'1,'.repeat(300_000)}1]`, 'payload_too_large'],
      [`{"transaction":${nest(500)}}`, 'bad_payload'],
      [Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xf0, 0x28, 0x8c, 0xbc]), 'bad_payload'],
      [randomBytes(512), 'bad_payload'],
      ['{"__proto__":{"delay_s":1},"transaction":"p"}', 'bad_payload'],
      ['{"delay_s":1e308}', 'bad_payload'],
      [`{"transaction":"${'t'.repeat(200)}"}`, 'bad_payload'],
      ['PRESS PRESS', 'bad_payload'],
      ['null', 'bad_payload'],
    ];
    for (const [payload] of payloads) {
      await client.publishAsync(`${CMD}/load.off`, payload, { qos: 1 });
      await client.publishAsync(`${CMD}/simulate.power_fail`, payload, { qos: 1 });
    }
    assert.equal((await roundTrip('test.panel.start')).code, 'done');
    const codes = rec.messages
      .filter((m) => isResult(m) && json(m).command !== 'test.panel.start')
      .map((m) => String(json(m).code));
    // Within the answer budget (24 refusals in about a second, 10 answered a second).
    assert.ok(codes.length >= Math.min(BUDGET, payloads.length * 2), codes.join());
    const expected = new Set(payloads.map(([, code]) => code));
    for (const code of codes) assert.ok(expected.has(code), code);
    assert.deepEqual(executed(), ['beeper.enable', 'test.panel.start']);
    assert.ok(bridge.process.running());
  });

  it('thousands of messages a second: one execution, answers within the budget', async (t) => {
    await freshBudget();
    rec.clear();
    const start = Date.now();
    const sent = { mute: 2000, unknown: 1000, arm: 1000 };
    for (let i = 0; i < sent.mute; i++) client.publish(`${CMD}/beeper.mute`, '', { qos: 0 });
    for (let i = 0; i < sent.unknown; i++) client.publish(`${CMD}/nope${i}`, '', { qos: 0 });
    for (let i = 0; i < sent.arm; i++) {
      client.publish(`${CMD}/${i % 2 === 0 ? 'arm' : 'disarm'}`, '', { qos: 0 });
    }
    await client.publishAsync(`${CMD}/disarm`, '', { qos: 1 });
    const sentMs = Date.now() - start;
    const last = await roundTrip('beeper.disable');
    assert.equal(last.code, 'done');
    const end = Date.now();
    const seconds = Math.ceil((end - start) / 1000) + 1;
    const results = rec.messages.filter(isResult);
    const events = rec.messages.filter((m) => m.topic === 'ups2mqtt/abuse/event');
    // The flood's window ends with one warning counting what went unanswered.
    const summary = await pollUntil(
      async () =>
        logLines(bridge.process).find(
          (l) => l.time >= start && l.msg.startsWith('command messages refused without an answer'),
        ),
      5000,
    );
    const refusedLines = lineRate(
      logLines(bridge.process).filter((l) => l.level >= WARN),
      start,
      end + 1000,
    );
    const total = sent.mute + sent.unknown + sent.arm + 1;
    const figures = {
      messages: total,
      sent_per_s: Math.round(total / (sentMs / 1000)),
      handled_in_ms: end - start,
      results: results.length,
      events: events.length,
      warn_lines: refusedLines.total,
      unanswered: summary.fields.unanswered,
      executions: executed().slice(2),
    };
    t.diagnostic(`mqtt-command-abuse flood ${JSON.stringify(figures)}`);
    assert.deepEqual(executed().slice(2), ['beeper.mute', 'beeper.disable']);
    // Two executions, plus at most the budget per second the flood lasted.
    assert.ok(results.length <= 2 + BUDGET * seconds, JSON.stringify(figures));
    assert.ok(events.length <= 2 + BUDGET * seconds, JSON.stringify(figures));
    assert.ok(refusedLines.total <= (BUDGET + 1) * seconds, JSON.stringify(figures));
  });

  it('a replayed command runs once: arming is used up, then the rate limit holds', async () => {
    await freshBudget();
    assert.equal((await roundTrip('arm')).code, 'armed');
    const payload = JSON.stringify({ transaction: 'replay' });
    await client.publishAsync(`${CMD}/load.off`, payload, { qos: 1 });
    const first = await rec.waitFor((m) => m.topic === `${CMD}/load.off/result`, 10_000);
    assert.equal(json(first).code, 'done');
    assert.equal((await latestState((s) => s.output_off === true)).output_off, true);
    rec.clear();
    await client.publishAsync(`${CMD}/load.off`, payload, { qos: 1 });
    const replay = await rec.waitFor((m) => m.topic === `${CMD}/load.off/result`, 10_000);
    assert.equal(json(replay).code, 'not_armed');
    assert.equal((await roundTrip('arm')).code, 'armed');
    assert.equal((await roundTrip('load.off')).code, 'rate_limited');
    assert.equal((await roundTrip('disarm')).code, 'disarmed');
    assert.equal((await roundTrip('load.on')).code, 'done');
    assert.deepEqual(executed().slice(4), ['load.off', 'load.on']);
  });

  it('still runs a valid command afterwards, and holds what it held before', async (t) => {
    assert.equal((await roundTrip('simulate.power_fail')).code, 'done');
    assert.equal((await latestState((s) => s.on_battery === true)).status, 'on_battery');
    assert.deepEqual(executed().slice(6), ['simulate.power_fail']);
    assert.ok(bridge.process.running(), bridge.process.output());
    const now = await bridge.settledSnapshot();
    t.diagnostic(`mqtt-command-abuse resources ${JSON.stringify(resourceFigures(baseline, now))}`);
    assert.deepEqual(resourceGrowth(baseline, now), []);
  });

  it('never printed the broker password (trace level, both runs)', async () => {
    await bridge.process.stop();
    for (const b of bridges) assertNoSecrets(b.process, [login.password]);
  });
});
