import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SMALL_BRIDGE_UPSES } from '../../../src/cli/heap.ts';

const HEAP = fileURLToPath(new URL('../../../src/cli/heap.ts', import.meta.url));

/**
 * A child that configures `upses` UPSes, then allocates like a busy bridge (objects that
 * survive a scavenge or two); its new space size in MiB before and after.
 */
function newSpaceMiB(upses: number): { before: number; after: number } {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { keepYoungGenerationSmall } from ${JSON.stringify(HEAP)};
    const size = () => (getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) / 1048576;
    keepYoungGenerationSmall(${upses});
    const before = size();
    let keep = [];
    for (let round = 0; round < 400; round++) {
      const batch = [];
      for (let i = 0; i < 2000; i++) batch.push({ round, i, text: 'x'.repeat(i % 50) });
      keep.push(batch);
      if (keep.length > 8) keep = keep.slice(-8);
    }
    process.stdout.write(JSON.stringify({ before, after: size() }));
  `;
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    {
      encoding: 'utf8',
    },
  );
  return JSON.parse(out) as { before: number; after: number };
}

describe('keepYoungGenerationSmall', () => {
  it('holds the new space at its initial size for a small bridge, and leaves a large one to V8', () => {
    const small = newSpaceMiB(1);
    const large = newSpaceMiB(SMALL_BRIDGE_UPSES + 1);
    assert.ok(small.after <= small.before, `small bridge: new space ${JSON.stringify(small)} MiB`);
    assert.ok(
      large.after > large.before,
      `large bridge: new space ${JSON.stringify(large)} MiB (V8 grows it by default)`,
    );
  });
});
