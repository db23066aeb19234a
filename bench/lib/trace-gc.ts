/**
 * Heap sizes from V8's `--trace-gc` lines, which Node prints to stdout, e.g.
 *
 *   [4711:0x6c1e0a0]    35012 ms: Mark-Compact 21.3 (24.9) -> 15.8 (25.1) MB, 9.12 / 0.00 ms ...
 *
 * "used before (committed) -> used after (committed)". The used size after a Mark-Compact is
 * the best outside view of the live heap: a leak makes it climb from one full GC to the next.
 * Pure parsing; the caller supplies the text.
 */

/** One GC event. */
export interface GcEvent {
  /** The isolate address (`0x…`): the main thread and each worker have their own. */
  readonly isolate: string;
  /** Milliseconds since that isolate started. */
  readonly atMs: number;
  readonly kind: 'scavenge' | 'mark-compact' | 'other';
  readonly usedBeforeMb: number;
  readonly usedAfterMb: number;
  readonly committedAfterMb: number;
}

const LINE =
  /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: ([A-Za-z -]+?)(?: \([a-z ]+\))? ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/;

/** Parses every `--trace-gc` line in `text`; other lines are ignored. */
export function parseTraceGc(text: string): GcEvent[] {
  const events: GcEvent[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line.trim());
    if (m === null) continue;
    const name = m[3] ?? '';
    events.push({
      isolate: m[1] ?? '',
      atMs: Number(m[2]),
      kind: name === 'Scavenge' ? 'scavenge' : name === 'Mark-Compact' ? 'mark-compact' : 'other',
      usedBeforeMb: Number(m[4]),
      usedAfterMb: Number(m[6]),
      committedAfterMb: Number(m[7]),
    });
  }
  return events;
}

/** The isolate with the most GC events: the main thread of a Node process. */
export function busiestIsolate(events: readonly GcEvent[]): string | undefined {
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e.isolate, (counts.get(e.isolate) ?? 0) + 1);
  let best: string | undefined;
  let most = 0;
  for (const [isolate, n] of counts) {
    if (n > most) {
      best = isolate;
      most = n;
    }
  }
  return best;
}
