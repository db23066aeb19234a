/**
 * What the NIS- and serial-side fault tests share: waiting for an availability change after
 * a moment, latency figures in poll intervals, the check that no published state claims a
 * reading the source never gave, and one printed line per figure set, which
 * docs/reliability.md is refreshed from (`grep '^fault-figures '` over a test run).
 */
import * as assert from 'node:assert/strict';
import type { MqttRecording, RecordedMessage } from '../helpers/mqtt-recorder.ts';
import type { ResourceSnapshot } from './harness.ts';

/** Topics of one UPS under the default base topic. */
export function upsTopics(upsId: string): { availability: string; state: string } {
  return { availability: `ups2mqtt/${upsId}/availability`, state: `ups2mqtt/${upsId}/state` };
}

/**
 * The first `value` on the availability topic received at or after `sinceMs` (`Date.now()`
 * clock, the recorder's receive time).
 */
export function availabilityAfter(
  rec: MqttRecording,
  upsId: string,
  value: 'online' | 'offline',
  sinceMs: number,
  timeoutMs: number,
): Promise<RecordedMessage> {
  const topic = upsTopics(upsId).availability;
  return rec.waitFor(
    (m) => m.topic === topic && m.text === value && m.receivedAt >= sinceMs,
    timeoutMs,
  );
}

/** The state payloads of `upsId` received at or after `sinceMs`, parsed. */
export function statesSince(
  rec: MqttRecording,
  upsId: string,
  sinceMs: number,
): Record<string, unknown>[] {
  const topic = upsTopics(upsId).state;
  return rec.messages
    .filter((m) => m.topic === topic && m.receivedAt >= sinceMs)
    .map((m) => JSON.parse(m.text) as Record<string, unknown>);
}

/**
 * Every state published is either the simulated unit's real reading (on mains, the values
 * `expect` lists) or the reduced `comm_lost` state without measurements: never a placeholder
 * (apcupsd's start-up answers) passed off as a reading.
 */
export function assertOnlyRealReadings(
  states: readonly Record<string, unknown>[],
  expect: Readonly<Record<string, unknown>>,
  where: string,
): void {
  for (const state of states) {
    if (state.status === 'comm_lost') {
      assert.equal(state.input_voltage_v, undefined, `${where}: comm_lost state has no values`);
      continue;
    }
    for (const [key, value] of Object.entries(expect)) {
      assert.deepEqual(state[key], value, `${where}: ${key} in ${JSON.stringify(state)}`);
    }
  }
}

/** Median and maximum of latencies, in ms and in poll intervals. */
export interface LatencyFigures {
  readonly count: number;
  readonly medianMs: number;
  readonly maxMs: number;
  readonly medianIntervals: number;
  readonly maxIntervals: number;
}

export function latencyFigures(samplesMs: readonly number[], intervalMs: number): LatencyFigures {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median =
    sorted.length === 0
      ? Number.NaN
      : sorted.length % 2 === 1
        ? (sorted[Math.floor(mid)] as number)
        : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  const max = sorted.at(-1) ?? Number.NaN;
  const round = (x: number, digits: number): number => Number(x.toFixed(digits));
  return {
    count: sorted.length,
    medianMs: Math.round(median),
    maxMs: Math.round(max),
    medianIntervals: round(median / intervalMs, 2),
    maxIntervals: round(max / intervalMs, 2),
  };
}

/** The resource counts of a snapshot, for the printed figures. */
export function counts(s: ResourceSnapshot): Record<string, number> {
  return {
    fds: s.fds,
    sockets: s.sockets,
    timers: s.timers,
    heapMiB: Number((s.heapUsed / 1048576).toFixed(1)),
  };
}

/** Prints one figure set as `fault-figures {json}` (docs/reliability.md is built from these). */
export function printFigures(fault: string, figures: Record<string, unknown>): void {
  console.log(`fault-figures ${JSON.stringify({ fault, ...figures })}`);
}

/**
 * The bridge's JSON log lines at `warn` or above logged from `sinceMs` to `untilMs` (pino
 * levels: 40 warn, 50 error, 60 fatal; `time` in ISO form), parsed.
 */
export function warnLines(
  output: string,
  sinceMs: number,
  untilMs: number = Number.POSITIVE_INFINITY,
): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const at = Date.parse(String(entry.time));
    if (typeof entry.level !== 'number' || entry.level < 40) continue;
    if (!(at >= sinceMs && at <= untilMs)) continue;
    found.push(entry);
  }
  return found;
}

/** Times (ms since the epoch) of the bridge's log lines with message `msg` from `sinceMs`. */
export function logTimes(output: string, msg: string, sinceMs: number): number[] {
  const times: number[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{') || !line.includes(msg)) continue;
    try {
      const entry = JSON.parse(line) as { msg?: unknown; time?: unknown };
      const at = Date.parse(String(entry.time));
      if (entry.msg === msg && at >= sinceMs) times.push(at);
    } catch {
      // not a log line
    }
  }
  return times;
}
