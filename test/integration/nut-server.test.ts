/**
 * The upsd-compatible NUT server against NUT's own clients (Debian's nut-client 2.8.0,
 * unpacked by scripts/ensure-nut.sh): `upsc` reads what MQTT publishes, `upscmd` runs a
 * self-test through the command framework, and a secondary `upsmon` follows ONBATT and
 * shuts "its host" down on FSD — through a marker-file script only, never for real.
 */
import * as assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { UpsEvent } from '../../src/core/events.ts';
import type { Logger } from '../../src/core/log.ts';
import type { UpsFeed } from '../../src/core/ports.ts';
import type { UpsState } from '../../src/core/state.ts';
import { NutServer } from '../../src/servers/nut/server.ts';
import { freshDataDir } from '../helpers/data-dir.ts';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { freePort, pollUntil } from '../helpers/ports.ts';
import { type ManagedProcess, ProcessRegistry } from '../helpers/process.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../../scripts/ensure-nut.sh', import.meta.url));
const NUT_ROOT =
  execFileSync('bash', [SCRIPT], { encoding: 'utf8' }).trim().split('\n').at(-1) ?? '';
const NUT_ENV = { LD_LIBRARY_PATH: join(NUT_ROOT, 'lib/x86_64-linux-gnu'), PATH: process.env.PATH };
const B = 'ups2mqtt/sim';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one of NUT's client programs and returns its exit code and output. */
function nutClient(program: 'upsc' | 'upscmd', args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      join(NUT_ROOT, 'bin', program),
      args,
      { env: NUT_ENV, timeout: 15_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `upsc` output as a map. */
function parseUpsc(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const i = line.indexOf(': ');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 2));
  }
  return out;
}

/** A private upsmon (secondary) whose NOTIFYCMD and SHUTDOWNCMD only append to a marker. */
interface Upsmon {
  dir: string;
  marker: string;
  proc: ManagedProcess;
  lines(): string[];
}

async function startUpsmon(
  registry: ProcessRegistry,
  monitor: string,
  user: string,
  password: string,
): Promise<Upsmon> {
  // A real upsmon elsewhere on this machine would share NUT's compiled-in PID file.
  assert.ok(!existsSync('/run/nut/upsmon.pid'), 'a real upsmon runs on this machine');
  const dir = mkdtempSync(join(tmpdir(), 'ups2mqtt-upsmon-'));
  const marker = join(dir, 'marker.log');
  const notify = join(dir, 'notify.sh');
  const shutdown = join(dir, 'shutdown.sh');
  writeFileSync(notify, `#!/bin/sh\necho "NOTIFY $NOTIFYTYPE" >> "${marker}"\n`, { mode: 0o700 });
  writeFileSync(shutdown, `#!/bin/sh\necho "SHUTDOWNCMD" >> "${marker}"\n`, { mode: 0o700 });
  const conf = [
    `MONITOR ${monitor} 1 ${user} ${password} secondary`,
    'MINSUPPLIES 1',
    `SHUTDOWNCMD "${shutdown}"`,
    `NOTIFYCMD "${notify}"`,
    ...['ONLINE', 'ONBATT', 'LOWBATT', 'FSD', 'COMMOK', 'COMMBAD', 'SHUTDOWN'].map(
      (t) => `NOTIFYFLAG ${t} SYSLOG+EXEC`,
    ),
    'POLLFREQ 1',
    'POLLFREQALERT 1',
    'DEADTIME 5',
    'HOSTSYNC 5',
    'FINALDELAY 0',
    `POWERDOWNFLAG ${join(dir, 'killpower')}`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'upsmon.conf'), conf, { mode: 0o600 });
  // Safety: the only shutdown this upsmon can run is the marker script.
  const written = readFileSync(join(dir, 'upsmon.conf'), 'utf8');
  assert.deepEqual(
    written.split('\n').filter((l) => l.startsWith('SHUTDOWNCMD')),
    [`SHUTDOWNCMD "${shutdown}"`],
  );
  assert.match(written, new RegExp(`^POWERDOWNFLAG ${dir}/killpower$`, 'm'));
  // -p: one privileged process (no `nut` user to drop to here); -D: foreground with debug.
  const proc = await registry.spawn('upsmon', join(NUT_ROOT, 'lib/nut/upsmon'), ['-D', '-p'], {
    env: { ...NUT_ENV, NUT_CONFPATH: dir, NUT_STATEPATH: dir, NUT_ALTPIDPATH: dir },
  });
  return {
    dir,
    marker,
    proc,
    lines: () => (existsSync(marker) ? readFileSync(marker, 'utf8').trim().split('\n') : []),
  };
}

