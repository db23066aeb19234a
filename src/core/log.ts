import type { Logger as PinoLogger } from 'pino';

/** The logger every module receives. Object first, message second; errors under `err`. */
export type Logger = Pick<
  PinoLogger,
  'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'child'
>;
