/**
 * End to end against the real NUT: Debian's upsd 2.8.0 and dummy-ups replaying every dump of
 * test/fixtures/nut → the `nut://` source (in process, `ups2mqtt status`, and the bridge as a
 * child process) → a real mosquitto → a subscriber. Asserts exact states, the plug pulled
 * (on battery within two polls), the driver and upsd going away and coming back by
 * themselves, and what upsd does with an instant command for the user with and without the
 * right.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import pino from 'pino';
import { systemClock } from '../../src/core/clock.ts';
import type { UpsData } from '../../src/core/state.ts';
import { OUTAGE_KEYS } from '../../src/policy/outages.ts';
import { mapNutVars } from '../../src/sources/nut/map.ts';
import { parseUpscDump } from '../../src/sources/nut/parse.ts';
import { NutClientRegistry } from '../../src/sources/nut/registry.ts';
import { createNutSource } from '../../src/sources/nut/source.ts';
import { parseSourceUri } from '../../src/sources/uri.ts';
import { freshDataDir } from '../helpers/data-dir.ts';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, type RecordedMessage, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { NUT_USERS, type NutHandle, startNut } from '../helpers/nut.ts';
import { pollUntil } from '../helpers/ports.ts';
import { type ManagedProcess, ProcessRegistry } from '../helpers/process.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/nut/', import.meta.url));
const POLL_MS = 1000;

/** upsd name → fixture dump. */
const DUMPS: Record<string, string> = {
  es: 'APC__Back-UPS_ES_850G2__usbhid-ups__2.8.0__01.dev',
  smart1500: 'APC__Smart-UPS_1500__apcsmart__2.2.1__01.dev',
  smt750: 'APC__Smart-UPS_750__apc_modbus__2.8.2__01.dev',
  smx750: 'APC__Smart-UPS_X_750__usbhid-ups__2.7.4__01.dev',
};
const dump = (name: string): string => readFileSync(join(FIXTURES, DUMPS[name] ?? ''), 'utf8');

/**
 * What the real upsd serves differs from the file in known ways (docs/protocols/nut.md,
 * "dummy-ups"): driver.name is dummy-ups, driver.version its own, trailing blanks are gone
 * and ups.serial is copied into device.serial. The file's mapping (pinned value by value in
 * test/unit/nut/map-fixtures.test.ts) with exactly those differences is the expected state.
 */
function expected(name: string): UpsData {
  const data = mapNutVars(parseUpscDump(dump(name))).data;
  const served: UpsData = { ...data, driver: 'dummy-ups', daemon_version: '2.8.0' };
  if (name === 'es') served.serial_number = '5B2250T07387';
  return served;
}

/**
 * `status --json` also carries the bridge's self-test lifecycle, as the first state message
 * does: `passed` after a reported pass, else `idle`.
 */
const STATUS_SELF_TEST: Record<string, string | undefined> = {
  es: 'idle',
  smart1500: 'idle',
  smt750: 'passed',
  smx750: 'idle',
};
function statusExpected(name: string): UpsData & { self_test_state?: string } {
  const state = STATUS_SELF_TEST[name];
  return state === undefined ? expected(name) : { ...expected(name), self_test_state: state };
}

const json = (m: RecordedMessage): Record<string, unknown> =>
  JSON.parse(m.text) as Record<string, unknown>;

function withoutTime(state: Record<string, unknown>): Record<string, unknown> {
  const { updated_at: _u, status: _s, ...rest } = state;
  return rest;
}

/** The keys the bridge's outage and energy extensions add (src/policy), not the source. */
const EXTENSION_KEYS: readonly string[] = [...OUTAGE_KEYS, 'energy_kwh'];

