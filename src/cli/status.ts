import { buildState } from '../bridge/state.ts';
import type { UpsState } from '../core/state.ts';
import { createSource, type SourceDeps } from '../sources/index.ts';
import type { SourceSpec } from '../sources/uri.ts';

/** One reading, as the state topic would carry it. */
export async function readOnce(spec: SourceSpec, deps: SourceDeps): Promise<UpsState> {
  const source = await createSource(spec, deps);
  try {
    await source.open();
    const reading = await source.read(AbortSignal.timeout(Math.max(5000, deps.nis.timeoutMs * 2)));
    return buildState(reading.data, new Date(deps.clock.now()));
  } finally {
    await source.close();
  }
}

/** `key : value` lines, aligned, like apcaccess. */
export function renderHuman(state: UpsState): string {
  const entries = Object.entries(state).filter(([, v]) => v !== undefined);
  const width = Math.max(...entries.map(([k]) => k.length));
  return `${entries.map(([k, v]) => `${k.padEnd(width)} : ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('\n')}\n`;
}
