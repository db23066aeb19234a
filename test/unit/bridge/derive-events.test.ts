import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveEvents } from '../../../src/bridge/derive-events.ts';
import type { UpsState } from '../../../src/core/state.ts';

const base: UpsState = {
  status: 'online',
  online: true,
  on_battery: false,
  low_battery: false,
  updated_at: '2026-11-21T10:00:00Z',
};

type Flags = { [K in keyof UpsState]?: UpsState[K] | undefined };

const rows: { name: string; prev: Flags; next: Flags; expect: string[] }[] = [
  { name: 'nothing changed', prev: {}, next: {}, expect: [] },
  {
    name: 'mains lost',
    prev: {},
    next: { online: false, on_battery: true },
    expect: ['power_lost'],
  },
  {
    name: 'mains back',
    prev: { online: false, on_battery: true },
    next: {},
    expect: ['power_restored'],
  },
  {
    name: 'battery low',
    prev: { on_battery: true },
    next: { on_battery: true, low_battery: true },
    expect: ['low_battery'],
  },
  {
    name: 'battery no longer low',
    prev: { low_battery: true },
    next: {},
    expect: ['battery_ok'],
  },
  {
    name: 'replace battery raised',
    prev: { replace_battery: false },
    next: { replace_battery: true },
    expect: ['replace_battery'],
  },
  { name: 'overload raised', prev: {}, next: { overload: true }, expect: ['overload'] },
  { name: 'comm lost flag', prev: {}, next: { comm_lost: true }, expect: ['comm_lost'] },
  {
    name: 'comm restored flag',
    prev: { comm_lost: true },
    next: { comm_lost: false },
    expect: ['comm_restored'],
  },
  {
    name: 'daemon shutting down',
    prev: {},
    next: { shutting_down: true },
    expect: ['shutdown_initiated'],
  },
  {
    name: 'battery removed',
    prev: { battery_missing: false },
    next: { battery_missing: true },
    expect: ['battery_disconnected'],
  },
  {
    name: 'test starts',
    prev: { test_in_progress: false },
    next: { test_in_progress: true },
    expect: ['self_test_started'],
  },
  {
    name: 'test ends with a result',
    prev: { test_in_progress: true },
    next: { test_in_progress: false, self_test_result: 'passed' },
    expect: ['self_test_completed'],
  },
  {
    name: 'result appears without a seen test',
    prev: { self_test_result: 'none' },
    next: { self_test_result: 'failed_capacity' },
    expect: ['self_test_completed'],
  },
  {
    name: 'result goes back to none (no event)',
    prev: { self_test_result: 'passed' },
    next: { self_test_result: 'none' },
    expect: [],
  },
  {
    name: 'absent flag is not a transition',
    prev: { overload: true },
    next: { overload: undefined },
    expect: [],
  },
];

describe('deriveEvents', () => {
  for (const row of rows) {
    it(row.name, () => {
      const events = deriveEvents(
        { ...base, ...row.prev } as UpsState,
        { ...base, ...row.next } as UpsState,
      );
      assert.deepEqual(
        events.map((e) => e.event_type),
        row.expect,
      );
      for (const e of events) {
        assert.equal(e.at, base.updated_at);
        assert.equal(e.origin, 'state_change');
      }
    });
  }

  it('reports nothing for the first reading', () => {
    assert.deepEqual(deriveEvents(undefined, { ...base, on_battery: true }), []);
  });

  it('marks power events during a self-test', () => {
    const [e] = deriveEvents(
      { ...base },
      { ...base, online: false, on_battery: true, test_in_progress: true },
    );
    assert.equal(e?.event_type, 'power_lost');
    assert.equal(e?.during_self_test, true);
  });
});
