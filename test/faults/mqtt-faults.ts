/**
 * Shared pieces of the MQTT-side fault tests (mqtt-*.test.ts): a broker that requires a
 * password nobody else could print, the bridge's JSON log lines parsed from its whole output,
 * and the small statistics the summary table in docs/reliability.md (MQTT sections) is made of.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { RecordedMessage } from '../helpers/mqtt-recorder.ts';
import type { ManagedProcess } from '../helpers/process.ts';
import type { ResourceSnapshot } from './harness.ts';

/** A broker login whose password is random letters and digits (no URL encoding, no collision). */
export function brokerLogin(label: string): { username: string; password: string } {
  return { username: 'ups2mqtt', password: `${label}Pw${randomBytes(9).toString('hex')}` };
}

/** Enough to keep a whole fault run's output (the scan below refuses a cut one). */
export const KEEP_ALL_OUTPUT = 32 * 1024 * 1024;

/** One line the bridge logged (pino JSON): time as epoch ms, numeric level, message, the rest. */
export interface BridgeLogLine {
  readonly time: number;
  readonly level: number;
  readonly msg: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export const WARN = 40;
export const INFO = 30;

/** Every JSON log line in `proc`'s captured output (stdout and stderr), oldest first. */
export function logLines(proc: ManagedProcess): BridgeLogLine[] {
  const out: BridgeLogLine[] = [];
  for (const text of proc.output().split('\n')) {
    if (!text.startsWith('{')) continue;
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch {
      continue;
    }
    // The bridge stamps ISO times (pino's isoTime); epoch ms is accepted too.
    const time = typeof raw.time === 'string' ? Date.parse(raw.time) : raw.time;
    if (typeof time !== 'number' || !Number.isFinite(time) || typeof raw.level !== 'number') {
      continue;
    }
    out.push({ time, level: raw.level, msg: String(raw.msg ?? ''), fields: raw });
  }
  return out.sort((a, b) => a.time - b.time);
}

/** Lines per second over [from, to) and the busiest single second, for `lines`. */
export function lineRate(
  lines: readonly BridgeLogLine[],
  from: number,
  to: number,
): { total: number; perSecond: number; busiestSecond: number } {
  const inside = lines.filter((l) => l.time >= from && l.time < to);
  const buckets = new Map<number, number>();
  for (const l of inside) {
    const second = Math.floor((l.time - from) / 1000);
    buckets.set(second, (buckets.get(second) ?? 0) + 1);
  }
  return {
    total: inside.length,
    perSecond: round2(inside.length / Math.max(0.001, (to - from) / 1000)),
    busiestSecond: Math.max(0, ...buckets.values()),
  };
}

/** Asserts that none of `secrets` occurs in `proc`'s whole output (which must not be cut). */
export function assertNoSecrets(proc: ManagedProcess, secrets: readonly string[]): void {
  const text = proc.output();
  assert.ok(!text.includes('chars dropped]'), `${proc.name}: output was cut, cannot scan it`);
  for (const secret of secrets) {
    const at = text.indexOf(secret);
    assert.equal(at, -1, `${proc.name} printed a configured secret: …${text.slice(at - 200, at)}`);
  }
}

/** The JSON payload of a recorded message. */
export function json(m: RecordedMessage): Record<string, unknown> {
  return JSON.parse(m.text) as Record<string, unknown>;
}

/** Epoch ms of a state message's `updated_at`. */
export function updatedAt(m: RecordedMessage): number {
  const at = Date.parse(String(json(m).updated_at));
  assert.ok(Number.isFinite(at), `state without a valid updated_at: ${m.text}`);
  return at;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

export const MIB = 1024 * 1024;

/** Bytes as MiB with two decimals, for diagnostics. */
export function mib(bytes: number): number {
  return round2(bytes / MIB);
}

/** Before/after resource figures of a fault test, as its diagnostic line prints them. */
export function resourceFigures(before: ResourceSnapshot, after: ResourceSnapshot): object {
  return {
    before: { fds: before.fds, sockets: before.sockets, timers: before.timers },
    after: { fds: after.fds, sockets: after.sockets, timers: after.timers },
    heap_mib: { before: mib(before.heapUsed), after: mib(after.heapUsed) },
    rss_mib: { before: mib(before.rss), after: mib(after.rss) },
  };
}
