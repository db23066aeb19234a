import * as assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type {
  CommandRequest,
  CommandResult,
  CommandResultCode,
  CommandTarget,
} from '../../../../src/commands/router.ts';
import type { UpsFeed } from '../../../../src/core/ports.ts';
import type { UpsSource } from '../../../../src/core/source.ts';
import type { UpsState } from '../../../../src/core/state.ts';
import { NutServer } from '../../../../src/servers/nut/server.ts';
import { captureLogger } from '../../bridge/fakes.ts';

function feed(id: string | undefined, state: Partial<UpsState>): UpsFeed {
  return {
    id,
    name: 'Rack',
    currentAvailability: 'online',
    state: { status: 'online', updated_at: '2026-12-03T12:00:00.000+00:00', ...state },
    onChange: () => () => {},
    onEvent: () => () => {},
  };
}

/** Sends lines on one connection; resolves with the replies once `count` lines arrived. */
function ask(port: number, lines: string[], count = lines.length): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
      if (got.split('\n').length > count) s.end();
    });
    s.on('connect', () => s.write(lines.map((l) => `${l}\n`).join('')));
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

describe('NutServer and the command router', () => {
  const { logger, lines } = captureLogger();
  const requests: CommandRequest[] = [];
  let answer: CommandResultCode = 'done';
  const source = { description: 'fake' } as UpsSource;
  const target: CommandTarget = {
    upsId: 'rack',
    source,
    available: () => true,
    afterCommand: () => {},
  };
  const feeds = [feed('rack', { online: true, battery_charge_pct: 97 }), feed(undefined, {})];
  const server = new NutServer(
    {
      host: '127.0.0.1',
      port: 0,
      version: '9.9.9',
      users: [
        { name: 'admin', password: 's3cret-pw', instcmds: ['all'], upsmon: 'primary' },
        { name: 'mon', password: 'monpw', instcmds: [], upsmon: 'secondary' },
      ],
    },
    {
      feeds: () => feeds,
      commands: {
        enabledCommands: (s) => (s === source ? ['beeper.enable', 'test.battery.start.quick'] : []),
        execute: async (t: CommandTarget, req: CommandRequest): Promise<CommandResult> => {
          assert.equal(t, target);
          requests.push(req);
          return {
            status: answer === 'done' ? 'ok' : 'error',
            command: req.name,
            code: answer,
            message: 'x',
          };
        },
      },
      commandTarget: (id) => (id === 'rack' ? target : undefined),
      logger,
    },
  );
  let port = 0;
  before(async () => {
    port = await server.start();
  });
  after(() => server.stop());

  it('serves only UPSes whose id is known, with their variables', async () => {
    assert.equal(
      await ask(port, ['LIST UPS'], 3),
      'BEGIN LIST UPS\nUPS rack "Rack"\nEND LIST UPS\n',
    );
    assert.equal(
      await ask(port, ['GET VAR rack battery.charge', 'GET VAR rack driver.name']),
      'VAR rack battery.charge "97"\nVAR rack driver.name "ups2mqtt"\n',
    );
    assert.equal(await ask(port, ['VER']), 'ups2mqtt 9.9.9 - NUT upsd network protocol 1.3\n');
  });

  /** The router's answer → what the NUT client reads. */
  const rows: [CommandResultCode, string][] = [
    ['done', 'OK\n'],
    ['unsupported', 'ERR CMD-NOT-SUPPORTED\n'],
    ['disabled', 'ERR INSTCMD-FAILED\n'],
    ['not_armed', 'ERR INSTCMD-FAILED\n'],
    ['rate_limited', 'ERR INSTCMD-FAILED\n'],
    ['unavailable', 'ERR INSTCMD-FAILED\n'],
    ['failed', 'ERR INSTCMD-FAILED\n'],
  ];
  for (const [code, reply] of rows) {
    it(`INSTCMD goes through CommandRouter.execute with origin nut; ${code} → ${reply.trim()}`, async () => {
      answer = code;
      requests.length = 0;
      const got = await ask(port, [
        'USERNAME admin',
        'PASSWORD s3cret-pw',
        'INSTCMD rack Test.Battery.Start.Quick',
      ]);
      assert.equal(got, `OK\nOK\n${reply}`);
      assert.deepEqual(requests, [{ name: 'test.battery.start.quick', origin: 'nut' }]);
    });
  }

  it('FSD from a primary and setForcedShutdown raise FSD until cleared; secondaries are counted', async () => {
    assert.equal(server.secondaryLogins('rack'), 0);
    const mon = connect(port, '127.0.0.1');
    await new Promise((r) => mon.once('connect', r));
    const replies: string[] = [];
    mon.on('data', (d) => replies.push(d.toString()));
    mon.write('USERNAME mon\nPASSWORD monpw\nLOGIN rack\n');
    for (let i = 0; i < 100 && server.secondaryLogins('rack') === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(server.secondaryLogins('rack'), 1);
    assert.equal(server.secondaryLogins('other'), 0);

    assert.equal(
      await ask(port, [
        'USERNAME admin',
        'PASSWORD s3cret-pw',
        'FSD rack',
        'GET VAR rack ups.status',
      ]),
      'OK\nOK\nOK FSD-SET\nVAR rack ups.status "FSD OL"\n',
    );
    assert.equal(server.forcedShutdown('rack'), true);
    server.setForcedShutdown('rack', false);
    assert.equal(await ask(port, ['GET VAR rack ups.status']), 'VAR rack ups.status "OL"\n');
    server.setForcedShutdown('rack', true);
    assert.equal(await ask(port, ['GET VAR rack ups.status']), 'VAR rack ups.status "FSD OL"\n');
    server.setForcedShutdown('rack', false);

    mon.destroy();
    for (let i = 0; i < 100 && server.secondaryLogins('rack') > 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(server.secondaryLogins('rack'), 0);
  });

  it('answers 500 pipelined requests in order (flow control, no disconnect)', async () => {
    const many = Array.from({ length: 500 }, (_, i) =>
      i % 2 === 0 ? 'NETVER' : 'GET VAR rack battery.charge',
    );
    const got = await ask(port, many);
    const expected = many
      .map((l) => (l === 'NETVER' ? '1.3\n' : 'VAR rack battery.charge "97"\n'))
      .join('');
    assert.equal(got, expected);
  });

  it('answers the lines before an endless one, then ERR TOO-LONG, and closes (fuzz: nut-server/stream)', async () => {
    for (let round = 0; round < 20; round++) await endlessLine(round);
  });

  /** One round: closing with the client's bytes unread must not reset away the replies. */
  async function endlessLine(round: number): Promise<void> {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
    });
    const closed = new Promise<void>((r) => s.on('close', () => r()));
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    // 64 pipelined lines fill the queue, so the long line is seen while they wait.
    s.write(`${'NETVER\n'.repeat(64)}VER\n${'x'.repeat(600)}`);
    // Whatever comes after it is not read: the server closes on its own.
    s.write('y'.repeat(100_000));
    await closed;
    assert.equal(
      got,
      `${'1.3\n'.repeat(64)}ups2mqtt 9.9.9 - NUT upsd network protocol 1.3\nERR TOO-LONG\n`,
      `round ${round}`,
    );
    assert.ok(lines.some((l) => l.msg === 'NUT request line too long: connection closed'));
  }

  it('LOGOUT with more pipelined after it: replies up to OK Goodbye arrive whole, then the server closes (fuzz: nut-server/stream)', async () => {
    for (let round = 0; round < 20; round++) {
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.on('data', (d) => {
        got += d.toString();
      });
      const closed = new Promise<void>((r) => s.on('close', () => r()));
      s.on('error', () => {});
      await new Promise((r) => s.once('connect', r));
      s.write(`${'NETVER\n'.repeat(40)}LOGOUT\n${'LIST VAR rack\n'.repeat(200)}`);
      await closed;
      assert.equal(got, `${'1.3\n'.repeat(40)}OK Goodbye\n`, `round ${round}`);
    }
    // Nothing was written after OK Goodbye: a write after end destroys the socket, and with
    // it replies not yet flushed (what the fuzz target saw: answers missing before LOGOUT's).
    const errors = lines.filter((l) => l.msg === 'client connection error');
    assert.deepEqual(errors, []);
  });

  it('never logs a password, and counts connections and requests', () => {
    assert.ok(!JSON.stringify(lines).includes('s3cret-pw'));
    assert.ok(!JSON.stringify(lines).includes('monpw'));
    assert.ok(server.stats.connections >= 10);
    assert.ok(server.stats.requests >= 30);
    assert.ok(lines.some((l) => l.msg === 'NUT forced shutdown (FSD) set'));
  });
});