/** The source's part of a published state: no time, status or extension keys. */
function sourcePart(state: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(withoutTime(state)).filter(([k]) => !EXTENSION_KEYS.includes(k)),
  );
}

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, ...args],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('nut:// against the real upsd and dummy-ups', { timeout: 90_000 }, () => {
  const registry = new ProcessRegistry();
  let nut: NutHandle;
  let broker: MosquittoHandle;
  let rec: MqttRecording;
  let bridge: ManagedProcess;
  const admin = `${NUT_USERS.admin.user}:${encodeURIComponent(NUT_USERS.admin.password)}`;
  const viewer = `${NUT_USERS.viewer.user}:${NUT_USERS.viewer.password}`;
  const topic = (id: string, leaf: string): string => `ups2mqtt/${id}/${leaf}`;

  before(async () => {
    [nut, broker] = await Promise.all([
      startNut({
        upses: Object.keys(DUMPS).map((name) => ({ name, dev: dump(name) })),
        registry,
      }),
      startMosquitto({ registry }),
    ]);
    rec = await recordMqtt(broker.url, ['ups2mqtt/#', 'homeassistant/#']);
    registry.track(rec);
  });

  after(async () => {
    await registry.stopAll();
  });

  it('reads every dump through upsd: exact states, one connection for all', async () => {
    const reg = new NutClientRegistry({ timeoutMs: 2000 }, pino({ level: 'silent' }), systemClock);
    const sources = Object.keys(DUMPS).map((name) =>
      createNutSource(parseSourceUri(`nut://127.0.0.1:${nut.port}/${name}`) as never, {
        registry: reg,
        knownCommands: new Set(['load.off']),
        logger: pino({ level: 'silent' }),
        clock: systemClock,
      }),
    );
    for (const [i, name] of Object.keys(DUMPS).entries()) {
      const reading = await (sources[i] as (typeof sources)[number]).read(
        AbortSignal.timeout(3000),
      );
      assert.deepEqual(reading.data, expected(name), name);
      assert.equal(reading.nativeEvents, false);
      assert.equal(reading.unknown?.['driver.parameter.mode'], 'dummy-once');
    }
    // Spot checks in plain numbers, so the expectation above cannot drift with the mapping.
    const es = expected('es');
    assert.equal(es.battery_charge_pct, 100);
    assert.equal(es.runtime_s, 1572);
    assert.equal(es.load_w, 93.6, '18 % of 520 W');
    assert.equal(expected('smart1500').load_pct, 4.5);
    assert.equal(expected('smt750').load_w, 25.94);
    assert.equal(expected('smx750').charging, true);
    // dummy-ups 2.8.0 offers load.off for every UPS.
    assert.deepEqual(sources[0]?.capabilities().commands, ['load.off']);
    for (const s of sources) await s.close();
  });

  it('status --source prints the state like upsc; a refusal never shows the password', async () => {
    const ok = await runCli(['status', '--source', `nut://127.0.0.1:${nut.port}/smt750`, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const state = JSON.parse(ok.stdout) as Record<string, unknown>;
    assert.equal(state.status, 'online');
    assert.deepEqual(withoutTime(state), statusExpected('smt750'));

    const bad = await runCli([
      'status',
      '--source',
      `nut://${admin}@127.0.0.1:${nut.port}/nope`,
      '--json',
    ]);
    assert.equal(bad.code, 1);
    assert.equal(
      bad.stderr,
      `ups2mqtt: cannot read nut://admin:***@127.0.0.1:${nut.port}/nope: upsd serves no UPS of that name (ERR UNKNOWN-UPS) [UPS_UNKNOWN]\n`,
    );
    assert.doesNotMatch(bad.stderr + bad.stdout, /s3cret/);

    // nut://host: every UPS upsd lists, keyed by its upsd name.
    const all = await runCli(['status', '--source', `nut://127.0.0.1:${nut.port}`, '--json']);
    assert.equal(all.code, 0, all.stderr);
    const states = JSON.parse(all.stdout) as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(states), Object.keys(DUMPS));
    for (const name of Object.keys(DUMPS)) {
      assert.deepEqual(withoutTime(states[name] ?? {}), statusExpected(name), name);
    }
  });

  it('the bridge serves every UPS of upsd (nut://host), each with its upsd name as id', async () => {
    bridge = await registry.spawn('bridge', process.execPath, ['--import', 'tsx', MAIN, 'run'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        UPS2MQTT_UPSES: JSON.stringify([
          { source: `nut://${admin}@127.0.0.1:${nut.port}` },
          { id: 'smx750_viewer', source: `nut://${viewer}@127.0.0.1:${nut.port}/smx750` },
        ]),
        UPS2MQTT_MQTT_URL: broker.url,
        UPS2MQTT_MQTT_RECONNECT_PERIOD: '0.5',
        UPS2MQTT_POLL_INTERVAL: String(POLL_MS / 1000),
        UPS2MQTT_COMMANDS_ALLOW: 'load.off',
        UPS2MQTT_LOG_FORMAT: 'json',
        UPS2MQTT_LOG_LEVEL: 'debug',
        UPS2MQTT_HTTP_ENABLED: 'false',
        UPS2MQTT_DATA_DIR: freshDataDir(),
      },
    });
    for (const id of ['es', 'smart1500', 'smt750', 'smx750_viewer']) {
      await rec.waitFor(
        (m) => m.topic === topic(id, 'availability') && m.text === 'online',
        20_000,
      );
    }
    const state = json(await rec.waitFor((m) => m.topic === topic('es', 'state'), 5000));
    assert.equal(state.status, 'online');
    assert.deepEqual(sourcePart(state), { ...expected('es'), self_test_state: 'idle' });
    // The bridge's own extensions work on a NUT UPS as on any other (fresh data_dir).
    assert.equal(state.outages_total, 0);
    assert.equal(state.energy_kwh, 0);
    assert.equal((await rec.retained(topic('es', 'state')))?.retain, true);
    // smx750 is named by its own entry (viewer), so the wildcard leaves it out.
    assert.equal(
      rec.messages.some((m) => m.topic === topic('smx750', 'availability')),
      false,
    );
    const discovery = await rec.waitFor(
      (m) => m.topic === 'homeassistant/device/ups2mqtt_es/config' && m.retain,
      5000,
    );
    // The device is identified by the UPS's serial, the topics by the upsd name.
    assert.deepEqual((json(discovery) as { dev: { ids: string[] } }).dev.ids, [
      'ups2mqtt_5b2250t07387',
    ]);
    const cmps = (json(discovery) as { cmps: Record<string, { p: string }> }).cmps;
    assert.equal(cmps.cmd_load_off?.p, 'button');
    assert.equal(cmps.cmd_arm?.p, 'button');
  });

  async function command(id: string, name: string): Promise<Record<string, unknown>> {
    const client = await mqtt.connectAsync(broker.url);
    try {
      const resultTopic = topic(id, `command/${name}/result`);
      const since = rec.messages.length;
      await client.publishAsync(topic(id, `command/${name}`), '', { qos: 1 });
      const m = await rec.waitFor(
        (x) => x.topic === resultTopic && rec.messages.indexOf(x) >= since,
        10_000,
      );
      return json(m);
    } finally {
      await client.endAsync();
    }
  }

  it('a command reaches upsd; dummy-ups does not carry it out, and the result says so', async () => {
    assert.equal((await command('es', 'arm')).code, 'armed');
    const result = await command('es', 'load.off');
    assert.deepEqual(result, {
      status: 'error',
      command: 'load.off',
      code: 'failed',
      message:
        'the driver did not carry out the command (unknown to it, or it gave no answer) (ERR UNKNOWN)',
    });
    // upsd accepted it from the admin user and passed it to the driver, which refused it.
    await pollUntil(
      async () =>
        /Instant command: admin@127\.0\.0\.1 did load\.off on es/.test(nut.upsdOutput())
          ? true
          : undefined,
      5000,
      { what: 'upsd logging the INSTCMD' },
    );
    assert.match(nut.driverOutput('es'), /instcmd: unknown command \[load\.off\]/);
    const event = json(
      await rec.waitFor(
        (m) => m.topic === topic('es', 'event') && json(m).event_type === 'command_refused',
        5000,
      ),
    );
    assert.equal(event.command, 'load.off');
    assert.equal(event.code, 'failed');
  });

  it('a user without instcmds gets a clear refusal', async () => {
    assert.equal((await command('smx750_viewer', 'arm')).code, 'armed');
    const result = await command('smx750_viewer', 'load.off');
    assert.equal(result.status, 'error');
    assert.equal(result.code, 'failed');
    assert.equal(
      result.message,
      'upsd refused: wrong user or password, or the user lacks the right (instcmds in upsd.users) (ERR ACCESS-DENIED)',
    );
    assert.doesNotMatch(nut.upsdOutput(), /did load\.off on smx750/);
  });

  it('pulling the plug: on battery within two polls of upsd seeing it', async () => {
    const since = rec.messages.length;
    await nut.writeDev(
      'es',
      dump('es')
        .replace(/^ups\.status: OL$/m, 'ups.status: OB DISCHRG')
        .replace(/^battery\.charge: 100$/m, 'battery.charge: 93'),
    );
    const seenAt = await pollUntil(
      async () =>
        (await nut.ask('GET VAR es ups.status'))[0] === 'VAR es ups.status "OB DISCHRG"'
          ? Date.now()
          : undefined,
      10_000,
      { intervalMs: 20, what: 'upsd serving OB DISCHRG' },
    );
    const m = await rec.waitFor(
      (x) =>
        rec.messages.indexOf(x) >= since &&
        x.topic === topic('es', 'state') &&
        json(x).on_battery === true,
      10_000,
    );
    const state = json(m);
    assert.equal(state.status, 'on_battery');
    assert.equal(state.battery_charge_pct, 93);
    assert.equal(state.discharging, true);
    assert.equal(state.online, false);
    // dummy-ups copies ups.serial into device.serial when it starts, but takes the file's
    // device.serial when it reads the file again: the state follows what upsd serves.
    assert.deepEqual(await nut.ask('GET VAR es device.serial'), [
      'VAR es device.serial "5B2250T99999"',
    ]);
    assert.equal(state.serial_number, '5B2250T99999');
    assert.ok(
      m.receivedAt - seenAt <= 2 * POLL_MS,
      `published ${m.receivedAt - seenAt} ms after upsd served it`,
    );
    const lost = json(
      await rec.waitFor(
        (x) =>
          rec.messages.indexOf(x) >= since &&
          x.topic === topic('es', 'event') &&
          json(x).event_type === 'power_lost',
        5000,
      ),
    );
    assert.equal(lost.origin, 'state_change');
  });

  it('the driver gone (DRIVER-NOT-CONNECTED): unavailable and comm lost, back by itself', async () => {
    let since = rec.messages.length;
    const after_ = (x: RecordedMessage): boolean => rec.messages.indexOf(x) >= since;
    await nut.stopDriver('es');
    await rec.waitFor(
      (x) => after_(x) && x.topic === topic('es', 'availability') && x.text === 'offline',
      3 * POLL_MS + 2000,
    );
    const reduced = json(
      await rec.waitFor((x) => after_(x) && x.topic === topic('es', 'state'), 3000),
    );
    // The outage that began when the plug was pulled is still open, with its lowest charge.
    assert.equal(reduced.outages_total, 1);
    assert.equal(reduced.last_outage_min_charge_pct, 93);
    assert.match(String(reduced.last_outage_started_at), /^\d{4}-\d\d-\d\dT/);
    assert.equal(reduced.last_outage_ended_at, undefined);
    assert.deepEqual(sourcePart(reduced), {
      comm_lost: true,
      model: 'Back-UPS ES 850G2',
      serial_number: '5B2250T99999',
      manufacturer: 'American Power Conversion',
      firmware: '938.a2 .I',
    });
    assert.equal(reduced.status, 'comm_lost');
    await rec.waitFor(
      (x) => after_(x) && x.topic === topic('es', 'event') && json(x).event_type === 'comm_lost',
      3000,
    );
    // The other UPSes of that upsd are read as before.
    assert.equal((await rec.retained(topic('smt750', 'availability')))?.text, 'online');

    since = rec.messages.length;
    await nut.startDriver('es');
    await rec.waitFor(
      (x) => after_(x) && x.topic === topic('es', 'availability') && x.text === 'online',
      15_000,
    );
    const back = json(
      await rec.waitFor((x) => after_(x) && x.topic === topic('es', 'state'), 3000),
    );
    assert.equal(back.status, 'on_battery');
    await rec.waitFor(
      (x) =>
        after_(x) && x.topic === topic('es', 'event') && json(x).event_type === 'comm_restored',
      3000,
    );
  });

  it('upsd gone: every UPS unavailable; back by itself when upsd returns', async () => {
    let since = rec.messages.length;
    const after_ = (x: RecordedMessage): boolean => rec.messages.indexOf(x) >= since;
    await nut.stopUpsd();
    for (const id of ['es', 'smt750', 'smx750_viewer']) {
      await rec.waitFor(
        (x) => after_(x) && x.topic === topic(id, 'availability') && x.text === 'offline',
        4 * POLL_MS + 2000,
      );
    }
    since = rec.messages.length;
    await nut.startUpsd();
    for (const id of ['es', 'smart1500', 'smt750', 'smx750_viewer']) {
      await rec.waitFor(
        (x) => after_(x) && x.topic === topic(id, 'availability') && x.text === 'online',
        15_000,
      );
    }
  });

  it('never logs a NUT password', () => {
    const out = bridge.output();
    assert.match(out, /"msg":"ups2mqtt started"/);
    assert.doesNotMatch(out, /s3cret/);
    assert.doesNotMatch(out, /v1ewer-pw/);
  });
});
