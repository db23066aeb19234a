import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseReportDescriptor } from '../../src/sources/hid/descriptor/parser.ts';
import { assertTarget, coded, fuzzFixtures, hexInput } from './harness.ts';
import { HID_TARGETS, parseChecked } from './hid.targets.ts';

describe('fuzz: USB HID (descriptor parser, report decoder, capture files)', () => {
  for (const target of HID_TARGETS) it(target.name, () => assertTarget(target));
});

describe('fuzz regressions: USB HID (test/fixtures/fuzz/hid)', () => {
  const fixtures = fuzzFixtures('hid');
  it('has the kept inputs', () => assert.ok(fixtures.length >= 3));
  for (const fixture of fixtures) {
    it(`${fixture.file}: refused with PROTOCOL_ERROR at once, memory bounded`, () => {
      const { descriptorHex } = fixture.input as { descriptorHex: string };
      const bytes = hexInput(descriptorHex);
      const started = performance.now();
      const outcome = coded(() => parseReportDescriptor(bytes), ['PROTOCOL_ERROR']);
      assert.deepEqual(outcome, { ok: false, code: 'PROTOCOL_ERROR' }, fixture.found);
      assert.ok(performance.now() - started < 500, 'refused quickly');
      assert.equal(parseChecked(bytes), undefined);
    });
  }
});
