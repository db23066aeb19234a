import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  INTERPRETER_MAX_POLLS_PER_S,
  pollsPerSecond,
  userChoseTiers,
} from '../../../src/cli/tiers.ts';

const TIERS = fileURLToPath(new URL('../../../src/cli/tiers.ts', import.meta.url));

/**
 * A child Node that imports tiers.ts, runs a function hot, settles for `polls` polls a
 * second, runs another function hot and reports V8's optimization status of both
 * (%GetOptimizationStatus: bit 16 optimized, bit 128 interpreted).
 */
function probe(
  polls: number,
  nodeFlags: string[] = [],
): { before: number; tiers: string; after: number } {
  const code = `
    const { settleTiers } = await import(${JSON.stringify(TIERS)});
    const status = new Function('f', 'return %GetOptimizationStatus(f)');
    const spin = (n) => { let s = 0; for (let i = 0; i < n; i++) s += (i * 7) % 13; return s; };
    const other = (n) => { let s = 0; for (let i = 0; i < n; i++) s += (i * 3) % 11; return s; };
    for (let i = 0; i < 20000; i++) spin(50);
    const before = status(spin);
    const tiers = settleTiers(${polls});
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20000; i++) other(50);
      await new Promise((r) => setTimeout(r, 50));
    }
    console.log(JSON.stringify({ before, tiers, after: status(other) }));
  `;
  const run = spawnSync(
    process.execPath,
    ['--allow-natives-syntax', ...nodeFlags, '--import', 'tsx', '--input-type=module', '-e', code],
    { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' }, timeout: 60_000 },
  );
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout.trim());
}

const OPTIMIZED = 16;
const INTERPRETED = 128;

describe('V8 tiers sized to the bridge', () => {
  it('spots a tiering flag of the user on the command line or in NODE_OPTIONS', () => {
    assert.equal(userChoseTiers([], ''), false);
    assert.equal(
      userChoseTiers(['--import', 'tsx', '--expose-gc'], '--max-old-space-size=64'),
      false,
    );
    assert.equal(userChoseTiers(['--max-opt=2'], ''), true);
    assert.equal(userChoseTiers([], '--jitless'), true);
    assert.equal(userChoseTiers([], '  --no-opt  --trace-gc'), true);
    assert.equal(userChoseTiers(['--lite_mode'], ''), true);
    assert.equal(userChoseTiers(['--turbofan'], ''), true);
    assert.equal(userChoseTiers(['--optimize-for-size'], ''), false, 'a heap flag, not a tier');
  });

  it('counts polls a second over the UPSes', () => {
    assert.equal(pollsPerSecond([]), 0);
    assert.equal(pollsPerSecond([{ pollIntervalMs: 1000 }, { pollIntervalMs: 500 }]), 3);
    assert.equal(pollsPerSecond(Array.from({ length: 16 }, () => ({ pollIntervalMs: 1000 }))), 16);
    assert.equal(INTERPRETER_MAX_POLLS_PER_S, 16);
  });

  it('keeps a small bridge in the interpreter: nothing is optimized', () => {
    const p = probe(INTERPRETER_MAX_POLLS_PER_S);
    assert.equal(p.tiers, 'interpreter');
    assert.ok(p.before & INTERPRETED && !(p.before & OPTIMIZED), p.before.toString(2));
    assert.ok(p.after & INTERPRETED && !(p.after & OPTIMIZED), p.after.toString(2));
  });

  it('gives a larger bridge its optimizing compilers back', () => {
    const p = probe(INTERPRETER_MAX_POLLS_PER_S + 1);
    assert.equal(p.tiers, 'optimizing');
    assert.ok(p.before & INTERPRETED, 'interpreted until the config is read');
    assert.ok(p.after & OPTIMIZED, `optimized afterwards: ${p.after.toString(2)}`);
  });

  it("leaves a user's own tiering flag alone", () => {
    const p = probe(1, ['--max-opt=999']);
    assert.equal(p.tiers, 'user');
    assert.ok(p.before & OPTIMIZED, p.before.toString(2));
  });
});
