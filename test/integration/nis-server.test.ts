/**
 * The NIS server with real clients: the ups2mqtt CLI reads a simulated UPS and publishes to
 * a real mosquitto; Debian's `apcaccess` reads it over NIS, a real apcupsd in network-slave
 * mode follows a simulated power failure through it, and misbehaving clients cannot stop it
 * from serving others or publishing. Safety: the apcupsd runs with a private config whose
 * apccontrol only logs (test/helpers/apcupsd.ts); everything is on loopback.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createConnection, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { type ApcupsdHandle, nisRequest, nisStatus, startApcupsd } from '../helpers/apcupsd.ts';
import { freshDataDir } from '../helpers/data-dir.ts';
import { encodeNisFrame } from '../helpers/fake-nis-master.ts';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, type RecordedMessage, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { freePort, LOOPBACK, pollUntil } from '../helpers/ports.ts';
import { type ManagedProcess, ProcessRegistry } from '../helpers/process.ts';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const B = 'ups2mqtt/sim';
type State = Record<string, unknown>;
const json = (m: RecordedMessage): State => JSON.parse(m.text) as State;

/** apcaccess's printout as key → value (value after `: `, trailing blanks kept). */
function fieldsOf(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    out.set(line.slice(0, colon).trim(), line.slice(colon + 2));
  }
  return out;
}

const n = (v: unknown): number => v as number;
const sec = (iso: unknown): string => {
  // The state's ISO time as apcupsd prints it: `YYYY-MM-DD HH:MM:SS +ZZZZ  `.
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(
    String(iso),
  );
  assert.ok(m, `ISO time ${String(iso)}`);
  return `${m[1]} ${m[2]} ${m[3] === 'Z' ? '+0000' : m[3]?.replace(':', '')}  `;
};

/**
 * What each NIS record must say for a published state, written out independently of the
 * server's formatter (protocols: apcupsd 3.14.14 value formats). Undefined: not expected.
 */
const EXPECTED: Record<string, (s: State) => string | undefined> = {
  MODEL: (s) => s.model as string,
  STATUS: (s) =>
    `${s.trim ? 'TRIM ' : ''}${s.boost ? 'BOOST ' : ''}${s.online ? 'ONLINE ' : ''}${s.on_battery ? 'ONBATT ' : ''}${s.overload ? 'OVERLOAD ' : ''}${s.low_battery ? 'LOWBATT ' : ''}${s.replace_battery ? 'REPLACEBATT ' : ''}`,
  LINEV: (s) => `${n(s.input_voltage_v).toFixed(1)} Volts`,
  LOADPCT: (s) => `${n(s.load_pct).toFixed(1)} Percent`,
  LOADAPNT: (s) => `${n(s.load_apparent_pct).toFixed(1)} Percent`,
  BCHARGE: (s) => `${n(s.battery_charge_pct).toFixed(1)} Percent`,
  TIMELEFT: (s) => `${(n(s.runtime_s) / 60).toFixed(1)} Minutes`,
  OUTPUTV: (s) => `${n(s.output_voltage_v).toFixed(1)} Volts`,
  SENSE: (s) =>
    ({ high: 'High', medium: 'Medium', low: 'Low', auto: 'Auto Adjust' })[s.sensitivity as 'high'],
  DWAKE: (s) => `${s.wake_delay_s} Seconds`,
  DSHUTD: (s) => `${s.shutdown_delay_s} Seconds`,
  DLOWBATT: (s) => `${n(s.low_battery_warning_s) / 60} Minutes`,
  LOTRANS: (s) => `${n(s.transfer_low_v).toFixed(1)} Volts`,
  HITRANS: (s) => `${n(s.transfer_high_v).toFixed(1)} Volts`,
  RETPCT: (s) => `${n(s.restart_charge_pct).toFixed(1)} Percent`,
  ITEMP: (s) => `${n(s.internal_temp_c).toFixed(1)} C`,
  ALARMDEL: (s) => (s.alarm_mode === 'disabled' ? 'No alarm' : '30 Seconds'),
  BATTV: (s) => `${n(s.battery_voltage_v).toFixed(1)} Volts`,
  LINEFREQ: (s) => `${n(s.input_frequency_hz).toFixed(1)} Hz`,
  OUTCURNT: (s) => `${n(s.output_current_a).toFixed(2)} Amps`,
  LASTXFER: (s) => s.last_transfer_reason as string,
  NUMXFERS: (s) => String(s.transfers),
  XONBATT: (s) => (s.last_on_battery_at === undefined ? undefined : sec(s.last_on_battery_at)),
  TONBATT: (s) => `${s.time_on_battery_s} Seconds`,
  CUMONBATT: (s) => `${s.cumulative_on_battery_s} Seconds`,
  XOFFBATT: (s) => (s.last_off_battery_at === undefined ? undefined : sec(s.last_off_battery_at)),
  LASTSTEST: (s) => (s.last_self_test_at === undefined ? undefined : sec(s.last_self_test_at)),
  SELFTEST: (s) => ({ none: 'NO', passed: 'OK', in_progress: 'IP' })[s.self_test_result as 'none'],
  STATFLAG: (s) =>
    `0x${(0x05000000 | (s.online ? 0x08 : 0) | (s.on_battery ? 0x60010 : 0) | (s.low_battery ? 0x40 : 0) | (s.overload ? 0x20 : 0)).toString(16).toUpperCase().padStart(8, '0')}`,
  SERIALNO: (s) => s.serial_number as string,
  NOMOUTV: (s) => `${s.output_voltage_nominal_v} Volts`,
  NOMINV: (s) => `${s.input_voltage_nominal_v} Volts`,
  NOMBATTV: (s) => `${n(s.battery_voltage_nominal_v).toFixed(1)} Volts`,
  NOMPOWER: (s) => `${s.nominal_power_w} Watts`,
  NOMAPNT: (s) => `${s.nominal_apparent_power_va} VA`,
  FIRMWARE: (s) => s.firmware as string,
};

