/**
 * Factories for `hid://` and `hid-replay://` sources (src/sources/index.ts imports this file
 * lazily, so NIS-only runs never touch HID code).
 */

import { isAbsolute, resolve } from 'node:path';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import type { SourceSpec } from '../uri.ts';
import { vidPid } from './identity.ts';
import { ReplayFileEnumerator } from './replay.ts';
import { selectorText } from './select.ts';
import { HidSource } from './source.ts';
import { findUnboundUsbUps, LINUX_PATHS, type SysfsPaths } from './sysfs.ts';
import { createSystemEnumerator } from './system.ts';
import type { HidEnumerator } from './transport.ts';

/** What the factories need besides the URI. */
export interface HidSourceDeps {
  logger: Logger;
  clock: Clock;
  /** Replaces the system enumerator (tests, embedding). */
  enumerator?: HidEnumerator;
  /** Defaults to the running platform. */
  platform?: NodeJS.Platform;
  sysfs?: SysfsPaths;
  /** Base of relative `hid-replay://` paths; defaults to the process's working directory. */
  cwd?: string;
  timeoutMs?: number;
  minGapMs?: number;
  staticRefreshMs?: number;
}

/**
 * A ref'd interval while a HID operation runs: the system clock's timers are unref'd, and a
 * one-shot command has no socket to keep the process alive between paced transfers.
 */
export function holdProcess(): () => void {
  const timer = setInterval(() => undefined, 60_000);
  return () => clearInterval(timer);
}

/** Lines explaining UPSes that are on USB but not reachable as hidraw (Linux). */
export async function explainUnbound(paths: SysfsPaths = LINUX_PATHS): Promise<string[]> {
  return (await findUnboundUsbUps(paths)).map(
    (u) =>
      `${vidPid(u.vendorId, u.productId)}${u.product ? ` "${u.product}"` : ''} is on USB but has no hidraw node` +
      (u.driver === 'usbfs'
        ? ' (claimed by a user-space program such as NUT usbhid-ups or apcupsd)'
        : u.driver
          ? ` (bound to driver ${u.driver})`
          : ' (no driver bound)'),
  );
}

function tuning(deps: HidSourceDeps): {
  timeoutMs?: number;
  minGapMs?: number;
  staticRefreshMs?: number;
} {
  const out: { timeoutMs?: number; minGapMs?: number; staticRefreshMs?: number } = {};
  if (deps.timeoutMs !== undefined) out.timeoutMs = deps.timeoutMs;
  if (deps.minGapMs !== undefined) out.minGapMs = deps.minGapMs;
  if (deps.staticRefreshMs !== undefined) out.staticRefreshMs = deps.staticRefreshMs;
  return out;
}

/** A source for `hid://auto`, `hid://VID:PID` or `hid://VID:PID/SERIAL`. */
export function createHidSource(
  spec: Extract<SourceSpec, { kind: 'hid' }>,
  deps: HidSourceDeps,
): HidSource {
  const platform = deps.platform ?? process.platform;
  const { kind: _kind, ...selector } = spec;
  const sysfs = deps.sysfs ?? LINUX_PATHS;
  return new HidSource({
    description: selectorText(selector),
    selector,
    enumerator: deps.enumerator ?? createSystemEnumerator({ platform, sysfs }),
    logger: deps.logger,
    clock: deps.clock,
    holdProcess,
    ...tuning(deps),
    ...(platform === 'linux' ? { explainMissing: () => explainUnbound(sysfs) } : {}),
  });
}

/** The file a `hid-replay://` URI names: `hid-replay:///abs.json` or relative to `cwd`. */
export function replayPath(spec: Extract<SourceSpec, { kind: 'hid-replay' }>, cwd: string): string {
  return isAbsolute(spec.path) ? spec.path : resolve(cwd, spec.path);
}

/** A source replaying a capture file (the fixtures' format, or `ups2mqtt hid dump` output). */
export function createHidReplaySource(
  spec: Extract<SourceSpec, { kind: 'hid-replay' }>,
  deps: HidSourceDeps,
): HidSource {
  const file = replayPath(spec, deps.cwd ?? process.cwd());
  return new HidSource({
    description: `hid-replay://${spec.path}`,
    selector: {},
    enumerator: deps.enumerator ?? new ReplayFileEnumerator(file),
    logger: deps.logger,
    clock: deps.clock,
    minGapMs: 0,
    holdProcess,
    ...tuning(deps),
  });
}
