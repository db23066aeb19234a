/**
 * A bridge restarted during an outage resumes the policy from data_dir and never runs a
 * step twice; FSD and the secondaries' wait; the Supervisor host shutdown against a fake
 * Supervisor on loopback. Readings are fed to the policy directly, on a manual clock.
 */
import * as assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { CommandRequest, CommandResult, CommandTarget } from '../../../src/commands/router.ts';
import { ManualClock } from '../../../src/core/clock.ts';
import type { ForcedShutdownNotifier, ShutdownSettings } from '../../../src/core/ports.ts';
import type { UpsState } from '../../../src/core/state.ts';
import { isoWithOffset } from '../../../src/core/time.ts';
import { Topics } from '../../../src/mqtt/topics.ts';
import { execFileRunner, SupervisorClient } from '../../../src/policy/host.ts';
import { parseMemory } from '../../../src/policy/machine.ts';
import { ShutdownPolicy } from '../../../src/policy/policy.ts';
import { JsonStore } from '../../../src/util/json-store.ts';
import { settle as flush } from '../../helpers/settle.ts';
import { captureLogger, RecordingPublisher } from '../bridge/fakes.ts';
import { DEFAULT_SHUTDOWN, markerScripts, T0 } from './harness.ts';

const scripts = markerScripts();
after(() => scripts.cleanup());

/** A policy fed by hand: readings in, commands and events recorded. */
function rig(
  config: Partial<ShutdownSettings>,
  extra: {
    clock?: ManualClock;
    notifier?: ForcedShutdownNotifier;
    supervisor?: SupervisorClient;
  } = {},
) {
  const clock = extra.clock ?? new ManualClock(T0);
  const { logger, lines } = captureLogger();
  const pub = new RecordingPublisher();
  const sent: CommandRequest[] = [];
  const commands = {
    execute: async (_t: CommandTarget, req: CommandRequest): Promise<CommandResult> => {
      sent.push(req);
      return { status: 'ok', command: req.name, code: 'done', message: 'sent' };
    },
  };
  const target = { upsId: 'rack' } as unknown as CommandTarget;
  const published: string[] = [];
  const policy = new ShutdownPolicy(
    {
      ...DEFAULT_SHUTDOWN,
      ...config,
      mode: config.mode === 'off' || !config.mode ? 'act' : config.mode,
    },
    {
      clock,
      logger,
      store: new JsonStore(scripts.dir, 'rack.policy.json', parseMemory, logger),
      runner: execFileRunner,
      ...(extra.notifier ? { notifier: extra.notifier } : {}),
      ...(extra.supervisor ? { supervisor: extra.supervisor } : {}),
      commands,
      target: () => target,
      upsId: () => 'rack',
      publisher: pub,
      topics: new Topics('ups2mqtt'),
      refresh: async () => {
        const st: UpsState = { status: 'online', updated_at: 'refresh' };
        policy.extend(st, false);
        published.push(String(st.shutdown_state));
      },
    },
  );
  policy.start();
  const feed = (onBattery: boolean, charge = 80): void => {
    const st: UpsState = {
      status: onBattery ? 'on_battery' : 'online',
      on_battery: onBattery,
      online: !onBattery,
      battery_charge_pct: charge,
      updated_at: isoWithOffset(new Date(clock.now())),
    };
    policy.extend(st, true);
    published.push(String(st.shutdown_state));
  };
  const events = () =>
    pub.on('ups2mqtt/rack/event').map((m) => JSON.parse(m.payload) as Record<string, unknown>);
  const advance = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 500) {
      clock.advance(Math.min(500, ms - t));
      await flush();
    }
  };
  return { clock, policy, sent, lines, events, feed, advance, published };
}

