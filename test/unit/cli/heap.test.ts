import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { semiSpaceCapMiB, userSizedYoungGeneration } from '../../../src/cli/heap.ts';

const HEAP = fileURLToPath(new URL('../../../src/cli/heap.ts', import.meta.url));

/**
 * A child Node that imports heap.ts as the CLI does, settles it for `polls` polls a second,
 * then allocates like a busy bridge (objects that survive a scavenge or two, the event loop
 * turning between batches); its semi-space size in MiB before and after.
 */
function semiSpaceMiB(
  polls: number | undefined,
  nodeOptions = '',
): { before: number; after: number; decided: unknown } {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { setImmediate as turn } from 'node:timers/promises';
    import { settleYoungGeneration } from ${JSON.stringify(HEAP)};
    const size = () => (getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) / 2 / 1048576;
    const decided = ${polls === undefined ? 'null' : `settleYoungGeneration(${polls})`};
    const before = size();
    let keep = [];
    for (let round = 0; round < 600; round++) {
      const batch = [];
      for (let i = 0; i < 2000; i++) batch.push({ round, i, text: 'x'.repeat(i % 50) });
      keep.push(batch);
      if (keep.length > 8) keep = keep.slice(-8);
      await turn();
    }
    process.stdout.write(JSON.stringify({ before, after: size(), decided }));
  `;
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: nodeOptions } },
  );
  return JSON.parse(out) as { before: number; after: number; decided: unknown };
}

describe('the young generation sized to the bridge', () => {
  it('one MiB of semi-space per 25 polls a second, a power of two, V8 from 16 MiB', () => {
    assert.equal(semiSpaceCapMiB(0), 1);
    assert.equal(semiSpaceCapMiB(1), 1);
    assert.equal(semiSpaceCapMiB(16), 1);
    assert.equal(semiSpaceCapMiB(40), 2);
    assert.equal(semiSpaceCapMiB(100), 4);
    assert.equal(semiSpaceCapMiB(200), 8);
    assert.equal(semiSpaceCapMiB(1000), 16);
    assert.equal(semiSpaceCapMiB(10_000), 16);
  });

  // The child's loader (tsx) may grow the space before heap.ts is imported: held means
  // no growth after it.
  it('holds the new space where it is until the UPSes are known', () => {
    const r = semiSpaceMiB(undefined);
    assert.ok(r.before <= 2, JSON.stringify(r));
    assert.equal(r.after, r.before, JSON.stringify(r));
  });

  it('holds a small bridge where it is', () => {
    const r = semiSpaceMiB(1);
    assert.deepEqual(r.decided, { kind: 'capped', semiSpaceMiB: 1 });
    assert.equal(r.after, r.before, JSON.stringify(r));
  });

  it('lets a fleet of 100 polls a second grow to 4 MiB and no further', () => {
    const r = semiSpaceMiB(100);
    assert.deepEqual(r.decided, { kind: 'capped', semiSpaceMiB: 4 });
    assert.ok(r.before < 4, JSON.stringify(r));
    assert.equal(r.after, 4, JSON.stringify(r));
  });

  it("leaves 1,000 polls a second to V8's own growth", () => {
    const r = semiSpaceMiB(1000);
    assert.deepEqual(r.decided, { kind: 'v8' });
    assert.ok(r.after > 4, JSON.stringify(r));
  });

  it("changes nothing when the user's NODE_OPTIONS size the young generation", () => {
    const r = semiSpaceMiB(1, '--max-semi-space-size=8');
    assert.deepEqual(r.decided, { kind: 'user' });
    assert.ok(r.after > 1, JSON.stringify(r));
  });

  it('recognizes the young-generation flags of the command line and NODE_OPTIONS', () => {
    assert.equal(userSizedYoungGeneration(['--max-semi-space-size=4'], ''), true);
    assert.equal(userSizedYoungGeneration([], '--max_semi_space_size=4 --foo'), true);
    assert.equal(userSizedYoungGeneration([], '--semi-space-growth-factor=3'), true);
    assert.equal(userSizedYoungGeneration([], '--max-heap-size=300'), true);
    assert.equal(
      userSizedYoungGeneration(['--max-old-space-size=100'], '--enable-source-maps'),
      false,
    );
  });
});
