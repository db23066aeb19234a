import { deepEqual, equal, throws } from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  asCpuProfile,
  type CpuProfile,
  callersOf,
  shortFile,
  summarizeProfile,
} from '../lib/cpuprofile.ts';

/**
 * root ─┬─ (idle)            3 samples × 1 ms
 *       └─ poll src/bridge/ups-bridge.ts:10
 *            └─ writev        2 samples × 1 ms
 *       └─ publish node_modules/mqtt/build/lib/client.js:449
 *            └─ writev        1 sample × 2 ms
 */
const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 3, 5] },
    { id: 2, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
    {
      id: 3,
      callFrame: {
        functionName: 'poll',
        url: 'file:///srv/ups2mqtt/src/bridge/ups-bridge.ts',
        lineNumber: 9,
      },
      children: [4],
    },
    { id: 4, callFrame: { functionName: 'writev', url: '', lineNumber: -1 } },
    {
      id: 5,
      callFrame: {
        functionName: 'publish',
        url: 'file:///srv/ups2mqtt/node_modules/mqtt/build/lib/client.js',
        lineNumber: 448,
      },
      children: [6],
    },
    { id: 6, callFrame: { functionName: 'writev', url: '', lineNumber: -1 } },
  ],
  samples: [2, 2, 4, 2, 4, 6],
  timeDeltas: [1000, 1000, 1000, 1000, 1000, 2000],
};

describe('summarizeProfile', () => {
  it('ranks self time by function and by file, idle included', () => {
    const s = summarizeProfile(PROFILE);
    equal(s.totalMs, 7);
    equal(s.idleMs, 3);
    deepEqual(s.functions, [
      { name: 'writev', selfMs: 4, pct: 57.1 },
      { name: '(idle)', selfMs: 3, pct: 42.9 },
    ]);
  });
});

describe('callersOf', () => {
  it('groups a frame by its calling chain, largest first', () => {
    deepEqual(callersOf(PROFILE, 'writev'), [
      { chain: ['poll src/bridge/ups-bridge.ts:10'], selfMs: 2, pct: 28.6 },
      { chain: ['publish mqtt/build/lib/client.js:449'], selfMs: 2, pct: 28.6 },
    ]);
  });
});

describe('shortFile', () => {
  const cases: [url: string, expected: string][] = [
    [
      'file:///srv/ups2mqtt/node_modules/mqtt-packet/writeToStream.js',
      'mqtt-packet/writeToStream.js',
    ],
    ['file:///srv/ups2mqtt/src/sources/nis/client.ts', 'src/sources/nis/client.ts'],
    ['node:net', 'node:net'],
    ['', '(native)'],
  ];
  for (const [url, expected] of cases) it(url || '(empty)', () => equal(shortFile(url), expected));
});

describe('asCpuProfile', () => {
  it('rejects JSON that is not a profile', () =>
    throws(() => asCpuProfile({ nodes: [] }), { code: 'PROTOCOL_ERROR' }));
});

describe('callersOf without node internals', () => {
  it('skips node: frames and keeps counting the others', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2] },
        {
          id: 2,
          callFrame: {
            functionName: 'publish',
            url: 'file:///x/node_modules/mqtt/c.js',
            lineNumber: 0,
          },
          children: [3],
        },
        {
          id: 3,
          callFrame: {
            functionName: 'uncork',
            url: 'node:internal/streams/writable',
            lineNumber: 4,
          },
          children: [4],
        },
        { id: 4, callFrame: { functionName: 'writev', url: '', lineNumber: -1 } },
      ],
      samples: [4],
      timeDeltas: [1000],
    };
    deepEqual(callersOf(profile, 'writev', 4, 3, true), [
      { chain: ['publish mqtt/c.js:1'], selfMs: 1, pct: 100 },
    ]);
    deepEqual(callersOf(profile, 'writev', 4, 3, false)[0]?.chain, [
      'uncork node:internal/streams/writable:5',
      'publish mqtt/c.js:1',
    ]);
  });
});
