/**
 * The one test logger capture: a real pino logger (the production logger's library, so
 * bindings, child loggers and error serialisation behave as in the product) whose lines
 * are kept parsed for assertions. `level` is the level's name (`'warn'`), `msg` the message,
 * and every bound or logged field sits at the top level, as pino writes it.
 */
import { pino } from 'pino';
import type { Logger } from '../../src/core/log.ts';

export type LevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** One logged line. */
export interface LogLine {
  level: LevelName;
  /** The message; empty when a line has none. */
  msg: string;
  [field: string]: unknown;
}

const NAMES: Readonly<Record<number, LevelName>> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** A logger at `level` (default everything) and the lines it wrote, oldest first. */
export function captureLogger(level: LevelName = 'trace'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level },
    {
      write: (text: string) => {
        const raw = JSON.parse(text) as Record<string, unknown> & { level: number };
        lines.push({ ...raw, level: NAMES[raw.level] ?? 'info', msg: String(raw.msg ?? '') });
      },
    },
  );
  return { logger, lines };
}
