import { applySelfTest, canSelfTest } from '../bridge/self-test.ts';
import { buildState } from '../bridge/state.ts';
import type { UpsState } from '../core/state.ts';
import { type CapturePlan, capturePlan, isDescriptorOnly } from '../sources/hid/capture-plan.ts';
import { loadCaptureFile } from '../sources/hid/replay.ts';
import { createSource, type SourceDeps } from '../sources/index.ts';
import type { SourceSpec } from '../sources/uri.ts';

/**
 * One reading, as the first state message would carry it: the bridge-tracked self-test
 * lifecycle starts from what the source reports, exactly as the bridge does on its first
 * reading (a one-shot reading cannot see a test start or end, so nothing more).
 */
export async function readOnce(spec: SourceSpec, deps: SourceDeps): Promise<UpsState> {
  const source = await createSource(spec, deps);
  try {
    await source.open();
    const reading = await source.read(AbortSignal.timeout(Math.max(5000, deps.nis.timeoutMs * 2)));
    const state = buildState(reading.data, new Date(deps.clock.now()));
    applySelfTest(undefined, state, canSelfTest(source));
    return state;
  } finally {
    await source.close();
  }
}

/**
 * A `hid-replay://` capture with a descriptor but no report values has nothing to read; its
 * identity and read plan instead, or undefined for any other source.
 */
export async function replayPlan(spec: SourceSpec): Promise<CapturePlan | undefined> {
  if (spec.kind !== 'hid-replay') return undefined;
  const capture = await loadCaptureFile(spec.path);
  return isDescriptorOnly(capture) ? capturePlan(capture) : undefined;
}

/** `key : value` lines, aligned, like apcaccess. */
export function renderHuman(state: UpsState): string {
  const entries = Object.entries(state).filter(([, v]) => v !== undefined);
  const width = Math.max(...entries.map(([k]) => k.length));
  return `${entries.map(([k, v]) => `${k.padEnd(width)} : ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('\n')}\n`;
}
