import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  type NutBackend,
  type NutInstcmdOutcome,
  NutSession,
  type NutUpsView,
  type NutUser,
} from '../../../../src/servers/nut/protocol.ts';

interface FakeUps {
  name: string;
  description: string | undefined;
  vars: [string, string][];
  commands: string[];
  stale?: boolean;
}

/** A backend holding UPSes, users, FSD flags and the sessions logged in. */
function makeBackend(
  upses: FakeUps[],
  users: NutUser[],
  outcome: NutInstcmdOutcome = 'ok',
): {
  backend: NutBackend;
  sessions: Set<NutSession>;
  fsd: Set<string>;
  instcmds: string[];
  ups: (name: string) => FakeUps;
} {
  const sessions = new Set<NutSession>();
  const fsd = new Set<string>();
  const instcmds: string[] = [];
  const view = (u: FakeUps): NutUpsView => ({
    name: u.name,
    description: u.description,
    variables: () =>
      u.stale
        ? undefined
        : u.vars.map(([n, v]) => [n, n === 'ups.status' && fsd.has(u.name) ? `FSD ${v}` : v]),
    commands: () => u.commands,
  });
  const logins = (ups: NutUpsView) => [...sessions].filter((s) => s.loginUps === ups.name);
  const backend: NutBackend = {
    findUps: (name) => {
      const u = upses.find((x) => x.name.toLowerCase() === name.toLowerCase());
      return u && view(u);
    },
    listUps: () => upses.map(view),
    findUser: (name) => users.find((u) => u.name === name),
    instcmd: async (ups, command, user) => {
      instcmds.push(`${user.name}:${ups.name}:${command}`);
      return outcome;
    },
    setFsd: (ups) => {
      fsd.add(ups.name);
    },
    numLogins: (ups) => logins(ups).length,
    loginClients: (ups) => logins(ups).map((s) => s.address),
    serverInfo: 'ups2mqtt 1.2.3 - NUT upsd network protocol 1.3',
    serverVersion: '1.2.3',
  };
  return {
    backend,
    sessions,
    fsd,
    instcmds,
    ups: (name) => upses.find((u) => u.name === name) as FakeUps,
  };
}

/** The reference setup upsd-2.8.0-replies.json was captured with (see PROVENANCE.md). */
const REFERENCE_USERS: NutUser[] = [
  { name: 'admin', password: 'adminpw', instcmds: ['ALL'], upsmon: 'primary' },
  { name: 'mon', password: 'monpw', instcmds: [], upsmon: 'secondary' },
  { name: 'tester', password: 'testpw', instcmds: ['test.battery.start.quick'] },
];
const referenceUpses = (): FakeUps[] => [
  {
    name: 'ref',
    description: 'Reference "quoted" UPS',
    vars: [
      ['battery.charge', '100'],
      ['ups.status', 'OL'],
    ],
    commands: ['load.off'],
  },
  { name: 'nodesc', description: undefined, vars: [['ups.status', 'OL']], commands: ['load.off'] },
];

describe('NUT session: the replies of a real upsd 2.8.0, byte for byte', () => {
  const sessions = JSON.parse(
    readFileSync(new URL('../../../fixtures/nut/upsd-2.8.0-replies.json', import.meta.url), 'utf8'),
  ) as [string, string][][];

  it('replays every captured connection with the same replies', async () => {
    const b = makeBackend(referenceUpses(), REFERENCE_USERS);
    let compared = 0;
    for (const [i, pairs] of sessions.entries()) {
      const session = new NutSession(b.backend, '127.0.0.1');
      b.sessions.add(session);
      for (const [request, expected] of pairs) {
        const reply = await session.handle(request);
        assert.equal(reply.text, expected, `connection ${i}: ${JSON.stringify(request)}`);
        assert.equal(reply.close === true, request === 'LOGOUT', request);
        compared++;
      }
      // The connection closes: its LOGIN ends.
      b.sessions.delete(session);
    }
    assert.ok(compared > 100, `${compared} requests compared`);
    // admin's three accepted INSTCMDs reached the backend, with the UPS's own spelling.
    assert.deepEqual(b.instcmds, [
      'admin:ref:load.off',
      'admin:ref:load.off',
      'admin:ref:load.off',
    ]);
  });
});