async function waitFor(pred: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const storeFile = join(scripts.dir, 'rack.policy.json');

describe('restart mid-outage', () => {
  it('resumes during the grace: the host command is not run again, the UPS command is sent once', async () => {
    rmSync(storeFile, { force: true });
    const cfg = {
      mode: 'act' as const,
      onBatteryForMs: 5000,
      command: [scripts.ok, 'resume-1'],
      graceMs: 30_000,
    };
    const a = rig(cfg);
    a.feed(true);
    await a.advance(5000);
    a.feed(true);
    assert.equal(a.policy.state, 'shutting_down');
    await waitFor(() => scripts.runs().includes('ran resume-1'), 'host command');
    await a.policy.settled();
    const stored = JSON.parse(readFileSync(storeFile, 'utf8')) as Record<string, unknown>;
    assert.equal(stored.phase, 'shutting_down');
    assert.equal(typeof stored.hostDoneAt, 'number');
    // The process dies here (no stop()); a new one starts 10 s later on the same data_dir.
    const b = rig(cfg, { clock: new ManualClock(a.clock.now() + 10_000) });
    b.feed(true, 60);
    assert.equal(b.policy.state, 'shutting_down');
    await b.policy.settled();
    assert.ok(
      b.lines.some((l) => l.msg?.includes('resumed from its stored state')),
      JSON.stringify(b.lines.map((l) => l.msg)),
    );
    await b.advance(19_000);
    assert.equal(b.sent.length, 0, 'grace not over yet (30 s from the host step)');
    await b.advance(2000);
    await b.policy.settled();
    assert.deepEqual(
      b.sent.map((r) => [r.name, r.origin]),
      [['shutdown.return', 'policy']],
    );
    assert.equal(scripts.runs().filter((r) => r === 'ran resume-1').length, 1);
    assert.equal(b.events().filter((e) => e.event_type === 'shutdown_initiated').length, 0);
    b.feed(false);
    await b.advance(1000);
    b.feed(false);
    assert.equal(b.policy.state, 'idle');
  });

  it('a restart while the host command ran counts it as run (never twice)', async () => {
    const cfg = {
      mode: 'act' as const,
      onBatteryForMs: 1000,
      command: [scripts.ok, 'resume-2'],
      graceMs: 5000,
    };
    // Write what a crash in the middle of the host step leaves behind.
    const started = T0 + 2000;
    writeFileSync(
      storeFile,
      JSON.stringify({
        v: 1,
        phase: 'shutting_down',
        phaseAt: T0 + 1000,
        outageStartedAt: T0,
        trigger: 'on_battery_for',
        initiatedAt: T0 + 1000,
        hostStartedAt: started,
      }),
    );
    const b = rig(cfg, { clock: new ManualClock(T0 + 60_000) });
    b.feed(true);
    await b.advance(6000);
    await b.policy.settled();
    assert.ok(b.lines.some((l) => l.msg?.includes('it is not run again')));
    assert.equal(scripts.runs().filter((r) => r === 'ran resume-2').length, 0);
    assert.deepEqual(
      b.sent.map((r) => r.name),
      ['shutdown.return'],
    );
    assert.equal(b.policy.state, 'waiting_for_mains');
  });

  it('resumes a countdown: on_battery_for counts from the outage start before the restart', async () => {
    rmSync(storeFile, { force: true });
    const cfg = { mode: 'notify' as const, onBatteryForMs: 60_000 };
    const a = rig(cfg);
    a.feed(true);
    await a.advance(40_000);
    a.feed(true);
    assert.equal(a.policy.state, 'pending');
    await a.policy.settled();
    const b = rig(cfg, { clock: new ManualClock(a.clock.now() + 5_000) });
    b.feed(true);
    assert.equal(b.policy.state, 'pending');
    await b.advance(15_000);
    assert.equal(b.policy.state, 'shutting_down', '40 + 5 + 15 s on battery');
    assert.equal(b.events()[0]?.code, 'on_battery_for');
  });

  it('a stored state that is garbage is set aside, and the policy starts idle', async () => {
    writeFileSync(storeFile, '{"v":1,"phase":"exploded"');
    const b = rig({ mode: 'act', command: [scripts.ok] });
    b.feed(false);
    assert.equal(b.policy.state, 'idle');
    assert.ok(b.lines.some((l) => String(l.msg).includes('set aside')));
  });
});

describe('FSD and NUT secondaries', () => {
  function notifier(logins: number[]) {
    const calls: [string, boolean][] = [];
    let n = 0;
    const fake: ForcedShutdownNotifier = {
      setForcedShutdown: (id, on) => calls.push([id, on]),
      secondaryLogins: () => logins[Math.min(n++, logins.length - 1)] ?? 0,
    };
    return { fake, calls };
  }

  it('raises FSD first, runs the host command once the secondaries logged out, clears FSD with mains', async () => {
    rmSync(storeFile, { force: true });
    const { fake, calls } = notifier([2, 2, 2, 1, 0]);
    const r = rig(
      { mode: 'act', onBatteryForMs: 1000, command: [scripts.ok, 'fsd'], graceMs: 2000 },
      { notifier: fake },
    );
    r.feed(true);
    await r.advance(1000);
    assert.deepEqual(calls, [['rack', true]]);
    assert.equal(scripts.runs().filter((x) => x === 'ran fsd').length, 0, 'secondaries first');
    await r.advance(4000);
    await waitFor(() => scripts.runs().includes('ran fsd'), 'host command after the secondaries');
    await r.policy.settled();
    const ev = r.events();
    const steps = ev.map((e) => e.command ?? e.event_type);
    assert.deepEqual(steps.slice(0, 4), [
      'shutdown_initiated',
      'nut.fsd',
      'nut.secondaries',
      'host.shutdown',
    ]);
    assert.equal(ev.find((e) => e.command === 'nut.secondaries')?.code, 'done');
    await r.advance(3000);
    await r.policy.settled();
    assert.deepEqual(
      r.sent.map((x) => x.name),
      ['shutdown.return'],
    );
    r.feed(false);
    await r.advance(1000);
    r.feed(false);
    await r.policy.settled();
    assert.deepEqual(calls, [
      ['rack', true],
      ['rack', false],
    ]);
  });

  it('goes on after secondaries_grace when secondaries stay logged in', async () => {
    rmSync(storeFile, { force: true });
    const { fake } = notifier([3]);
    const r = rig(
      {
        mode: 'act',
        onBatteryForMs: 1000,
        command: [scripts.ok, 'fsd-timeout'],
        secondariesGraceMs: 10_000,
      },
      { notifier: fake },
    );
    r.feed(true);
    await r.advance(1000);
    await r.advance(9000);
    assert.equal(scripts.runs().filter((x) => x === 'ran fsd-timeout').length, 0);
    await r.advance(1000);
    await waitFor(() => scripts.runs().includes('ran fsd-timeout'), 'host command after the grace');
    const wait = r.events().find((e) => e.command === 'nut.secondaries');
    assert.equal(wait?.code, 'timeout');
    assert.match(String(wait?.message), /3 NUT secondary client\(s\) still logged in/);
  });
});

describe('Supervisor host shutdown (fake Supervisor on loopback)', () => {
  async function fakeSupervisor(status: number, body: unknown) {
    const requests: {
      method: string | undefined;
      url: string | undefined;
      auth: string | undefined;
      body: string;
    }[] = [];
    const server: Server = createServer((req: IncomingMessage, res) => {
      let text = '';
      req.on('data', (c: Buffer) => {
        text += c.toString();
      });
      req.on('end', () => {
        requests.push({
          method: req.method,
          url: req.url,
          auth: req.headers.authorization,
          body: text,
        });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { url, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
  }

  it('POSTs /host/shutdown with the add-on token instead of the local command', async () => {
    rmSync(storeFile, { force: true });
    const sup = await fakeSupervisor(200, { result: 'ok', data: {} });
    try {
      const r = rig(
        { mode: 'act', onBatteryForMs: 1000, command: [scripts.ok, 'not-in-addon'], graceMs: 1000 },
        { supervisor: new SupervisorClient(sup.url, 'tok-123') },
      );
      r.feed(true);
      await r.advance(1000);
      await waitFor(() => sup.requests.length === 1, 'the Supervisor request');
      await r.policy.settled();
      assert.deepEqual(sup.requests, [
        { method: 'POST', url: '/host/shutdown', auth: 'Bearer tok-123', body: '{}' },
      ]);
      assert.equal(scripts.runs().filter((x) => x === 'ran not-in-addon').length, 0);
      assert.equal(r.events().find((e) => e.command === 'host.shutdown')?.code, 'done');
      await r.advance(2000);
      await r.policy.settled();
      assert.deepEqual(
        r.sent.map((x) => x.name),
        ['shutdown.return'],
      );
      assert.ok(!r.lines.some((l) => JSON.stringify(l).includes('tok-123')), 'token never logged');
    } finally {
      await sup.close();
    }
  });

  it('a refusal (no role) is a failed step with the fix in the message', async () => {
    const sup = await fakeSupervisor(403, { result: 'error', message: 'no role' });
    try {
      const res = await new SupervisorClient(sup.url, 't').shutdown(2000);
      assert.equal(res.outcome, 'failed');
      assert.match(res.detail, /"no role".*hassio_role: manager/);
    } finally {
      await sup.close();
    }
  });

  it('an unreachable Supervisor is a failed step, not a crash', async () => {
    const res = await new SupervisorClient('http://127.0.0.1:1', 't').shutdown(2000);
    assert.equal(res.outcome, 'failed');
    assert.match(res.detail, /cannot reach the Supervisor/);
  });
});
