import * as assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { mapNisStatus, remapStamps } from '../../../src/sources/nis/map.ts';
import { parseStatusLines } from '../../../src/sources/nis/parse.ts';
import { fixtureLines } from './helpers.ts';

/**
 * remapStamps must give exactly what a full mapping of the new reply gives (values and key
 * order: the key order is the JSON published), and refuse every reply that differs in
 * anything but DATE and END APC.
 */

const FIXTURE_DIR = fileURLToPath(new URL('../../fixtures/nis/', import.meta.url));
const CAPTURES = readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.txt'));

function mapLines(lines: readonly string[]) {
  const warnings: string[] = [];
  const mapped = mapNisStatus(parseStatusLines(lines, warnings));
  return { ...mapped, warnings: [...warnings, ...mapped.warnings] };
}

/** The line of `key` with a new value, keeping the capture's `KEY     : ` spacing. */
function withValue(lines: readonly string[], key: string, value: string): string[] {
  let found = false;
  const out = lines.map((line) => {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim() !== key) return line;
    found = true;
    return `${line.slice(0, colon + 1)} ${value}`;
  });
  assert.ok(found, `${key} is in the capture`);
  return out;
}

/** The reply of the next request: apcupsd's two stamps moved on. */
function restamped(lines: readonly string[], date: string, end: string): string[] {
  return withValue(withValue(lines, 'DATE', date), 'END APC', end);
}

const CLEAN = CAPTURES.filter((name) => {
  const lines = fixtureLines(name);
  const { data, warnings } = mapLines(lines);
  return warnings.length === 0 && data.data_age_s !== undefined;
});

describe('remapStamps', () => {
  it('has captures to check (every one with both stamps and no warnings)', () => {
    assert.ok(CLEAN.length >= 5, `only ${CLEAN.length} usable captures`);
  });

  for (const name of CLEAN) {
    it(`gives what a full mapping gives, key order included: ${name}`, () => {
      const first = fixtureLines(name);
      const next = restamped(first, '2026-12-04 01:02:03 +0100', '2026-12-04 01:02:08 +0100');
      const fast = remapStamps(first, mapLines(first).data, next);
      const full = mapLines(next).data;
      assert.ok(fast !== undefined, 'a restamped reply takes the short way');
      assert.deepEqual(fast, full);
      assert.deepEqual(Object.keys(fast), Object.keys(full));
      assert.equal(fast.sampled_at, '2026-12-04T01:02:03+01:00');
      assert.equal(fast.data_age_s, 5);
    });
  }

  const name = 'apcupsd-3.14.14-back-ups-xs-1400u-usb-online.txt';
  const first = fixtureLines(name);
  const prev = mapLines(first).data;

  it('is undefined when any other line changed (the UPS changed)', () => {
    const next = withValue(
      restamped(first, '2026-12-04 01:02:03 +0100', '2026-12-04 01:02:03 +0100'),
      'LINEV',
      '231.0 Volts',
    );
    assert.equal(remapStamps(first, prev, next), undefined);
    assert.equal(mapLines(next).data.input_voltage_v, 231);
  });

  it('is undefined when a stamp does not parse, a line is added, or the stamp line moved', () => {
    assert.equal(remapStamps(first, prev, withValue(first, 'DATE', 'soon')), undefined);
    assert.equal(remapStamps(first, prev, [...first, 'EXTRA    : 1']), undefined);
    const dateAt = first.findIndex((l) => l.startsWith('DATE'));
    const moved = [...first];
    [moved[dateAt], moved[dateAt + 1]] = [moved[dateAt + 1] as string, moved[dateAt] as string];
    assert.equal(remapStamps(first, prev, moved), undefined);
  });

  it('returns a copy: the previous data is left as it was', () => {
    const before = structuredClone(prev);
    const next = restamped(first, '2027-01-01 00:00:00 +0000', '2027-01-01 00:00:30 +0000');
    const fast = remapStamps(first, prev, next);
    assert.equal(fast?.data_age_s, 30);
    assert.deepEqual(prev, before);
  });
});
