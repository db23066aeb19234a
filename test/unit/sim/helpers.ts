import { createSimState, type SimState } from '../../../src/sources/sim/model.ts';
import { parseSimParams } from '../../../src/sources/sim/params.ts';

/** A model built from URI parameters, as `sim://<model>?…` would build it. */
export function model(params: Record<string, string> = {}, name = 'default'): SimState {
  const settings = parseSimParams({ model: name, params });
  return createSimState(settings.config, settings.initial);
}

/** Keeps only the listed keys of an object, for comparing a slice of a reading. */
export function pick<T extends object, K extends keyof T>(obj: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) if (k in obj) out[k] = obj[k];
  return out;
}
