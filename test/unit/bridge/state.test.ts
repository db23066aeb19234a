import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { samePublishable } from '../../../src/bridge/state.ts';
import type { UpsState } from '../../../src/core/state.ts';

const BASE: UpsState = {
  status: 'online',
  online: true,
  battery_charge_pct: 100,
  input_voltage_v: 230,
  updated_at: '2026-11-21T10:00:00+00:00',
  sampled_at: '2026-11-21T09:59:59+00:00',
  reported_at: '2026-11-21T10:00:00+00:00',
  data_age_s: 1,
};

describe('samePublishable', () => {
  it('ignores the volatile timestamps and the key order', () => {
    const { status, ...rest } = BASE;
    const later: UpsState = {
      ...rest,
      status,
      updated_at: '2026-11-21T10:00:01+00:00',
      sampled_at: '2026-11-21T10:00:00+00:00',
      reported_at: '2026-11-21T10:00:01+00:00',
      data_age_s: 2,
    };
    assert.equal(samePublishable(BASE, later), true);
  });

  it('sees a changed value, an added key and a removed key', () => {
    assert.equal(samePublishable(BASE, { ...BASE, input_voltage_v: 229 }), false);
    assert.equal(samePublishable(BASE, { ...BASE, load_pct: 12 }), false);
    const { battery_charge_pct: _gone, ...fewer } = BASE;
    assert.equal(samePublishable(BASE, fewer), false);
    assert.equal(samePublishable(fewer, BASE), false);
    assert.equal(samePublishable(undefined, BASE), false);
  });

  it('compares values as their JSON, as published (undefined as null, NaN as null)', () => {
    const a = { ...BASE, runtime_s: Number.NaN };
    assert.equal(samePublishable(a, { ...BASE, runtime_s: Number.NaN }), true);
    const withUndefined = { ...BASE, load_pct: undefined } as unknown as UpsState;
    assert.equal(
      samePublishable(withUndefined, { ...BASE, load_pct: undefined } as unknown as UpsState),
      true,
    );
    assert.equal(
      samePublishable(withUndefined, BASE),
      false,
      'a key present, if undefined, counts',
    );
  });
});
