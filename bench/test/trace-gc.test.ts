import { deepEqual, equal } from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busiestIsolate, parseTraceGc } from '../lib/trace-gc.ts';

const MAIN = '[4711:0x6c1e0a0]';
const WORKER = '[4711:0x7f00d000]';

describe('parseTraceGc', () => {
  it('reads scavenge, mark-compact and reduce lines; skips everything else', () => {
    const text = [
      `${MAIN}       28 ms: Scavenge 3.8 (4.0) -> 3.4 (5.0) MB, 1.33 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; `,
      '{"level":40,"msg":"a log line"}',
      `${MAIN}    35012 ms: Mark-Compact 21.3 (24.9) -> 15.8 (25.1) MB, 9.12 / 0.00 ms  (average mu = 0.99) finalize incremental marking`,
      `${WORKER}     9000 ms: Mark-Compact (reduce) 7.5 (15.2) -> 6.5 (15.1) MB, 6.06 / 0.00 ms  (average mu = 1.000)`,
    ].join('\n');
    deepEqual(parseTraceGc(text), [
      {
        isolate: '0x6c1e0a0',
        atMs: 28,
        kind: 'scavenge',
        usedBeforeMb: 3.8,
        usedAfterMb: 3.4,
        committedAfterMb: 5,
      },
      {
        isolate: '0x6c1e0a0',
        atMs: 35012,
        kind: 'mark-compact',
        usedBeforeMb: 21.3,
        usedAfterMb: 15.8,
        committedAfterMb: 25.1,
      },
      {
        isolate: '0x7f00d000',
        atMs: 9000,
        kind: 'mark-compact',
        usedBeforeMb: 7.5,
        usedAfterMb: 6.5,
        committedAfterMb: 15.1,
      },
    ]);
  });
  it('the busiest isolate is the main thread', () => {
    const line = (who: string): string =>
      `${who} 1 ms: Scavenge 1.0 (2.0) -> 0.5 (2.0) MB, 0.1 / 0.0 ms`;
    equal(
      busiestIsolate(parseTraceGc([line(MAIN), line(WORKER), line(MAIN)].join('\n'))),
      '0x6c1e0a0',
    );
    equal(busiestIsolate([]), undefined);
  });
});