describe('NUT session: each command and error (exact bytes)', () => {
  const users: NutUser[] = [
    { name: 'admin', password: 'pw"with\\chars', instcmds: ['all'], upsmon: 'primary' },
    { name: 'mon', password: 'monpw', instcmds: [], upsmon: 'secondary' },
    { name: 'cmd', password: 'cmdpw', instcmds: ['Beeper.Enable'] },
  ];
  const upses = (): FakeUps[] => [
    {
      name: 'rack',
      description: 'Rack UPS',
      vars: [
        ['battery.charge', '100'],
        ['device.model', 'Smart-UPS "1500" \\ A'],
        ['ups.status', 'OL CHRG'],
      ],
      commands: ['beeper.enable', 'test.battery.start.quick'],
    },
    {
      name: 'gone',
      description: undefined,
      vars: [['ups.status', 'OB']],
      commands: ['beeper.enable'],
      stale: true,
    },
  ];
  const login = ['USERNAME admin', 'PASSWORD "pw\\"with\\\\chars"'];

  /** [title, lines sent before, request, exact reply] */
  const rows: [string, string[], string, string][] = [
    ['VER names ups2mqtt', [], 'VER', 'ups2mqtt 1.2.3 - NUT upsd network protocol 1.3\n'],
    ['NETVER', [], 'NETVER', '1.3\n'],
    ['PROTVER (alias)', [], 'protver', '1.3\n'],
    [
      'HELP',
      [],
      'HELP',
      'Commands: HELP VER GET LIST SET INSTCMD LOGIN LOGOUT USERNAME PASSWORD STARTTLS\n',
    ],
    ['STARTTLS without TLS', [], 'STARTTLS', 'ERR FEATURE-NOT-CONFIGURED\n'],
    ['unknown command', [], 'UPGRADE', 'ERR UNKNOWN-COMMAND\n'],
    ['empty line', [], '', 'ERR UNKNOWN-COMMAND\n'],
    ['unterminated quote', [], 'GET VAR "rack', 'ERR INVALID-ARGUMENT\n'],
    [
      'LIST UPS',
      [],
      'LIST UPS',
      'BEGIN LIST UPS\nUPS rack "Rack UPS"\nUPS gone "Description unavailable"\nEND LIST UPS\n',
    ],
    [
      'LIST VAR quotes values',
      [],
      'LIST VAR rack',
      'BEGIN LIST VAR rack\nVAR rack battery.charge "100"\nVAR rack device.model "Smart-UPS \\"1500\\" \\\\ A"\nVAR rack ups.status "OL CHRG"\nEND LIST VAR rack\n',
    ],
    ['LIST VAR of a stale UPS', [], 'LIST VAR gone', 'ERR DATA-STALE\n'],
    ['LIST VAR unknown UPS', [], 'LIST VAR nope', 'ERR UNKNOWN-UPS\n'],
    ['LIST RW is empty', [], 'LIST RW rack', 'BEGIN LIST RW rack\nEND LIST RW rack\n'],
    ['LIST RW stale', [], 'LIST RW gone', 'ERR DATA-STALE\n'],
    [
      'LIST CMD',
      [],
      'LIST CMD rack',
      'BEGIN LIST CMD rack\nCMD rack beeper.enable\nCMD rack test.battery.start.quick\nEND LIST CMD rack\n',
    ],
    ['LIST CMD stale', [], 'LIST CMD gone', 'ERR DATA-STALE\n'],
    [
      'LIST ENUM of a variable',
      [],
      'LIST ENUM rack ups.status',
      'BEGIN LIST ENUM rack ups.status\nEND LIST ENUM rack ups.status\n',
    ],
    ['LIST RANGE of an unknown variable', [], 'LIST RANGE rack nope', 'ERR VAR-NOT-SUPPORTED\n'],
    [
      'LIST CLIENT of a stale UPS still answers',
      [],
      'LIST CLIENT gone',
      'BEGIN LIST CLIENT gone\nEND LIST CLIENT gone\n',
    ],
    ['GET VAR', [], 'GET VAR rack battery.charge', 'VAR rack battery.charge "100"\n'],
    [
      'GET VAR echoes the spelling asked',
      [],
      'GET VAR RACK Battery.Charge',
      'VAR RACK Battery.Charge "100"\n',
    ],
    ['GET VAR missing variable', [], 'GET VAR rack ups.load', 'ERR VAR-NOT-SUPPORTED\n'],
    ['GET VAR stale: no old values', [], 'GET VAR gone ups.status', 'ERR DATA-STALE\n'],
    [
      'GET VAR server.info for any name',
      [],
      'GET VAR x server.info',
      'VAR x server.info "ups2mqtt 1.2.3 - NUT upsd network protocol 1.3"\n',
    ],
    [
      'GET VAR server.version',
      [],
      'GET VAR rack server.version',
      'VAR rack server.version "1.2.3"\n',
    ],
    ['GET TYPE', [], 'GET TYPE rack ups.status', 'TYPE rack ups.status NUMBER\n'],
    [
      'GET DESC',
      [],
      'GET DESC rack ups.status',
      'DESC rack ups.status "Description unavailable"\n',
    ],
    [
      'GET CMDDESC',
      [],
      'GET CMDDESC rack beeper.enable',
      'CMDDESC rack beeper.enable "Description unavailable"\n',
    ],
    ['GET CMDDESC stale', [], 'GET CMDDESC gone beeper.enable', 'ERR DATA-STALE\n'],
    ['GET UPSDESC', [], 'GET UPSDESC rack', 'UPSDESC rack "Rack UPS"\n'],
    ['GET UPSDESC without a name, stale', [], 'GET UPSDESC gone', 'UPSDESC gone "Unavailable"\n'],
    ['GET NUMLOGINS', [], 'GET NUMLOGINS rack', 'NUMLOGINS rack 0\n'],
    ['GET NUMLOGINS stale', [], 'GET NUMLOGINS gone', 'ERR DATA-STALE\n'],
    ['GET TRACKING', [], 'GET TRACKING', 'OFF\n'],
    ['USERNAME', [], 'USERNAME admin', 'OK\n'],
    ['USERNAME twice', ['USERNAME a'], 'USERNAME b', 'ERR ALREADY-SET-USERNAME\n'],
    ['PASSWORD twice', ['PASSWORD a'], 'PASSWORD b', 'ERR ALREADY-SET-PASSWORD\n'],
    ['INSTCMD needs USERNAME', [], 'INSTCMD rack beeper.enable', 'ERR USERNAME-REQUIRED\n'],
    [
      'INSTCMD needs PASSWORD',
      ['USERNAME admin'],
      'INSTCMD rack beeper.enable',
      'ERR PASSWORD-REQUIRED\n',
    ],
    ['INSTCMD missing argument', login, 'INSTCMD rack', 'ERR INVALID-ARGUMENT\n'],
    ['INSTCMD unknown UPS', login, 'INSTCMD nope beeper.enable', 'ERR UNKNOWN-UPS\n'],
    ['INSTCMD stale UPS', login, 'INSTCMD gone beeper.enable', 'ERR DATA-STALE\n'],
    ['INSTCMD not offered', login, 'INSTCMD rack load.off', 'ERR CMD-NOT-SUPPORTED\n'],
    ['INSTCMD with "all"', login, 'INSTCMD rack test.battery.start.quick', 'OK\n'],
    [
      'INSTCMD wrong password',
      ['USERNAME admin', 'PASSWORD nope'],
      'INSTCMD rack beeper.enable',
      'ERR ACCESS-DENIED\n',
    ],
    [
      'INSTCMD unknown user',
      ['USERNAME who', 'PASSWORD x'],
      'INSTCMD rack beeper.enable',
      'ERR ACCESS-DENIED\n',
    ],
    [
      'INSTCMD listed (any case)',
      ['USERNAME cmd', 'PASSWORD cmdpw'],
      'INSTCMD rack BEEPER.ENABLE',
      'OK\n',
    ],
    [
      'INSTCMD not in the user list',
      ['USERNAME cmd', 'PASSWORD cmdpw'],
      'INSTCMD rack test.battery.start.quick',
      'ERR ACCESS-DENIED\n',
    ],
    [
      'INSTCMD upsmon user without instcmds',
      ['USERNAME mon', 'PASSWORD monpw'],
      'INSTCMD rack beeper.enable',
      'ERR ACCESS-DENIED\n',
    ],
    ['LOGIN secondary', ['USERNAME mon', 'PASSWORD monpw'], 'LOGIN rack', 'OK\n'],
    [
      'LOGIN to a stale UPS is allowed (upsd does)',
      ['USERNAME mon', 'PASSWORD monpw'],
      'LOGIN gone',
      'OK\n',
    ],
    [
      'LOGIN twice',
      ['USERNAME mon', 'PASSWORD monpw', 'LOGIN rack'],
      'LOGIN rack',
      'ERR ALREADY-LOGGED-IN\n',
    ],
    [
      'LOGIN without upsmon role',
      ['USERNAME cmd', 'PASSWORD cmdpw'],
      'LOGIN rack',
      'ERR ACCESS-DENIED\n',
    ],
    ['LOGIN wrong password', ['USERNAME mon', 'PASSWORD x'], 'LOGIN rack', 'ERR ACCESS-DENIED\n'],
    ['PRIMARY as primary', login, 'PRIMARY rack', 'OK PRIMARY-GRANTED\n'],
    ['MASTER as primary', login, 'MASTER rack', 'OK MASTER-GRANTED\n'],
    [
      'PRIMARY as secondary',
      ['USERNAME mon', 'PASSWORD monpw'],
      'PRIMARY rack',
      'ERR ACCESS-DENIED\n',
    ],
    ['FSD as secondary', ['USERNAME mon', 'PASSWORD monpw'], 'FSD rack', 'ERR ACCESS-DENIED\n'],
    ['FSD as primary', login, 'FSD rack', 'OK FSD-SET\n'],
    [
      'FSD shows in ups.status',
      [...login, 'FSD rack'],
      'GET VAR rack ups.status',
      'VAR rack ups.status "FSD OL CHRG"\n',
    ],
    ['FSD unknown UPS', login, 'FSD nope', 'ERR UNKNOWN-UPS\n'],
    ['SET VAR is read-only', login, 'SET VAR rack battery.charge 50', 'ERR READONLY\n'],
    ['SET VAR unknown variable', login, 'SET VAR rack nope 1', 'ERR VAR-NOT-SUPPORTED\n'],
    ['SET VAR stale', login, 'SET VAR gone ups.status 1', 'ERR DATA-STALE\n'],
    ['SET TRACKING', login, 'SET TRACKING ON', 'ERR FEATURE-NOT-SUPPORTED\n'],
    ['SET needs a user', [], 'SET VAR rack battery.charge 50', 'ERR USERNAME-REQUIRED\n'],
    ['LOGOUT', [], 'LOGOUT', 'OK Goodbye\n'],
  ];

  for (const [title, setup, request, expected] of rows) {
    it(title, async () => {
      const b = makeBackend(upses(), users);
      const session = new NutSession(b.backend, '192.0.2.7');
      b.sessions.add(session);
      for (const l of setup) await session.handle(l);
      assert.equal((await session.handle(request)).text, expected);
    });
  }

  it('LOGIN is counted and listed until the session goes', async () => {
    const b = makeBackend(upses(), users);
    const s1 = new NutSession(b.backend, '192.0.2.7');
    b.sessions.add(s1);
    for (const l of ['USERNAME mon', 'PASSWORD monpw', 'LOGIN rack']) await s1.handle(l);
    assert.equal(s1.loginUps, 'rack');
    assert.equal(s1.loginUser?.upsmon, 'secondary');
    const s2 = new NutSession(b.backend, '192.0.2.8');
    assert.equal((await s2.handle('GET NUMLOGINS rack')).text, 'NUMLOGINS rack 1\n');
    assert.equal(
      (await s2.handle('LIST CLIENT rack')).text,
      'BEGIN LIST CLIENT rack\nCLIENT rack 192.0.2.7\nEND LIST CLIENT rack\n',
    );
  });

  it('maps what the command framework answered: unsupported and failures', async () => {
    for (const [outcome, expected] of [
      ['ok', 'OK\n'],
      ['unsupported', 'ERR CMD-NOT-SUPPORTED\n'],
      ['failed', 'ERR INSTCMD-FAILED\n'],
    ] as const) {
      const b = makeBackend(upses(), users, outcome);
      const s = new NutSession(b.backend, '192.0.2.7');
      for (const l of login) await s.handle(l);
      assert.equal((await s.handle('INSTCMD rack beeper.enable')).text, expected, outcome);
      assert.deepEqual(b.instcmds, ['admin:rack:beeper.enable']);
    }
  });

  it('a value with a line end or other control character stays one line (fuzz: nut-server/session)', async () => {
    const b = makeBackend(
      [
        {
          name: 'rack',
          description: 'Rack\nUPS',
          vars: [
            ['device.model', 'Back-UPS\nLIST UPS'],
            ['ups.id', 'a\u0000b\r\tc'],
          ],
          commands: [],
        },
      ],
      users,
    );
    const s = new NutSession(b.backend, '192.0.2.7');
    assert.equal(
      (await s.handle('LIST VAR rack')).text,
      'BEGIN LIST VAR rack\nVAR rack device.model "Back-UPS LIST UPS"\nVAR rack ups.id "a b  c"\nEND LIST VAR rack\n',
    );
    assert.equal((await s.handle('GET UPSDESC rack')).text, 'UPSDESC rack "Rack UPS"\n');
    assert.equal(
      (await s.handle('LIST UPS')).text,
      'BEGIN LIST UPS\nUPS rack "Rack UPS"\nEND LIST UPS\n',
    );
  });

  it('echoes a requested word with a blank, quote or backslash quoted (fuzz: nut-server/session)', async () => {
    const b = makeBackend(upses(), users);
    const s = new NutSession(b.backend, '192.0.2.7');
    assert.equal(
      (await s.handle('GET VAR "a b" server.info')).text,
      'VAR "a b" server.info "ups2mqtt 1.2.3 - NUT upsd network protocol 1.3"\n',
    );
    assert.equal(
      (await s.handle('GET DESC rack "x \\" y"')).text,
      'DESC rack "x \\" y" "Description unavailable"\n',
    );
    assert.equal(
      (await s.handle('GET CMDDESC rack ""')).text,
      'CMDDESC rack "" "Description unavailable"\n',
    );
    // Plain names go as upsd writes them.
    assert.equal(
      (await s.handle('GET TYPE RACK Battery.Charge')).text,
      'TYPE RACK Battery.Charge NUMBER\n',
    );
  });
});
