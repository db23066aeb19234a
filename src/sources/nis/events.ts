import type { EventType, UpsEvent } from '../../core/events.ts';
import { parseNisTimestamp, trimNis } from './parse.ts';

/**
 * apcupsd's event log over NIS (docs/protocols/nis.md#event-log): line parsing, classification, and the
 * tracker that turns successive `events` replies into new events. Pure.
 */

/** One parsed event-log line. */
export interface NisEventLine {
  /** ISO 8601 with the offset as logged. */
  at: string;
  message: string;
}

/** `2026-11-21 04:45:47 +0000  message` (3.14.8+): timestamp, two spaces, message. */
const ISO_LINE = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4})\s+(\S.*)$/;

/** `Sun Jun 05 21:20:37 PDT 2005  message`: ctime-style, releases before 3.14.8. */
const CTIME_LINE =
  /^([A-Za-z]{3} +[A-Za-z]{3} +\d{1,2} \d{2}:\d{2}:\d{2} [A-Za-z]{1,5} \d{4})\s+(\S.*)$/;

/**
 * Splits an event-log line into time and message. Undefined for lines without a readable
 * timestamp (blank lines, an unknown zone abbreviation): such lines cannot be ordered.
 */
export function parseEventLine(line: string): NisEventLine | undefined {
  const t = trimNis(line);
  const m = ISO_LINE.exec(t) ?? CTIME_LINE.exec(t);
  if (!m) return undefined;
  const at = parseNisTimestamp(m[1] ?? '');
  const message = m[2]?.trim() ?? '';
  return at === undefined || message === '' ? undefined : { at, message };
}

/**
 * The 3.14.14 message catalogue (docs/protocols/nis.md#event-log, apcupsd `action.c`), matched on the start of the
 * message so that trailing details (`UPS Self Test completed: OK`, `signal 15`) do not matter.
 * Messages that are not state transitions (`Users requested to logoff.`) are `other`.
 */
const CATALOGUE: readonly (readonly [RegExp, EventType])[] = [
  [/^power failure\b/i, 'power_lost'],
  [/^running on ups batteries\b/i, 'on_battery'],
  [/^power is back\b/i, 'power_restored'],
  [/^mains returned\b/i, 'power_restored'],
  [/^battery power exhausted\b/i, 'low_battery'],
  [/^reached run ?time limit on batteries\b/i, 'low_battery'],
  [/^battery charge below low limit\b/i, 'low_battery'],
  [/^reached remaining time percentage limit on batteries\b/i, 'low_battery'],
  [/^initiating system shutdown\b/i, 'shutdown_initiated'],
  [/^remote shutdown requested\b/i, 'shutdown_initiated'],
  [/^ups self test switch to battery\b/i, 'self_test_started'],
  [/^ups self test completed\b/i, 'self_test_completed'],
  [/^communications with ups lost\b/i, 'comm_lost'],
  [/^communications with ups restored\b/i, 'comm_restored'],
  [/^ups battery must be replaced\b/i, 'replace_battery'],
  [/^battery disconnected\b/i, 'battery_disconnected'],
  [/^battery reattached\b/i, 'battery_reattached'],
  [/^apcupsd\b.*\bstartup succeeded\b/i, 'daemon_started'],
  [/^apcupsd exiting\b/i, 'daemon_stopped'],
  [/^apcupsd\b.*\bshutdown succeeded\b/i, 'daemon_stopped'],
];

/** Names the event an apcupsd log message stands for; `other` when it is not in the catalogue. */
export function classifyEventMessage(message: string): EventType {
  const m = message.trim();
  for (const [pattern, type] of CATALOGUE) if (pattern.test(m)) return type;
  return 'other';
}

/** Options of {@link EventLogTracker.ingest}. */
export interface IngestOptions {
  /**
   * True for the first fetch after process start: the reply only sets the baseline and
   * nothing is returned (history is not replayed as if it had just happened).
   */
  initial: boolean;
}

interface DatedLine extends NisEventLine {
  ms: number;
  /** Identity of the line among lines logged at the same instant. */
  key: string;
}

