import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SelfTestTrack, trackSelfTest } from '../../../src/bridge/self-test.ts';
import type { UpsState } from '../../../src/core/state.ts';

const s = (over: Partial<UpsState>, at = '2026-11-21T10:00:00Z'): UpsState => ({
  status: 'online',
  updated_at: at,
  ...over,
});

function run(states: UpsState[]): SelfTestTrack[] {
  const out: SelfTestTrack[] = [];
  let track: SelfTestTrack | undefined;
  for (const st of states) {
    track = trackSelfTest(track, st);
    out.push(track);
  }
  return out;
}

describe('trackSelfTest', () => {
  it('idle → running → passed, kept after the source forgets the result', () => {
    const t = run([
      s({ self_test_result: 'none', test_in_progress: false }),
      s({ self_test_result: 'in_progress', test_in_progress: true }),
      s({ self_test_result: 'passed', test_in_progress: false }, '2026-11-21T10:00:12Z'),
      s({ self_test_result: 'none', test_in_progress: false }, '2026-11-21T10:05:12Z'),
    ]);
    assert.deepEqual(
      t.map((x) => x.state),
      ['idle', 'running', 'passed', 'passed'],
    );
    assert.equal(t[2]?.finishedAt, '2026-11-21T10:00:12Z');
    assert.equal(t[3]?.finishedAt, '2026-11-21T10:00:12Z');
  });

  it('maps failures and an end without a result', () => {
    assert.equal(
      run([s({ test_in_progress: true }), s({ self_test_result: 'failed_capacity' })]).at(-1)
        ?.state,
      'failed',
    );
    assert.equal(
      run([s({ test_in_progress: true }), s({ test_in_progress: false })]).at(-1)?.state,
      'aborted',
    );
    assert.equal(
      run([s({ test_in_progress: true }), s({ self_test_result: 'aborted' })]).at(-1)?.state,
      'aborted',
    );
  });

  it('starts from what the source reports, without inventing a test', () => {
    const [first] = run([
      s({ self_test_result: 'passed', last_self_test_at: '2026-11-20T08:00:00+00:00' }),
    ]);
    assert.deepEqual(first, {
      state: 'passed',
      finishedAt: '2026-11-20T08:00:00+00:00',
      lastResult: 'passed',
    });
    assert.equal(run([s({})])[0]?.state, 'idle');
  });

  it('sees a new result that appears without a running phase (fast tests between polls)', () => {
    const t = run([
      s({ self_test_result: 'none' }),
      s({ self_test_result: 'failed_load' }, '2026-11-21T11:00:00Z'),
    ]);
    assert.deepEqual([t[1]?.state, t[1]?.finishedAt], ['failed', '2026-11-21T11:00:00Z']);
  });
});
