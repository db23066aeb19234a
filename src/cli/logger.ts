import { createRequire } from 'node:module';
import pino from 'pino';
import type { Logger } from '../core/log.ts';

/** Paths redacted from every log line: secrets never reach logs. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'mqtt.password',
  'config.mqtt.password',
  'options.password',
  'headers.authorization',
  'token',
  '*.token',
];

export interface LoggerOptions {
  level: string;
  format: 'auto' | 'json' | 'pretty';
  /** Whether stderr is a terminal (for `auto`). */
  isTty: boolean;
  /** Where lines go; default stderr so stdout stays clean for `status --json`. */
  destination?: NodeJS.WritableStream;
}

/** Builds the root logger: JSON by default, pretty on a terminal or when asked. */
export function createLogger(opts: LoggerOptions): Logger {
  const usePretty = opts.format === 'pretty' || (opts.format === 'auto' && opts.isTty);
  const base = {
    level: opts.level,
    base: { name: 'ups2mqtt' },
    redact: { paths: REDACT_PATHS, censor: '***' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const dest = opts.destination ?? process.stderr;
  if (usePretty) {
    // Loaded only for a terminal or when asked: a service logging JSON never needs it.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
    return pino(
      base,
      pretty({
        destination: dest,
        colorize: opts.isTty,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,name',
        sync: true,
      }),
    );
  }
  return pino(base, dest);
}
