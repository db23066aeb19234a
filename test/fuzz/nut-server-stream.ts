/**
 * The stream half of the NUT server's fuzz targets (nut-server.targets.ts): a real
 * NutServer on a loopback port per case, fed a byte stream cut anywhere, and what it must
 * answer (every complete line in order; ERR TOO-LONG and a close for a line over the bound;
 * a close after LOGOUT), within the time bound.
 */
import { connect } from 'node:net';
import pino from 'pino';
import type { CommandResult, CommandTarget } from '../../src/commands/router.ts';
import type { UpsFeed } from '../../src/core/ports.ts';
import type { UpsSource } from '../../src/core/source.ts';
import type { UpsState } from '../../src/core/state.ts';
import { NutServer } from '../../src/servers/nut/server.ts';
import { splitNutWords } from '../../src/util/nut-words.ts';
import { check, cut, note, RUN_BUDGET_MS } from './harness.ts';
import { COMMANDS, USERS } from './nut-server-session.ts';

/** The request line bound of the server under test (small, so streams cross it often). */
export const MAX_LINE = 128;
const logger = pino({ level: 'silent' });

function feedOf(id: string, state: Partial<UpsState>): UpsFeed {
  return {
    id,
    name: 'Rack',
    currentAvailability: 'online',
    state: { status: 'online', updated_at: '2026-12-03T12:00:00.000+00:00', ...state },
    onChange: () => () => {},
    onEvent: () => () => {},
  };
}

async function startServer(): Promise<NutServer> {
  const source = { description: 'fake' } as UpsSource;
  const target: CommandTarget = {
    upsId: 'ups',
    source,
    available: () => true,
    afterCommand: () => {},
  };
  const feeds = [feedOf('ups', { online: true, battery_charge_pct: 97, model: 'Back-UPS\nX' })];
  const server = new NutServer(
    { host: '127.0.0.1', port: 0, version: '0.0.0', users: USERS, maxLineBytes: MAX_LINE },
    {
      feeds: () => feeds,
      commands: {
        enabledCommands: () => COMMANDS,
        execute: async (_t, req): Promise<CommandResult> => ({
          status: 'ok',
          command: req.name,
          code: 'done',
          message: 'done',
        }),
      },
      commandTarget: (id) => (id === 'ups' ? target : undefined),
      logger,
    },
  );
  await server.start();
  return server;
}

/** What the server must answer for `stream`: the count of answers, and whether it closes. */
function expected(stream: Buffer): { answers: number; cutOff: boolean; closes: boolean } {
  let answers = 0;
  let from = 0;
  for (;;) {
    const nl = stream.indexOf(0x0a, from);
    const length = (nl < 0 ? stream.length : nl) - from;
    if (length > MAX_LINE) return { answers, cutOff: true, closes: true };
    if (nl < 0) return { answers, cutOff: false, closes: false };
    let line = stream.subarray(from, nl);
    if (line.at(-1) === 0x0d) line = line.subarray(0, -1);
    answers++;
    const words = splitNutWords(line.toString('latin1'));
    if (words?.length === 1 && words[0]?.toUpperCase() === 'LOGOUT') {
      return { answers, cutOff: false, closes: true };
    }
    from = nl + 1;
  }
}

/** Counts whole answers (a list counts once) in `text`; the rest is an unfinished one. */
function countAnswers(text: string): { count: number; tooLong: boolean } {
  const lines = text.split('\n').slice(0, -1);
  let count = 0;
  let inList = false;
  let tooLong = false;
  for (const l of lines) {
    if (inList) {
      if (l.startsWith('END LIST ')) {
        inList = false;
        count++;
      }
      continue;
    }
    if (l.startsWith('BEGIN LIST ')) inList = true;
    else if (l === 'ERR TOO-LONG') tooLong = true;
    else count++;
  }
  return { count, tooLong };
}

/** Writes `chunks` to a fresh server; resolves with what came back once it is all answered. */
async function converse(chunks: readonly Buffer[], stream: Buffer) {
  const want = expected(stream);
  const server = await startServer();
  const started = performance.now();
  try {
    return await new Promise<{ text: string; closedByServer: boolean }>((resolve, reject) => {
      const s = connect(server.port, '127.0.0.1');
      let text = '';
      let ended = false;
      const timer = setTimeout(() => {
        s.destroy();
        reject(
          new Error(
            `no complete answer within ${RUN_BUDGET_MS} ms: got ${JSON.stringify(text.slice(-200))}, want ${JSON.stringify(want)}`,
          ),
        );
      }, RUN_BUDGET_MS);
      const done = (): void => {
        if (want.closes) return;
        if (!ended && countAnswers(text).count >= want.answers) {
          ended = true;
          s.end();
        }
      };
      s.on('data', (d) => {
        text += d.toString('utf8');
        done();
      });
      s.on('error', () => {});
      s.on('close', () => {
        clearTimeout(timer);
        resolve({ text, closedByServer: !ended });
      });
      s.on('connect', async () => {
        for (const c of chunks) {
          if (s.destroyed) return;
          s.write(c);
          await new Promise<void>((r) => setImmediate(r));
        }
        done();
      });
    });
  } finally {
    await server.stop();
    check(performance.now() - started < RUN_BUDGET_MS * 2, 'server did not stop');
  }
}

/**
 * Sends `stream` cut at `cuts` to a fresh server: every complete line gets its answer, in
 * order; a line over the bound gets ERR TOO-LONG and the connection closes; so does LOGOUT.
 */
export async function checkStream(stream: Buffer, cuts: readonly number[]): Promise<void> {
  const want = expected(stream);
  const got = await converse(cut(stream, cuts), stream);
  const { count, tooLong } = countAnswers(got.text);
  check(count === want.answers, `${count} answers to ${want.answers} lines`);
  check(tooLong === want.cutOff, want.cutOff ? 'cut off without ERR TOO-LONG' : 'TOO-LONG');
  if (want.closes) check(got.closedByServer, 'server kept a finished connection open');
  note(want.cutOff ? 'cut off' : want.closes ? 'logout' : 'answered');
}
