/**
 * Words for logs and command outcomes: what a command's read-back says, and the values the
 * mapping did not use (SourceReading.unknown, logged by the bridge at trace level). Pure.
 */

import type { CommandPlan } from './commands.ts';
import type { HidConnection } from './connect.ts';
import type { ValueStore } from './decode.ts';
import { beeperWord, selfTestResult } from './enums.ts';

/** How many unmapped values a reading carries at most (the Modbus tunnel has hundreds). */
const MAX_UNKNOWN = 200;

/** The read-back after a command, in words. */
export function describeReadBack(plan: CommandPlan, value: number | undefined): string {
  if (value === undefined) return 'the UPS did not report the new value';
  if (plan.command.startsWith('test.')) {
    return `Test reads ${value} (${selfTestResult(value).replace('_', ' ')})`;
  }
  if (plan.command.startsWith('beeper.')) return `beeper reads ${beeperWord(value) ?? value}`;
  return value < 0 ? 'shutdown timer reads idle (-1)' : `shutdown timer reads ${value} s`;
}

/** Decoded values of paths no signal uses, as text. */
export function unknownValues(conn: HidConnection, store: ValueStore): Record<string, string> {
  const used = new Set<string>();
  for (const paths of Object.values(conn.signalPaths)) for (const p of paths) used.add(p);
  const out: Record<string, string> = {};
  let n = 0;
  for (const [path, value] of store.view()) {
    if (used.has(path)) continue;
    if (++n > MAX_UNKNOWN) break;
    out[path] = String(value);
  }
  return out;
}