/** Sends lines on one connection and returns everything received until it closes or settles. */
function exchange(port: number, lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    socket.on('data', (d) => {
      got += d.toString('latin1');
      if (got.split('\n').length > lines.length) socket.end();
    });
    socket.on('connect', () => socket.write(lines.map((l) => `${l}\n`).join('')));
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
  });
}

describe('NUT server with NUT clients, bridge on sim:// and a real broker', {
  timeout: 180_000,
}, () => {
  const registry = new ProcessRegistry();
  let broker: MosquittoHandle;
  let rec: MqttRecording;
  let port: number;
  let httpPort: number;
  let dir: string;

  before(async () => {
    broker = await startMosquitto({ registry });
    httpPort = await freePort();
    rec = await recordMqtt(broker.url, ['ups2mqtt/#']);
    registry.track(rec);
    port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'ups2mqtt-nut-server-'));
    const config = {
      upses: [
        { id: 'sim', source: 'sim://?serial=NUTSRV1&load_drift=0', poll_interval: 0.5 },
        { id: 'lost', source: 'sim://?serial=NUTLOST1&unreachable=true', poll_interval: 0.5 },
      ],
      mqtt: { url: broker.url },
      http: { enabled: true, port: httpPort },
      commands: { rate_limit: 60 },
      log: { format: 'json', level: 'debug' },
      nut_server: {
        enabled: true,
        port,
        users: [
          { name: 'admin', password: 'admin-secret', instcmds: ['all'], upsmon: 'primary' },
          { name: 'tester', password: 'tester-secret', instcmds: ['test.battery.start.quick'] },
          { name: 'beeper', password: 'beeper-secret', instcmds: ['beeper.enable'] },
          { name: 'mon', password: 'mon-secret', upsmon: 'secondary' },
        ],
      },
    };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    await registry.spawn(
      'bridge',
      process.execPath,
      ['--import', 'tsx', MAIN, '-c', join(dir, 'config.json')],
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, UPS2MQTT_DATA_DIR: freshDataDir() },
      },
    );
    await rec.waitFor((m) => m.topic === `${B}/availability` && m.text === 'online', 20_000);
  });

  after(async () => {
    await registry.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('upsc lists the UPSes and the values of the MQTT state, and nothing it does not have', async () => {
    const list = await nutClient('upsc', ['-l', `127.0.0.1:${port}`]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split('\n'), ['sim', 'lost']);

    const run = await nutClient('upsc', [`sim@127.0.0.1:${port}`]);
    assert.equal(run.code, 0, run.stderr);
    const vars = parseUpsc(run.stdout);
    assert.deepEqual(
      [...vars.keys()],
      [
        'battery.charge',
        'battery.charge.restart',
        'battery.runtime',
        'battery.runtime.low',
        'battery.voltage',
        'battery.voltage.nominal',
        'device.mfr',
        'device.model',
        'device.serial',
        'driver.name',
        'input.frequency',
        'input.sensitivity',
        'input.transfer.high',
        'input.transfer.low',
        'input.transfer.reason',
        'input.voltage',
        'input.voltage.nominal',
        'output.current',
        'output.frequency',
        'output.voltage',
        'output.voltage.nominal',
        'ups.delay.shutdown',
        'ups.delay.start',
        'ups.firmware',
        'ups.load',
        'ups.mfr',
        'ups.model',
        'ups.power.nominal',
        'ups.realpower.nominal',
        'ups.serial',
        'ups.status',
        'ups.temperature',
        'ups.test.result',
      ],
    );
    // Some published state (the sim's mains voltage has noise) has exactly these values.
    const pairs: [string, keyof UpsState][] = [
      ['battery.charge', 'battery_charge_pct'],
      ['battery.runtime', 'runtime_s'],
      ['battery.voltage', 'battery_voltage_v'],
      ['input.voltage', 'input_voltage_v'],
      ['input.frequency', 'input_frequency_hz'],
      ['output.voltage', 'output_voltage_v'],
      ['output.current', 'output_current_a'],
      ['ups.load', 'load_pct'],
      ['ups.temperature', 'internal_temp_c'],
      ['ups.realpower.nominal', 'nominal_power_w'],
      ['device.model', 'model'],
      ['device.serial', 'serial_number'],
      ['device.mfr', 'manufacturer'],
      ['ups.firmware', 'firmware'],
    ];
    const states = rec.messages
      .filter((m) => m.topic === `${B}/state`)
      .map((m) => JSON.parse(m.text) as UpsState);
    const match = states.find((s) => pairs.every(([v, k]) => vars.get(v) === String(s[k])));
    assert.ok(
      match,
      `no state matches upsc:\n${run.stdout}\nlast state: ${JSON.stringify(states.at(-1))}`,
    );
    assert.equal(vars.get('device.serial'), 'NUTSRV1');
    assert.equal(vars.get('ups.status'), 'OL');
    assert.equal(match.online, true);
    assert.equal(vars.get('driver.name'), 'ups2mqtt');
    assert.equal(vars.get('ups.test.result'), 'No test initiated');
  });

  it('an unreachable UPS is DATA-STALE for upsc, as upsd serves a stale driver', async () => {
    const run = await nutClient('upsc', [`lost@127.0.0.1:${port}`]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^Error: Data stale$/m);
    const unknown = await nutClient('upsc', [`nope@127.0.0.1:${port}`]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^Error: Unknown UPS$/m);
  });

  it('upscmd -l lists the commands the router enables (destructive ones only when allowed)', async () => {
    const run = await nutClient('upscmd', ['-l', `sim@127.0.0.1:${port}`]);
    assert.equal(run.code, 0, run.stderr);
    const cmds = run.stdout
      .split('\n')
      .filter((l) => l.includes(' - '))
      .map((l) => l.split(' - ')[0]);
    assert.ok(cmds.includes('test.battery.start.quick'));
    assert.ok(!cmds.includes('load.off'), 'load.off is not in commands.allow');
    assert.ok(!cmds.includes('shutdown.return'));
  });

  it('upscmd with a wrong password, or as a user without the command, is refused before the router', async () => {
    rec.clear();
    const wrong = await nutClient('upscmd', [
      '-u',
      'tester',
      '-p',
      'not-the-password',
      `sim@127.0.0.1:${port}`,
      'test.battery.start.quick',
    ]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^Unexpected response from upsd: ERR ACCESS-DENIED$/m);
    const other = await nutClient('upscmd', [
      '-u',
      'beeper',
      '-p',
      'beeper-secret',
      `sim@127.0.0.1:${port}`,
      'test.battery.start.quick',
    ]);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /^Unexpected response from upsd: ERR ACCESS-DENIED$/m);
    const notOffered = await nutClient('upscmd', [
      '-u',
      'admin',
      '-p',
      'admin-secret',
      `sim@127.0.0.1:${port}`,
      'load.off',
    ]);
    assert.equal(notOffered.code, 1);
    assert.match(notOffered.stderr, /^Unexpected response from upsd: ERR CMD-NOT-SUPPORTED$/m);
    // None of them reached the command router: no result, no event.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      rec.messages.filter((m) => m.topic.includes('/command/') || m.topic === `${B}/event`),
      [],
    );
  });

  it('upscmd test.battery.start.quick starts a self-test, seen on MQTT; the rate limit applies on top', async () => {
    rec.clear();
    const run = await nutClient('upscmd', [
      '-u',
      'tester',
      '-p',
      'tester-secret',
      `sim@127.0.0.1:${port}`,
      'test.battery.start.quick',
    ]);
    assert.equal(run.code, 0, run.stderr);
    // upscmd prints upsd's answer on stderr.
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^OK$/m);
    const result = await rec.waitFor(
      (m) => m.topic === `${B}/command/test.battery.start.quick/result`,
      5000,
    );
    assert.equal(result.retain, false);
    assert.deepEqual(JSON.parse(result.text), {
      status: 'ok',
      command: 'test.battery.start.quick',
      code: 'done',
      message: 'quick battery self-test started',
    });
    const event = await rec.waitFor(
      (m) =>
        m.topic === `${B}/event` &&
        (JSON.parse(m.text) as UpsEvent).event_type === 'command_executed',
      5000,
    );
    assert.equal((JSON.parse(event.text) as UpsEvent).command, 'test.battery.start.quick');
    await rec.waitFor(
      (m) =>
        m.topic === `${B}/state` && (JSON.parse(m.text) as UpsState).self_test_state === 'running',
      5000,
    );
    const during = await nutClient('upsc', [`sim@127.0.0.1:${port}`, 'ups.test.result']);
    assert.equal(during.stdout.trim(), 'In progress');

    // Within commands.rate_limit (60 s) the router refuses; NUT says INSTCMD-FAILED.
    const again = await nutClient('upscmd', [
      '-u',
      'tester',
      '-p',
      'tester-secret',
      `sim@127.0.0.1:${port}`,
      'test.battery.start.quick',
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^Unexpected response from upsd: ERR INSTCMD-FAILED$/m);
    const refused = await rec.waitFor(
      (m) =>
        m.topic === `${B}/command/test.battery.start.quick/result` &&
        (JSON.parse(m.text) as { code: string }).code === 'rate_limited',
      5000,
    );
    assert.equal((JSON.parse(refused.text) as { status: string }).status, 'error');
  });

  it('/metrics counts the NUT server connections and requests', async () => {
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    const value = (name: string): number => {
      const m = new RegExp(`^${name}\\{server="nut",port="${port}"\\} (\\d+)$`, 'm').exec(text);
      assert.ok(m, `${name} missing`);
      return Number(m[1]);
    };
    // upsc, upscmd and the probes above: well over ten connections and requests so far.
    assert.ok(value('ups2mqtt_server_connections_total') >= 10, text);
    assert.ok(value('ups2mqtt_server_requests_total') >= 20);
    assert.equal(value('ups2mqtt_server_rejected_connections_total'), 0);
  });

  it('a secondary upsmon runs NOTIFYCMD on ONBATT and its SHUTDOWNCMD when a primary sets FSD', async () => {
    const mon = await startUpsmon(registry, `sim@127.0.0.1:${port}`, 'mon', 'mon-secret');
    try {
      // upsmon logged in: upsd's NUMLOGINS counts it.
      await pollUntil(
        async () =>
          (await exchange(port, ['GET NUMLOGINS sim'])) === 'NUMLOGINS sim 1\n' ? true : undefined,
        10_000,
        { what: 'upsmon LOGIN' },
      );
      const fail = await nutClient('upscmd', [
        '-u',
        'admin',
        '-p',
        'admin-secret',
        `sim@127.0.0.1:${port}`,
        'simulate.power_fail',
      ]);
      assert.equal(fail.code, 0, fail.stderr);
      await pollUntil(
        async () => (mon.lines().includes('NOTIFY ONBATT') ? true : undefined),
        15_000,
        {
          what: 'NOTIFY ONBATT',
        },
      );
      assert.ok(!mon.lines().includes('SHUTDOWNCMD'), 'no shutdown before FSD');

      const fsd = await exchange(port, [
        'USERNAME admin',
        'PASSWORD admin-secret',
        'FSD sim',
        'GET VAR sim ups.status',
      ]);
      assert.equal(fsd, 'OK\nOK\nOK FSD-SET\nVAR sim ups.status "FSD OB DISCHRG"\n');
      // upsmon runs NOTIFYCMD in the background: wait for both lines, in any order.
      await pollUntil(
        async () =>
          mon.lines().includes('SHUTDOWNCMD') && mon.lines().includes('NOTIFY FSD')
            ? true
            : undefined,
        15_000,
        { what: 'SHUTDOWNCMD and NOTIFY FSD' },
      );
    } finally {
      await mon.proc.stop();
      rmSync(mon.dir, { recursive: true, force: true });
    }
  });
});

