/**
 * One client session of the upsd-compatible server: request line in, reply bytes out, with
 * upsd's order of checks and its exact words (NUT developer guide, "Network protocol
 * information": https://networkupstools.org/docs/developer-guide.chunked/net-protocol.html).
 * Where the guide is silent the replies were checked against a real upsd 2.8.0 (Debian's
 * nut-server, dummy-ups driver); test/unit/servers/nut/protocol.test.ts pins them byte for
 * byte. No sockets here: server.ts feeds lines and writes the replies.
 */
import { timingSafeEqual } from 'node:crypto';
import { quoteNutWord, splitNutWords } from '../../util/nut-words.ts';

/** One user as upsd.users declares it (docs/security.md, "NUT server"). */
export interface NutUser {
  readonly name: string;
  readonly password: string;
  /** Instant commands the user may run; `all` allows every one. */
  readonly instcmds: readonly string[];
  /** upsmon role: `primary` may LOGIN, PRIMARY and FSD; `secondary` may LOGIN. */
  readonly upsmon?: 'primary' | 'secondary' | undefined;
}

/** One UPS as the session sees it. */
export interface NutUpsView {
  /** The ups id, NUT's ups name. */
  readonly name: string;
  /** Shown by LIST UPS and GET UPSDESC; undefined: upsd's "unavailable" wording. */
  readonly description: string | undefined;
  /** The variables sorted by name, or undefined while the UPS is not read (DATA-STALE). */
  variables(): readonly (readonly [string, string])[] | undefined;
  /** Instant commands offered for this UPS. */
  commands(): readonly string[];
}

/** What an accepted INSTCMD came to. */
export type NutInstcmdOutcome = 'ok' | 'unsupported' | 'failed';

/** What the session needs from the server. */
export interface NutBackend {
  /** A UPS by name, case-insensitive as upsd matches it. */
  findUps(name: string): NutUpsView | undefined;
  listUps(): readonly NutUpsView[];
  findUser(name: string): NutUser | undefined;
  instcmd(ups: NutUpsView, command: string, user: NutUser): Promise<NutInstcmdOutcome>;
  setFsd(ups: NutUpsView, user: NutUser): void;
  /** Sessions logged in (LOGIN) to this UPS now. */
  numLogins(ups: NutUpsView): number;
  /** Addresses of the sessions logged in to this UPS (LIST CLIENT). */
  loginClients(ups: NutUpsView): readonly string[];
  /** The answer to VER (and `server.info`). */
  readonly serverInfo: string;
  /** The answer to `server.version`. */
  readonly serverVersion: string;
}

/** A reply and whether the connection closes after it. */
export interface NutReply {
  text: string;
  close?: boolean;
}

/** NUT network protocol version spoken (NUT 2.8: 1.3). */
export const NUT_PROTOCOL_VERSION = '1.3';

const HELP_TEXT = 'Commands: HELP VER GET LIST SET INSTCMD LOGIN LOGOUT USERNAME PASSWORD STARTTLS';

/** upsd's error codes (server/neterr.h); ERR lines carry exactly these words. */
export type NutError =
  | 'ACCESS-DENIED'
  | 'UNKNOWN-UPS'
  | 'VAR-NOT-SUPPORTED'
  | 'CMD-NOT-SUPPORTED'
  | 'INVALID-ARGUMENT'
  | 'INSTCMD-FAILED'
  | 'READONLY'
  | 'FEATURE-NOT-SUPPORTED'
  | 'FEATURE-NOT-CONFIGURED'
  | 'DATA-STALE'
  | 'ALREADY-LOGGED-IN'
  | 'ALREADY-SET-PASSWORD'
  | 'ALREADY-SET-USERNAME'
  | 'USERNAME-REQUIRED'
  | 'PASSWORD-REQUIRED'
  | 'UNKNOWN-COMMAND';

const err = (code: NutError): NutReply => ({ text: `ERR ${code}\n` });

/**
 * A word of the request echoed back: as sent when it has no blank, quote or backslash (what
 * upsd writes for every name it serves), else quoted, so the client reads the same word.
 */
