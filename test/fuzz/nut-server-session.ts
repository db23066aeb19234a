/**
 * The session half of the NUT server's fuzz targets (nut-server.targets.ts): request lines
 * as clients send them, a backend that records what reached the UPS, and the checks of one
 * session's answers read back through the `nut://` source's own reply parser.
 */
import fc from 'fast-check';
import {
  type NutBackend,
  NutSession,
  type NutUpsView,
  type NutUser,
} from '../../src/servers/nut/protocol.ts';
import { parseVarList } from '../../src/sources/nut/parse.ts';
import { NutLineDecoder, NutListCollector } from '../../src/sources/nut/protocol.ts';
import { quoteNutWord, splitNutWords } from '../../src/util/nut-words.ts';
import { check, codedAsync, nastyText, note } from './harness.ts';

/** Every code upsd's ERR lines carry (server/neterr.h), plus TOO-LONG for a cut-off line. */
const NUT_ERRORS = new Set([
  'ACCESS-DENIED',
  'UNKNOWN-UPS',
  'VAR-NOT-SUPPORTED',
  'CMD-NOT-SUPPORTED',
  'INVALID-ARGUMENT',
  'INSTCMD-FAILED',
  'READONLY',
  'FEATURE-NOT-SUPPORTED',
  'FEATURE-NOT-CONFIGURED',
  'DATA-STALE',
  'ALREADY-LOGGED-IN',
  'ALREADY-SET-PASSWORD',
  'ALREADY-SET-USERNAME',
  'USERNAME-REQUIRED',
  'PASSWORD-REQUIRED',
  'UNKNOWN-COMMAND',
  'TOO-LONG',
]);

export const USERS: readonly NutUser[] = [
  { name: 'admin', password: 'adminpw', instcmds: ['all'], upsmon: 'primary' },
  { name: 'mon', password: 'monpw', instcmds: [], upsmon: 'secondary' },
  { name: 'tester', password: 'test pw"\\', instcmds: ['beeper.mute'] },
];
export const COMMANDS = ['beeper.mute', 'test.battery.start.quick'];

/** Words a client may send: the known names, case-shifted, and noise. */
const word = fc.oneof(
  fc.constantFrom(
    'ups',
    'UPS',
    'stale',
    'ghost',
    'VAR',
    'var',
    'CMD',
    'RW',
    'ENUM',
    'RANGE',
    'CLIENT',
    'TYPE',
    'DESC',
    'CMDDESC',
    'UPSDESC',
    'NUMLOGINS',
    'TRACKING',
    'ups.status',
    'Device.Model',
    'server.info',
    'server.version',
    'server.x',
    ...COMMANDS,
    'Beeper.Mute',
    ...USERS.flatMap((u) => [u.name, u.password]),
    'all',
    '',
  ),
  nastyText(16).map((w) => w.replace(/[\r\n]/g, '')),
);
const commandWord = fc.oneof(
  fc.constantFrom(
    'VER',
    'NETVER',
    'PROTVER',
    'HELP',
    'STARTTLS',
    'GET',
    'LIST',
    'USERNAME',
    'PASSWORD',
    'LOGIN',
    'LOGOUT',
    'PRIMARY',
    'MASTER',
    'FSD',
    'SET',
    'INSTCMD',
    'get',
    'instcmd',
    'Username',
  ),
  nastyText(8).map((w) => w.replace(/[\r\n]/g, '')),
);

/** One request line (without its newline): a command and words, each quoted or not. */
export const requestLine: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(commandWord, fc.array(fc.tuple(word, fc.boolean()), { maxLength: 5 }))
      .map(([cmd, args]) =>
        [
          cmd,
          ...args.map(([w, q]) => (q || /[\s"\\]/.test(w) || w === '' ? quoteNutWord(w) : w)),
        ].join(' '),
      ),
  },
  { weight: 1, arbitrary: nastyText(60).map((l) => l.replace(/\n/g, '')) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'LIST VAR ups',
      'LIST VAR UPS',
      'GET VAR ups device.model',
      'GET VAR "ups" "Device.Model"',
      'GET DESC ups "a b"',
      'GET CMDDESC ups "x\\"',
      'GET VAR "a b" server.info',
      'LIST CMD ups',
      'LIST UPS',
      'INSTCMD ups beeper.mute',
      'FSD ups',
    ),
  },
);

/** Variable values as a source may report them: anything, line ends included. */
export const served = fc.array(
  fc.tuple(
    fc.constantFrom('device.model', 'ups.status', 'ups.id', 'battery.charge'),
    nastyText(30),
  ),
  { maxLength: 4 },
);

/**
 * What a client reads for a value the server was given: control characters blanked (one
 * line), and what UTF-8 cannot carry (a lone surrogate) as U+FFFD; nothing else changed.
 */
export function servedValue(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the server blanks them
  return wire(value.replace(/[\u0000-\u001f\u007f]/g, ' '));
}