/** A UPS feed a test drives by hand. */
class FakeFeed implements UpsFeed {
  readonly name = 'Fake UPS';
  currentAvailability: 'online' | 'offline' | undefined = 'online';
  state: UpsState | undefined = {
    status: 'online',
    online: true,
    battery_charge_pct: 100,
    runtime_s: 1800,
    updated_at: '2026-12-03T12:00:00.000+00:00',
  };
  constructor(readonly id: string) {}
  onChange(): () => void {
    return () => {};
  }
  onEvent(): () => void {
    return () => {};
  }
}

const lines: string[] = [];
const quietLogger: Logger = {
  fatal: (...a: unknown[]) => lines.push(`fatal ${JSON.stringify(a)}`),
  error: (...a: unknown[]) => lines.push(`error ${JSON.stringify(a)}`),
  warn: (...a: unknown[]) => lines.push(`warn ${JSON.stringify(a)}`),
  info: () => {},
  debug: () => {},
  trace: () => {},
  child: () => quietLogger,
} as unknown as Logger;

describe('NUT server in process: ForcedShutdownNotifier and misbehaving clients', {
  timeout: 120_000,
}, () => {
  const registry = new ProcessRegistry();
  const feed = new FakeFeed('rack');
  let server: NutServer;
  let port: number;

  before(async () => {
    server = new NutServer(
      {
        host: '127.0.0.1',
        port: 0,
        version: '0.0.0-test',
        users: [{ name: 'mon', password: 'mon-secret', instcmds: [], upsmon: 'secondary' }],
        maxClients: 4,
        idleTimeoutMs: 1500,
        maxLineBytes: 512,
        maxPendingWriteBytes: 64 * 1024,
      },
      {
        feeds: () => [feed],
        commands: {
          enabledCommands: () => [],
          execute: () => Promise.reject(new Error('no commands here')),
        },
        commandTarget: () => undefined,
        logger: quietLogger,
      },
    );
    port = await server.start();
  });

  after(async () => {
    await registry.stopAll();
    await server.stop();
  });

  it('setForcedShutdown makes a logged-in secondary upsmon run its SHUTDOWNCMD', async () => {
    const mon = await startUpsmon(registry, `rack@127.0.0.1:${port}`, 'mon', 'mon-secret');
    try {
      await pollUntil(
        async () => (server.secondaryLogins('rack') === 1 ? true : undefined),
        10_000,
        {
          what: 'upsmon secondary LOGIN',
        },
      );
      assert.equal(server.secondaryLogins('other'), 0);
      server.setForcedShutdown('rack', true);
      assert.equal(
        await exchange(port, ['GET VAR rack ups.status']),
        'VAR rack ups.status "FSD OL"\n',
      );
      // upsmon runs NOTIFYCMD in the background: wait for both lines, in any order.
      await pollUntil(
        async () =>
          mon.lines().includes('SHUTDOWNCMD') && mon.lines().includes('NOTIFY FSD')
            ? true
            : undefined,
        15_000,
        { what: 'SHUTDOWNCMD and NOTIFY FSD' },
      );
    } finally {
      await mon.proc.stop();
      rmSync(mon.dir, { recursive: true, force: true });
    }
    await pollUntil(async () => (server.secondaryLogins('rack') === 0 ? true : undefined), 5000);
    // FSD stays set until it is cleared.
    assert.equal(
      await exchange(port, ['GET VAR rack ups.status']),
      'VAR rack ups.status "FSD OL"\n',
    );
    server.setForcedShutdown('rack', false);
    assert.equal(await exchange(port, ['GET VAR rack ups.status']), 'VAR rack ups.status "OL"\n');
  });

  it('an unavailable UPS answers DATA-STALE, never its old values', async () => {
    feed.currentAvailability = 'offline';
    try {
      assert.equal(
        await exchange(port, ['GET VAR rack battery.charge', 'LIST VAR rack', 'LIST UPS']),
        'ERR DATA-STALE\nERR DATA-STALE\nBEGIN LIST UPS\nUPS rack "Fake UPS"\nEND LIST UPS\n',
      );
    } finally {
      feed.currentAvailability = 'online';
    }
  });

  it('binary garbage gets ERR lines and the server keeps serving', async () => {
    const garbage = Buffer.from([0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x41, 0x0a, 0x80, 0x81, 0x0d, 0x0a]);
    const reply = await new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.on('data', (d) => {
        got += d.toString('latin1');
        if (got.endsWith('"100"\n')) s.end();
      });
      s.on('connect', () => {
        s.write(garbage);
        s.write('GET VAR rack battery.charge\n');
      });
      s.on('close', () => resolve(got));
      s.on('error', reject);
    });
    assert.equal(
      reply,
      'ERR UNKNOWN-COMMAND\nERR UNKNOWN-COMMAND\nVAR rack battery.charge "100"\n',
    );
  });

  it('an over-long line is answered ERR TOO-LONG and closes the connection, with a log line', async () => {
    const before = lines.length;
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<string>((resolve) => {
      let got = '';
      socket.on('data', (d) => {
        got += d.toString();
      });
      socket.on('close', () => resolve(got));
      socket.on('error', () => {});
    });
    socket.write(`GET VAR rack ${'x'.repeat(600)}`);
    assert.equal(await closed, 'ERR TOO-LONG\n');
    assert.ok(lines.slice(before).some((l) => l.includes('NUT request line too long')));
  });

  it('clients beyond maxClients are closed at once; the others keep working', async () => {
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const s = connect(port, '127.0.0.1');
        await new Promise((r) => s.once('connect', r));
        held.push(s);
      }
      await pollUntil(async () => (server.stats.active === 4 ? true : undefined), 5000);
      const rejectedBefore = server.stats.rejected;
      const extra = connect(port, '127.0.0.1');
      const got = await new Promise<string>((resolve) => {
        let text = '';
        extra.on('data', (d) => {
          text += d.toString();
        });
        extra.on('close', () => resolve(text));
        extra.on('error', () => resolve(text));
        extra.on('connect', () => extra.write('VER\n'));
      });
      assert.equal(got, '');
      assert.equal(server.stats.rejected, rejectedBefore + 1);
      const first = held[0] as Socket;
      const answer = new Promise<string>((r) => first.once('data', (d) => r(d.toString())));
      first.write('NETVER\n');
      assert.equal(await answer, '1.3\n');
    } finally {
      for (const s of held) s.destroy();
    }
    await pollUntil(async () => (server.stats.active === 0 ? true : undefined), 5000);
  });

  it('an idle client is disconnected after the idle timeout', async () => {
    await pollUntil(async () => (server.stats.active === 0 ? true : undefined), 5000);
    const s = connect(port, '127.0.0.1');
    const started = Date.now();
    await new Promise<void>((resolve) => {
      s.on('close', () => resolve());
      s.on('error', () => {});
    });
    const waited = Date.now() - started;
    assert.ok(waited >= 1400 && waited < 5000, `closed after ${waited} ms`);
  });

  it('a client that never reads is cut off; the server still answers others at once', async () => {
    const hog = connect(port, '127.0.0.1');
    hog.on('error', () => {});
    await new Promise((r) => hog.once('connect', r));
    hog.pause();
    let hogClosed = false;
    const closed = new Promise<void>((r) =>
      hog.once('close', () => {
        hogClosed = true;
        r();
      }),
    );
    // The hog asks and asks but never reads: its replies fill the kernel's buffers, then the
    // server's send buffer, until the server cuts it off.
    const burst = 'LIST VAR rack\n'.repeat(500);
    const started = Date.now();
    const writing = (async () => {
      while (!hogClosed && !hog.destroyed && Date.now() - started < 30_000) {
        hog.write(burst);
        await new Promise((r) => setImmediate(r));
      }
    })();
    // Meanwhile another client is answered at once, again and again.
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      assert.equal(await exchange(port, ['NETVER']), '1.3\n');
      const took = Date.now() - t0;
      assert.ok(took < 1000, `answered after ${took} ms`);
    }
    await closed;
    await writing;
    assert.ok(
      lines.some((l) => l.includes('client does not read its replies')),
      'log line',
    );
  });
});