const echo = (w: string): string => (/^[^\s"\\]+$/.test(w) ? w : quoteNutWord(w));

/**
 * A value, quoted. Control characters become spaces: a line end inside a value (a model
 * name as a USB descriptor or a NIS peer gave it) would otherwise end the reply line and
 * start one the client takes for a reply of its own (the NIS server does the same).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: blanking them is the point
const value = (v: string): string => quoteNutWord(v.replace(/[\u0000-\u001f\u007f]/g, ' '));
const line = (text: string): NutReply => ({ text: `${text}\n` });

/** Commands that need USERNAME and PASSWORD first (upsd's FLAG_USER). */
const USER_COMMANDS = new Set(['LOGIN', 'PRIMARY', 'MASTER', 'FSD', 'SET', 'INSTCMD']);

type Action = 'LOGIN' | 'PRIMARY' | 'FSD';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

const ieq = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** One connection's state: USERNAME, PASSWORD, LOGIN. */
export class NutSession {
  username: string | undefined;
  private password: string | undefined;
  /** The UPS this session is logged in to (upsmon's LOGIN), canonical name. */
  loginUps: string | undefined;
  /** The user who logged in (LOGIN checks the password). */
  loginUser: NutUser | undefined;

  constructor(
    private readonly backend: NutBackend,
    /** The client's address, as LIST CLIENT shows it. */
    readonly address: string,
  ) {}

  /** Answers one request line (without its newline). */
  async handle(text: string): Promise<NutReply> {
    const words = splitNutWords(text);
    // upsd would keep reading into the next line; a line protocol client never sends an
    // open quote on purpose, so it is refused at once.
    if (words === undefined) return err('INVALID-ARGUMENT');
    const [first, ...args] = words;
    if (first === undefined) return err('UNKNOWN-COMMAND');
    const cmd = first.toUpperCase();
    if (USER_COMMANDS.has(cmd)) {
      if (this.username === undefined) return err('USERNAME-REQUIRED');
      if (this.password === undefined) return err('PASSWORD-REQUIRED');
    }
    switch (cmd) {
      case 'VER':
        return args.length !== 0 ? err('INVALID-ARGUMENT') : line(this.backend.serverInfo);
      case 'NETVER':
      case 'PROTVER':
        return args.length !== 0 ? err('INVALID-ARGUMENT') : line(NUT_PROTOCOL_VERSION);
      case 'HELP':
        return args.length !== 0 ? err('INVALID-ARGUMENT') : line(HELP_TEXT);
      case 'STARTTLS':
        // What upsd built with TLS support answers when no certificate is configured;
        // clients that only try TLS (upsmon, upsc) go on in clear text.
        return err('FEATURE-NOT-CONFIGURED');
      case 'GET':
        return this.get(args);
      case 'LIST':
        return this.list(args);
      case 'USERNAME':
        if (args.length !== 1) return err('INVALID-ARGUMENT');
        if (this.username !== undefined) return err('ALREADY-SET-USERNAME');
        this.username = args[0];
        return line('OK');
      case 'PASSWORD':
        if (args.length !== 1) return err('INVALID-ARGUMENT');
        if (this.password !== undefined) return err('ALREADY-SET-PASSWORD');
        this.password = args[0];
        return line('OK');
      case 'LOGIN':
        return this.login(args);
      case 'LOGOUT':
        if (args.length !== 0) return err('INVALID-ARGUMENT');
        return { text: 'OK Goodbye\n', close: true };
      case 'PRIMARY':
      case 'MASTER':
        return this.primary(cmd, args);
      case 'FSD':
        return this.fsd(args);
      case 'SET':
        return this.set(args);
      case 'INSTCMD':
        return this.instcmd(args);
      default:
        return err('UNKNOWN-COMMAND');
    }
  }

  /** The user, when the password given matches (upsd's user_checkaction). */
  private authenticated(): NutUser | undefined {
    if (this.username === undefined || this.password === undefined) return undefined;
    const user = this.backend.findUser(this.username);
    if (!user || !sameSecret(user.password, this.password)) return undefined;
    return user;
  }

  private allowed(action: Action): NutUser | undefined {
    const user = this.authenticated();
    if (!user?.upsmon) return undefined;
    if (action === 'LOGIN') return user;
    return user.upsmon === 'primary' ? user : undefined;
  }

  private get(args: string[]): NutReply {
    const [what, upsName, name] = args;
    if (what === undefined) return err('INVALID-ARGUMENT');
    const kind = what.toUpperCase();
    if (kind === 'TRACKING') return args.length < 2 ? line('OFF') : err('FEATURE-NOT-CONFIGURED');
    if (upsName === undefined) return err('INVALID-ARGUMENT');
    if (kind === 'NUMLOGINS') {
      const ups = this.backend.findUps(upsName);
      if (!ups) return err('UNKNOWN-UPS');
      if (!ups.variables()) return err('DATA-STALE');
      return line(`NUMLOGINS ${echo(upsName)} ${this.backend.numLogins(ups)}`);
    }
    if (kind === 'UPSDESC') {
      const ups = this.backend.findUps(upsName);
      if (!ups) return err('UNKNOWN-UPS');
      return line(`UPSDESC ${echo(upsName)} ${value(ups.description ?? 'Unavailable')}`);
    }
    if (name === undefined) return err('INVALID-ARGUMENT');
    if (kind === 'VAR' && name.toLowerCase().startsWith('server.')) {
      // upsd answers these for any ups name, known or not.
      const lower = name.toLowerCase();
      if (lower === 'server.info')
        return line(`VAR ${echo(upsName)} server.info ${value(this.backend.serverInfo)}`);
      if (lower === 'server.version')
        return line(`VAR ${echo(upsName)} server.version ${value(this.backend.serverVersion)}`);
      return err('VAR-NOT-SUPPORTED');
    }
    if (!['VAR', 'TYPE', 'DESC', 'CMDDESC'].includes(kind)) return err('INVALID-ARGUMENT');
    const ups = this.backend.findUps(upsName);
    if (!ups) return err('UNKNOWN-UPS');
    const vars = ups.variables();
    if (!vars) return err('DATA-STALE');
    if (kind === 'CMDDESC')
      return line(`CMDDESC ${echo(upsName)} ${echo(name)} ${value('Description unavailable')}`);
    if (kind === 'DESC')
      return line(`DESC ${echo(upsName)} ${echo(name)} ${value('Description unavailable')}`);
    const found = vars.find(([n]) => ieq(n, name));
    if (!found) return err('VAR-NOT-SUPPORTED');
    // upsd types read-only variables as NUMBER whatever they hold (server/netget.c).
    if (kind === 'TYPE') return line(`TYPE ${echo(upsName)} ${echo(name)} NUMBER`);
    return line(`VAR ${echo(upsName)} ${echo(name)} ${value(found[1])}`);
  }

  private list(args: string[]): NutReply {
    const [what, upsName, name] = args;
    if (what === undefined) return err('INVALID-ARGUMENT');
    const kind = what.toUpperCase();
    if (kind === 'UPS') {
      const rows = this.backend
        .listUps()
        .map((u) => `UPS ${echo(u.name)} ${value(u.description ?? 'Description unavailable')}\n`);
      return { text: `BEGIN LIST UPS\n${rows.join('')}END LIST UPS\n` };
    }
    if (upsName === undefined) return err('INVALID-ARGUMENT');
    const wrap = (head: string, rows: string[]): NutReply => ({
      text: `BEGIN LIST ${head}\n${rows.join('')}END LIST ${head}\n`,
    });
    if (kind === 'CLIENT') {
      const ups = this.backend.findUps(upsName);
      if (!ups) return err('UNKNOWN-UPS');
      const rows = this.backend.loginClients(ups).map((a) => `CLIENT ${ups.name} ${a}\n`);
      return wrap(`CLIENT ${echo(upsName)}`, rows);
    }
    if (kind === 'VAR' || kind === 'RW' || kind === 'CMD') {
      const ups = this.backend.findUps(upsName);
      if (!ups) return err('UNKNOWN-UPS');
      const vars = ups.variables();
      if (!vars) return err('DATA-STALE');
      if (kind === 'RW') return wrap(`RW ${echo(upsName)}`, []);
      if (kind === 'CMD')
        return wrap(
          `CMD ${echo(upsName)}`,
          ups.commands().map((c) => `CMD ${echo(upsName)} ${echo(c)}\n`),
        );
      return wrap(
        `VAR ${echo(upsName)}`,
        vars.map(([n, v]) => `VAR ${echo(upsName)} ${n} ${value(v)}\n`),
      );
    }
    if (name === undefined) return err('INVALID-ARGUMENT');
    if (kind === 'ENUM' || kind === 'RANGE') {
      const ups = this.backend.findUps(upsName);
      if (!ups) return err('UNKNOWN-UPS');
      const vars = ups.variables();
      if (!vars) return err('DATA-STALE');
      if (!vars.some(([n]) => ieq(n, name))) return err('VAR-NOT-SUPPORTED');
      // Nothing is writable, so no variable has allowed values to list.
      return wrap(`${kind} ${echo(upsName)} ${echo(name)}`, []);
    }
    return err('INVALID-ARGUMENT');
  }

  private login(args: string[]): NutReply {
    const [upsName] = args;
    if (args.length !== 1 || upsName === undefined) return err('INVALID-ARGUMENT');
    if (this.loginUps !== undefined) return err('ALREADY-LOGGED-IN');
    const ups = this.backend.findUps(upsName);
    if (!ups) return err('UNKNOWN-UPS');
    const user = this.allowed('LOGIN');
    if (!user) return err('ACCESS-DENIED');
    this.loginUps = ups.name;
    this.loginUser = user;
    return line('OK');
  }

  private primary(cmd: 'PRIMARY' | 'MASTER', args: string[]): NutReply {
    const [upsName] = args;
    if (args.length !== 1 || upsName === undefined) return err('INVALID-ARGUMENT');
    if (!this.backend.findUps(upsName)) return err('UNKNOWN-UPS');
    if (!this.allowed('PRIMARY')) return err('ACCESS-DENIED');
    return line(`OK ${cmd}-GRANTED`);
  }

  private fsd(args: string[]): NutReply {
    const [upsName] = args;
    if (args.length !== 1 || upsName === undefined) return err('INVALID-ARGUMENT');
    const ups = this.backend.findUps(upsName);
    if (!ups) return err('UNKNOWN-UPS');
    const user = this.allowed('FSD');
    if (!user) return err('ACCESS-DENIED');
    this.backend.setFsd(ups, user);
    return line('OK FSD-SET');
  }

  private set(args: string[]): NutReply {
    const [what, upsName, name] = args;
    if (what?.toUpperCase() === 'TRACKING') return err('FEATURE-NOT-SUPPORTED');
    if (what?.toUpperCase() !== 'VAR' || args.length < 4 || !upsName || name === undefined)
      return err('INVALID-ARGUMENT');
    const ups = this.backend.findUps(upsName);
    if (!ups) return err('UNKNOWN-UPS');
    const vars = ups.variables();
    if (!vars) return err('DATA-STALE');
    if (!vars.some(([n]) => ieq(n, name))) return err('VAR-NOT-SUPPORTED');
    // ups2mqtt serves no writable variable (LIST RW is empty).
    return err('READONLY');
  }

  private async instcmd(args: string[]): Promise<NutReply> {
    const [upsName, cmdName] = args;
    if (upsName === undefined || cmdName === undefined) return err('INVALID-ARGUMENT');
    const ups = this.backend.findUps(upsName);
    if (!ups) return err('UNKNOWN-UPS');
    if (!ups.variables()) return err('DATA-STALE');
    // upsd checks the UPS offers the command before it checks the user's rights.
    const command = ups.commands().find((c) => ieq(c, cmdName));
    if (command === undefined) return err('CMD-NOT-SUPPORTED');
    const user = this.authenticated();
    if (!user?.instcmds.some((c) => ieq(c, 'all') || ieq(c, command))) return err('ACCESS-DENIED');
    const outcome = await this.backend.instcmd(ups, command, user);
    if (outcome === 'ok') return line('OK');
    return err(outcome === 'unsupported' ? 'CMD-NOT-SUPPORTED' : 'INSTCMD-FAILED');
  }
}