/** A string as it reads back after UTF-8 encoding. */
function wire(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

function backendOf(vars: readonly [string, string][]) {
  const sorted = [...new Map(vars)].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const ups: NutUpsView = {
    name: 'ups',
    description: 'Rack "A"',
    variables: () => sorted,
    commands: () => COMMANDS,
  };
  const stale: NutUpsView = {
    name: 'stale',
    description: undefined,
    variables: () => undefined,
    commands: () => COMMANDS,
  };
  const calls: { kind: 'instcmd' | 'fsd'; user: string; command?: string }[] = [];
  const backend: NutBackend = {
    findUps: (n) => [ups, stale].find((u) => u.name === n.toLowerCase()),
    listUps: () => [ups, stale],
    findUser: (n) => USERS.find((u) => u.name === n),
    instcmd: async (_u, command, user) => {
      calls.push({ kind: 'instcmd', user: user.name, command });
      return 'ok';
    },
    setFsd: (_u, user) => {
      calls.push({ kind: 'fsd', user: user.name });
    },
    numLogins: () => 0,
    loginClients: () => ['127.0.0.1'],
    serverInfo: 'ups2mqtt 0.0.0 - NUT upsd network protocol 1.3',
    serverVersion: '0.0.0',
  };
  return { backend, calls, sorted };
}

/**
 * Reads one reply with the source's parser: its words when one line, the items when a
 * list. Fails the property when the reply is neither.
 */
function readReply(text: string): { words: string[] } | { list: string; items: string[][] } {
  check(text.endsWith('\n'), `reply ${JSON.stringify(text.slice(-20))} does not end a line`);
  const lines = new NutLineDecoder(1 << 20).push(text);
  const first = lines[0] ?? '';
  const words = splitNutWords(first);
  check(words !== undefined, `reply line ${JSON.stringify(first)} has an open quote`);
  if (words[0] === 'ERR') {
    check(lines.length === 1 && words.length === 2, `ERR reply ${JSON.stringify(text)}`);
    check(NUT_ERRORS.has(words[1] ?? ''), `unknown ERR code ${words[1]}`);
    return { words };
  }
  if (words[0] !== 'BEGIN') {
    check(lines.length === 1, `a one-line reply holds ${lines.length} lines`);
    return { words };
  }
  const query = words.slice(2).map((w) => (/^[^\s"\\]+$/.test(w) ? w : quoteNutWord(w)));
  const request = `LIST ${query.join(' ')}`;
  const collector = new NutListCollector(request);
  let items: string[][] | undefined;
  for (const l of lines) {
    check(items === undefined, 'lines after END LIST');
    items = collector.push(l);
  }
  check(items !== undefined, 'list without END LIST');
  return { list: words.slice(2).join(' '), items };
}

/** Feeds `lines` to one session and checks each answer against what the session was told. */
export async function runSession(lines: readonly string[], vars: readonly [string, string][]) {
  const { backend, calls, sorted } = backendOf(vars);
  const session = new NutSession(backend, '127.0.0.1');
  let username: string | undefined;
  let password: string | undefined;
  for (const line of lines) {
    const before = calls.length;
    const reply = await codedAsync(() => session.handle(line), []);
    check(reply.ok, 'handle threw');
    const got = readReply(reply.value.text);
    const req = splitNutWords(line);
    const cmd = req?.[0]?.toUpperCase();
    const args = req?.slice(1) ?? [];
    if ('words' in got) note(got.words[0] === 'ERR' ? `ERR ${got.words[1]}` : 'line');
    else note('list');
    // Login order: commands that need a user say which credential is missing first.
    if (['LOGIN', 'PRIMARY', 'MASTER', 'FSD', 'SET', 'INSTCMD'].includes(cmd ?? '')) {
      const missing =
        username === undefined
          ? 'USERNAME-REQUIRED'
          : password === undefined
            ? 'PASSWORD-REQUIRED'
            : undefined;
      if (missing) check('words' in got && got.words[1] === missing, `${cmd} without ${missing}`);
    }
    if (cmd === 'USERNAME' && 'words' in got && got.words[0] === 'OK') username = args[0];
    if (cmd === 'PASSWORD' && 'words' in got && got.words[0] === 'OK') password = args[0];
    // Nothing reaches the UPS unless the user and password match a user with the right.
    for (const call of calls.slice(before)) {
      const user = USERS.find((u) => u.name === username && u.password === password);
      check(user !== undefined && user.name === call.user, `${call.kind} without a login`);
      if (call.kind === 'fsd') check(user.upsmon === 'primary', 'FSD from a non-primary');
      else {
        const c = call.command ?? '';
        check(user.instcmds.includes('all') || user.instcmds.includes(c), `${c} without right`);
      }
    }
    // What a GET echoes is the words asked for, whatever they hold.
    if (cmd === 'GET' && 'words' in got && got.words[0] !== 'ERR' && args.length >= 2) {
      const kind = (args[0] ?? '').toUpperCase();
      if (kind !== 'TRACKING') {
        check(got.words[0] === kind, `GET ${kind} answered ${got.words[0]}`);
        // Compared as UTF-8 carries them (a lone surrogate, which no wire can hold, as U+FFFD).
        const sent = (w: string | undefined) => (w === undefined ? w : wire(w));
        check(got.words[1] === sent(args[1]), `GET echoed ups ${JSON.stringify(got.words[1])}`);
        if (!['UPSDESC', 'NUMLOGINS'].includes(kind))
          check(got.words[2] === sent(args[2]), `GET echoed name ${JSON.stringify(got.words[2])}`);
      }
    }
    // LIST VAR of a read UPS reads back as the values served, each still one value.
    if ('list' in got && /^VAR ups$/i.test(got.list)) {
      const back = [...parseVarList(got.list.split(' ')[1] ?? '', got.items)];
      const want = sorted.map(([n, v]) => [n, servedValue(v)]);
      check(JSON.stringify(back) === JSON.stringify(want), 'LIST VAR values changed');
    }
  }
}