/** Records about the daemon (ups2mqtt here), checked on their own. */
const DAEMON = new Set([
  'APC',
  'DATE',
  'HOSTNAME',
  'VERSION',
  'UPSNAME',
  'UPSMODE',
  'STARTTIME',
  'END APC',
]);

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: LOOPBACK, port }, () => resolve(s));
    s.once('error', reject);
  });
}

function closedBy(s: Socket, timeoutMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('socket still open')), timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    };
    if (s.destroyed) done();
    else s.once('close', done);
  });
}

describe('NIS server with real clients', { timeout: 180_000 }, () => {
  const registry = new ProcessRegistry();
  let broker: MosquittoHandle;
  let rec: MqttRecording;
  let client: MqttClient;
  let bridge: ManagedProcess;
  let nisPort: number;
  let httpPort: number;

  before(async () => {
    broker = await startMosquitto({ registry });
    rec = await recordMqtt(broker.url, ['ups2mqtt/#']);
    registry.track(rec);
    client = await mqtt.connectAsync(broker.url);
    nisPort = await freePort();
    httpPort = await freePort();
    bridge = await registry.spawn('bridge', process.execPath, ['--import', 'tsx', MAIN], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        UPS2MQTT_SOURCE: 'sim://?serial=SIMNIS1&load_drift=0',
        UPS2MQTT_UPS_ID: 'sim',
        UPS2MQTT_MQTT_URL: broker.url,
        UPS2MQTT_DATA_DIR: freshDataDir(),
        UPS2MQTT_POLL_INTERVAL: '0.5',
        UPS2MQTT_LOG_FORMAT: 'json',
        UPS2MQTT_HTTP_PORT: String(httpPort),
        // The power failure is simulated twice within seconds.
        UPS2MQTT_COMMANDS_RATE_LIMIT: '0.1',
        UPS2MQTT_NIS_SERVER_ENABLED: 'true',
        UPS2MQTT_NIS_SERVER_PORT: String(nisPort),
      },
    });
    await rec.waitFor((m) => m.topic === `${B}/availability` && m.text === 'online', 20_000);
    await bridge.waitForOutput(/NIS server listening/, 10_000);
  });

  after(async () => {
    await client.endAsync();
    await registry.stopAll();
  });

  /** The published states whose reading time is `date` (NIS DATE), newest first. */
  function statesAt(date: string): State[] {
    return rec.messages
      .filter((m) => m.topic === `${B}/state`)
      .map(json)
      .filter((s) => sec(s.updated_at) === date)
      .reverse();
  }

  /** apcaccess output checked against the MQTT state of the same reading. */
  async function apcaccessMatchesMqtt(): Promise<Map<string, string>> {
    const { stdout } = await run('apcaccess', ['-h', `${LOOPBACK}:${nisPort}`, 'status']);
    const got = fieldsOf(stdout);
    const date = got.get('DATE') ?? '';
    // The NIS reply describes the last published state: find it by its reading time.
    const candidates = await pollUntil(
      async () => (statesAt(date).length > 0 ? statesAt(date) : undefined),
      5_000,
      { intervalMs: 20, what: `MQTT state of ${date}` },
    );
    const mismatches: string[][] = [];
    const state = candidates.find((s) => {
      const diff: string[] = [];
      for (const [key, value] of got) {
        if (DAEMON.has(key)) continue;
        const expect = EXPECTED[key];
        if (expect === undefined) diff.push(`${key}: not expected (${value})`);
        else if (expect(s) !== value)
          diff.push(`${key}: ${JSON.stringify(value)} ≠ ${JSON.stringify(expect(s))}`);
      }
      for (const [key, expect] of Object.entries(EXPECTED)) {
        if (!got.has(key) && expect(s) !== undefined && !/undefined|NaN/.test(String(expect(s)))) {
          diff.push(`${key}: missing (state says ${JSON.stringify(expect(s))})`);
        }
      }
      mismatches.push(diff);
      return diff.length === 0;
    });
    assert.ok(
      state,
      `apcaccess differs from every MQTT state of ${date}:\n${mismatches.map((d) => d.join('\n')).join('\n--\n')}\n${stdout}`,
    );
    return got;
  }

  it('apcaccess prints a complete status equal to the MQTT state, field by field', async () => {
    const got = await apcaccessMatchesMqtt();
    assert.equal(got.get('STATUS'), 'ONLINE ');
    assert.equal(got.get('UPSNAME'), 'sim');
    assert.equal(got.get('SERIALNO'), 'SIMNIS1');
    assert.match(got.get('VERSION') ?? '', /^3\.14\.14 \(ups2mqtt \d+\.\d+\.\d+\S*\) linux$/);
    assert.match(got.get('END APC') ?? '', /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4} {2}$/);
    assert.ok(got.size >= 35, `a complete status (${got.size} records)`);
    // apcaccess -p / -u read single fields exactly as from apcupsd.
    const { stdout: bcharge } = await run('apcaccess', [
      '-h',
      `${LOOPBACK}:${nisPort}`,
      '-p',
      'BCHARGE',
      '-u',
    ]);
    assert.match(bcharge, /^\d+\.\d\n$/);
  });

  it('a real apcupsd slave follows a simulated power failure to ONBATT and back to ONLINE', async () => {
    const apc: ApcupsdHandle = await startApcupsd({ masterPort: nisPort, registry });
    const slaveStatus = async (): Promise<string | undefined> =>
      (await nisStatus(apc.nisPort)).get('STATUS');
    await pollUntil(
      async () => ((await slaveStatus()) === 'ONLINE SLAVE ' ? true : undefined),
      15_000,
      {
        intervalMs: 200,
        what: 'slave ONLINE',
      },
    );
    const before = await nisStatus(apc.nisPort);
    assert.equal(before.get('MODEL'), 'Smart-UPS 1500 (simulated)');
    assert.equal(before.get('DRIVER'), 'NETWORK UPS Driver');

    await client.publishAsync(`${B}/command/simulate.power_fail`, '{}', { qos: 1 });
    await rec.waitFor((m) => m.topic === `${B}/state` && json(m).on_battery === true, 5_000);
    const t0 = Date.now();
    await pollUntil(
      async () => ((await slaveStatus())?.startsWith('ONBATT') ? true : undefined),
      20_000,
      {
        intervalMs: 200,
        what: 'slave ONBATT',
      },
    );
    const followMs = Date.now() - t0;
    // The slave ran its (log-only) on-battery action, as it would for its own UPS.
    await pollUntil(
      async () =>
        (await apc.apccontrolCalls()).some((c) => c.startsWith('onbattery')) ? true : undefined,
      10_000,
      {
        intervalMs: 200,
        what: 'apccontrol onbattery',
      },
    );
    assert.match((await nisStatus(apc.nisPort)).get('STATFLAG') ?? '', /^0x0[0-9A-F]{5}1[0-9A-F]$/);

    await client.publishAsync(`${B}/command/simulate.power_restore`, '{}', { qos: 1 });
    await pollUntil(
      async () => ((await slaveStatus()) === 'ONLINE SLAVE ' ? true : undefined),
      20_000,
      {
        intervalMs: 200,
        what: 'slave back ONLINE',
      },
    );
    // apcupsd calls `offbattery` first and `mainsback` a moment later: wait for it.
    await pollUntil(
      async () =>
        (await apc.apccontrolCalls()).some((c) => c.startsWith('mainsback')) ? true : undefined,
      10_000,
      { intervalMs: 200, what: 'apccontrol mainsback' },
    );
    const calls = await apc.apccontrolCalls();
    assert.ok(!calls.some((c) => /^(doshutdown|killpower)/.test(c)), 'the slave never shut down');
    // The events command serves the bridge's own power events in apcupsd's format.
    const events = await nisRequest(nisPort, 'events');
    assert.ok(
      events.some((l) =>
        /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4} {2}Power failure\.\n$/.test(l),
      ),
      events.join(''),
    );
    assert.ok(
      events.some((l) => l.endsWith('  Power is back. UPS running on mains.\n')),
      events.join(''),
    );
    console.log(`apcupsd slave showed ONBATT ${followMs} ms after the MQTT state did`);
    await apc.stop();
  });

  it('misbehaving clients: garbage, huge lengths, a non-reader, too many, idle — others and MQTT go on', async () => {
    const idle = await open(nisPort);
    const idleClosed = closedBy(idle, 20_000);

    const garbage = await open(nisPort);
    garbage.write(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x13, 0x37]));
    await closedBy(garbage, 5_000);

    const huge = await open(nisPort);
    huge.write(Buffer.from([0xff, 0xff, 0x41]));
    await closedBy(huge, 5_000);

    const hog = await open(nisPort);
    hog.on('error', () => {});
    hog.pause();
    const flood = Buffer.concat(Array(50_000).fill(encodeNisFrame('status')));
    hog.write(flood);
    // A paused socket sees no 'close': the bridge's log says when it cut the client off.
    await bridge.waitForOutput(/client does not read its replies: disconnected/, 20_000);
    hog.destroy();

    // 32 clients are served at once; the 33rd is closed, the others keep working.
    const crowd = await Promise.all(Array.from({ length: 31 }, () => open(nisPort)));
    const extra = await open(nisPort);
    await closedBy(extra, 5_000);
    for (const s of crowd) s.destroy();

    // Meanwhile: apcaccess is answered, and MQTT still gets the UPS's changes.
    await pollUntil(
      async () => {
        try {
          return (await run('apcaccess', ['-h', `${LOOPBACK}:${nisPort}`, '-p', 'STATUS'])).stdout;
        } catch {
          return undefined; // a crowd member may still be closing
        }
      },
      5_000,
      { intervalMs: 100, what: 'apcaccess after the crowd' },
    );
    const mark = rec.messages.length;
    await client.publishAsync(`${B}/command/simulate.power_fail`, '{}', { qos: 1 });
    await rec.waitFor(
      (m) =>
        rec.messages.indexOf(m) >= mark && m.topic === `${B}/state` && json(m).on_battery === true,
      5_000,
    );
    await client.publishAsync(`${B}/command/simulate.power_restore`, '{}', { qos: 1 });
    await rec.waitFor(
      (m) => rec.messages.indexOf(m) >= mark && m.topic === `${B}/state` && json(m).online === true,
      5_000,
    );
    await apcaccessMatchesMqtt();

    const idleMs = await idleClosed;
    assert.ok(idleMs > 10_000, `idle client closed after ${idleMs} ms (15 s, as apcupsd)`);
    assert.ok(bridge.running(), 'the bridge runs on');

    const metrics = await (await fetch(`http://${LOOPBACK}:${httpPort}/metrics`)).text();
    const counter = (name: string): number =>
      Number(
        new RegExp(`^${name}\\{server="nis",port="${nisPort}"\\} (\\d+)$`, 'm').exec(metrics)?.[1],
      );
    assert.ok(counter('ups2mqtt_server_connections_total') >= 37, metrics);
    assert.ok(counter('ups2mqtt_server_rejected_connections_total') >= 1);
    assert.ok(counter('ups2mqtt_server_requests_total') >= 3);
    const logs = bridge.output();
    assert.match(logs, /too many clients: connection closed/);
    assert.match(logs, /client does not read its replies: disconnected/);
  });

  it('a NIS port that cannot be bound stops the start with a clear error (exit 78)', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, LOOPBACK, resolve));
    const address = taken.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const proc = await registry.spawn(
        'bridge-taken',
        process.execPath,
        ['--import', 'tsx', MAIN],
        {
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            UPS2MQTT_SOURCE: 'sim://',
            UPS2MQTT_MQTT_URL: broker.url,
            UPS2MQTT_DATA_DIR: freshDataDir(),
            UPS2MQTT_LOG_FORMAT: 'json',
            UPS2MQTT_HTTP_ENABLED: 'false',
            UPS2MQTT_NIS_SERVER_ENABLED: 'true',
            UPS2MQTT_NIS_SERVER_PORT: String(port),
          },
        },
      );
      const exit = await proc.exited;
      assert.equal(exit.code, 78, proc.output());
      assert.match(
        proc.output(),
        new RegExp(
          `ups2mqtt: cannot start: the NIS server cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`,
        ),
      );
    } finally {
      taken.close();
    }
  });
});