/** Events that end a self-test window, besides its own completion message. */
const ENDS_SELF_TEST: ReadonlySet<EventType> = new Set<EventType>([
  'self_test_completed',
  'power_restored',
  'daemon_started',
  'daemon_stopped',
]);

/**
 * Turns successive `events` replies (the last ≤ 50 lines of apcupsd's log, oldest first) into
 * the events not delivered before: each logged line is returned once, across polls and
 * reconnects, so an outage of the bridge delivers what happened meanwhile, once.
 *
 * How: it remembers the newest timestamp seen and how many times each line occurred at that
 * instant. Older lines were either delivered or predate the baseline; lines at that instant
 * are new only beyond the remembered count (the log can legitimately repeat a line within one
 * second); newer lines are new. Memory is one reply's lines at one instant at most.
 *
 * Limits: a line with an unreadable timestamp is skipped; lines dated before the newest one
 * seen (the daemon's clock stepped back) are not delivered; if earlier copies of a line at
 * the newest instant scroll out of the 50-line window while new copies arrive in that same
 * second, the new ones count as seen (a gap is preferred to duplicates in that corner).
 */
export class EventLogTracker {
  private newestMs: number | undefined;
  private countsAtNewest = new Map<string, number>();
  private inSelfTest = false;

  /** Feeds one reply; returns its new lines as events, oldest first. */
  ingest(lines: readonly string[], options: IngestOptions): UpsEvent[] {
    const dated = datedLines(lines);
    const fresh = options.initial ? [] : this.unseen(dated);
    // The baseline reply still tells whether a self-test is running right now.
    const events = (options.initial ? dated : fresh).map((line) => this.toEvent(line));
    this.remember(dated);
    return options.initial ? [] : events;
  }

  private unseen(dated: readonly DatedLine[]): DatedLine[] {
    const newest = this.newestMs;
    if (newest === undefined) return [...dated];
    const counts = new Map<string, number>();
    return dated.filter((line) => {
      if (line.ms < newest) return false;
      if (line.ms > newest) return true;
      const n = (counts.get(line.key) ?? 0) + 1;
      counts.set(line.key, n);
      return n > (this.countsAtNewest.get(line.key) ?? 0);
    });
  }

  private remember(dated: readonly DatedLine[]): void {
    let newest = this.newestMs;
    for (const line of dated) if (newest === undefined || line.ms > newest) newest = line.ms;
    if (newest === undefined) return;
    const counts = new Map<string, number>();
    for (const line of dated) {
      if (line.ms === newest) counts.set(line.key, (counts.get(line.key) ?? 0) + 1);
    }
    if (newest === this.newestMs) {
      // Same instant as before: the reply may have lost earlier copies off its 50-line window.
      for (const [key, n] of this.countsAtNewest) {
        counts.set(key, Math.max(n, counts.get(key) ?? 0));
      }
    }
    this.newestMs = newest;
    this.countsAtNewest = counts;
  }

  private toEvent(line: DatedLine): UpsEvent {
    const type = classifyEventMessage(line.message);
    if (type === 'self_test_started') this.inSelfTest = true;
    const event: UpsEvent = {
      event_type: type,
      at: line.at,
      message: line.message,
      origin: 'source_log',
    };
    // apcupsd logs the transfer of a battery self-test as a test, but a test that runs
    // long falls through to the on-battery path (action.c): flag those as part of the test.
    if (this.inSelfTest && (type === 'on_battery' || type === 'power_lost')) {
      event.during_self_test = true;
    }
    if (ENDS_SELF_TEST.has(type)) this.inSelfTest = false;
    return event;
  }
}

function datedLines(lines: readonly string[]): DatedLine[] {
  const out: DatedLine[] = [];
  for (const raw of lines) {
    const line = parseEventLine(raw);
    if (line === undefined) continue;
    const ms = Date.parse(line.at);
    if (Number.isFinite(ms)) out.push({ ...line, ms, key: `${line.at} ${line.message}` });
  }
  return out;
}
