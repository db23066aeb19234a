import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../../src/core/log.ts';
import { createSimState, type SimState } from '../../../src/sources/sim/model.ts';
import { parseSimParams } from '../../../src/sources/sim/params.ts';

/** A model built from URI parameters, as `sim://<model>?…` would build it. */
export function model(params: Record<string, string> = {}, name = 'default'): SimState {
  const settings = parseSimParams({ model: name, params });
  return createSimState(settings.config, settings.initial);
}

/** A logger that keeps every record it is given, parsed. */
export function captureLogger(): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') records.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), records };
}

/** Keeps only the listed keys of an object, for comparing a slice of a reading. */
export function pick<T extends object, K extends keyof T>(obj: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) if (k in obj) out[k] = obj[k];
  return out;
}
