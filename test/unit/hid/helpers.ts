/** Shared helpers of the HID tests: fixtures, a log sink, a replayed source. */

import { readdirSync, readFileSync } from 'node:fs';
import { ManualClock } from '../../../src/core/clock.ts';
import { type HidCapture, parseCapture } from '../../../src/sources/hid/capture.ts';
import { ReplayDevice, ReplayEnumerator } from '../../../src/sources/hid/replay.ts';
import { HidSource, type HidSourceOptions } from '../../../src/sources/hid/source.ts';

export const FIXTURE_DIR = new URL('../../fixtures/hid/', import.meta.url);

/** Every capture file, by name. */
export const CAPTURES = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

export function loadCapture(name: string): HidCapture {
  const text = readFileSync(new URL(name, FIXTURE_DIR), 'utf8');
  return parseCapture(JSON.parse(text), name);
}

export function readRpt(name: string): string {
  return readFileSync(new URL(`apcupsd-rpt/${name}`, FIXTURE_DIR), 'utf8');
}

export const ES850G2 = 'apc-051d-0002-back-ups-es-850g2.json';
export const XS1400U = 'apc-051d-0002-back-ups-xs-1400u.json';
export const RS1000G = 'apc-051d-0002-back-ups-rs-1000g.json';
export const SU1500RM = 'apc-051d-0002-smart-ups-1500-rm.json';
export const SU3000 = 'apc-051d-0003-smart-ups-3000.json';
export const SUX750 = 'apc-051d-0003-smart-ups-x-750.json';
export const CP1500 = 'cps-0764-0501-cp1500pfclcd.json';

import { captureLogger } from '../../helpers/log-capture.ts';

export type { LogLine } from '../../helpers/log-capture.ts';
export { captureLogger };

/** A source over a replayed fixture, on a manual clock, without pacing. */
export function replaySource(name: string, extra: Partial<HidSourceOptions> = {}) {
  const device = new ReplayDevice(loadCapture(name), `replay:${name}`, { record: true });
  const enumerator = new ReplayEnumerator(device);
  const clock = new ManualClock(1_000_000);
  const { logger, lines } = captureLogger();
  const source = new HidSource({
    description: `hid-replay://${name}`,
    selector: {},
    enumerator,
    logger,
    clock,
    minGapMs: 0,
    ...extra,
  });
  return { source, device, enumerator, clock, lines };
}

/** A fresh signal for read(). */
export function signal(): AbortSignal {
  return new AbortController().signal;
}

/** NUT prints values with %g (6 significant digits): equal within that precision. */
export function closeToG(actual: number, expected: number): boolean {
  if (expected === 0) return Math.abs(actual) < 1e-9;
  return Math.abs(actual - expected) <= 5e-6 * Math.abs(expected);
}
