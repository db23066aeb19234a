import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { samePublishable } from '../../../src/bridge/state.ts';
import type { UpsState } from '../../../src/core/state.ts';

const VOLATILE = new Set(['updated_at', 'sampled_at', 'reported_at', 'data_age_s']);

/** The rule as the bridge once computed it: the sorted non-volatile entries as JSON. */
function changeKey(state: UpsState): string {
  const entries = Object.entries(state)
    .filter(([k]) => !VOLATILE.has(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}

const sameChangeKey = (a: UpsState, b: UpsState): boolean => samePublishable(a, b);

const base = {
  status: 'online',
  battery_charge_pct: 100,
  input_voltage_v: 230.5,
  updated_at: '2026-12-03T10:00:00.000Z',
} as UpsState;

/** Keys from a small pool (volatile ones included) with values that JSON may fold together. */
const stateArb = fc
  .dictionary(
    fc.constantFrom(
      'status',
      'load_pct',
      'model',
      'comm_lost',
      'updated_at',
      'reported_at',
      'data_age_s',
      'sampled_at',
      'alarms',
    ),
    fc.oneof(
      fc.constantFrom(null, undefined, Number.NaN, 0, -0, 1, 'a', true, false),
      fc.array(fc.constantFrom('x', 'y'), { maxLength: 2 }),
      fc.double(),
    ),
    { maxKeys: 8 },
  )
  .map((d) => d as unknown as UpsState);

describe('samePublishable against the sorted-JSON rule', () => {
  it('ignores the volatile keys and key order, and sees any other change', () => {
    const later = { ...base, updated_at: '2026-12-03T10:00:01.000Z', data_age_s: 3 } as UpsState;
    assert.equal(sameChangeKey(later, base), true, 'only volatile keys differ');
    assert.equal(sameChangeKey({ ...base, updated_at: 'x' } as UpsState, base), true);
    const reordered = {
      input_voltage_v: 230.5,
      status: 'online',
      battery_charge_pct: 100,
    } as UpsState;
    assert.equal(sameChangeKey(reordered, base), true);
    assert.equal(sameChangeKey({ ...base, input_voltage_v: 230.6 } as UpsState, base), false);
    assert.equal(sameChangeKey({ ...base, model: undefined } as unknown as UpsState, base), false);
  });

  it('agrees with comparing changeKey strings', () => {
    fc.assert(
      fc.property(stateArb, stateArb, (a, b) => {
        assert.equal(sameChangeKey(a, b), changeKey(a) === changeKey(b));
        assert.equal(sameChangeKey(a, { ...a }), true);
      }),
      { numRuns: 2000, seed: 14 },
    );
    // Pairs that are often equal as JSON but not as values: reversed order, NaN/null, -0/0.
    const twin = (v: unknown) =>
      Number.isNaN(v) ? null : v === null ? Number.NaN : Object.is(v, -0) ? 0 : v;
    fc.assert(
      fc.property(stateArb, fc.boolean(), (a, swap) => {
        const entries = Object.entries(a).reverse();
        const b = Object.fromEntries(swap ? entries.map(([k, v]) => [k, twin(v)]) : entries);
        assert.equal(sameChangeKey(a, b as UpsState), changeKey(a) === changeKey(b as UpsState));
        assert.equal(sameChangeKey(a, b as UpsState), true);
      }),
      { numRuns: 2000, seed: 14 },
    );
  });
});
