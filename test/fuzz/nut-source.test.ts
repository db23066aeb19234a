import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapNutVars } from '../../src/sources/nut/map.ts';
import { NutLineDecoder, nutRequestLine } from '../../src/sources/nut/protocol.ts';
import { assertTarget, coded, fuzzFixtures, hexInput } from './harness.ts';
import { NUT_SOURCE_TARGETS } from './nut-source.targets.ts';

describe('fuzz: nut:// source (lines, lists, requests, connection, mapping)', () => {
  for (const target of NUT_SOURCE_TARGETS) it(target.name, () => assertTarget(target));
});

describe('fuzz regressions: nut:// source (test/fixtures/fuzz/nut-source)', () => {
  const fixtures = fuzzFixtures('nut-source');
  it('has the kept inputs', () => assert.ok(fixtures.length >= 3));
  for (const fixture of fixtures) {
    const input = fixture.input as Record<string, unknown>;
    if (Array.isArray(input.chunksHex)) {
      it(`${fixture.file}: the lines arrive whole whatever the cuts`, () => {
        const decoder = new NutLineDecoder(Number(input.maxLineBytes));
        const lines = (input.chunksHex as unknown[]).flatMap((c) => decoder.push(hexInput(c)));
        assert.deepEqual(lines, fixture.data.expect, fixture.found);
        assert.equal(decoder.pendingBytes, 0);
      });
    } else if (Array.isArray(input.vars)) {
      it(`${fixture.file}: every number of the mapping is finite`, () => {
        const { data } = mapNutVars(new Map(input.vars as [string, string][]));
        for (const [key, value] of Object.entries(data)) {
          if (typeof value === 'number') assert.ok(Number.isFinite(value), `${key} ${value}`);
        }
      });
    } else {
      it(`${fixture.file}: refused with ${String(fixture.data.expect)}`, () => {
        const outcome = coded(() => nutRequestLine(input.words as string[]), ['PROTOCOL_ERROR']);
        assert.deepEqual(outcome, { ok: false, code: fixture.data.expect }, fixture.found);
      });
    }
  }
});
