import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertTarget, fuzzFixtures, hexInput } from './harness.ts';
import { checkStream, NUT_SERVER_TARGETS, runSession } from './nut-server.targets.ts';

describe('fuzz: NUT server (session requests, byte streams over loopback)', () => {
  for (const target of NUT_SERVER_TARGETS) it(target.name, () => assertTarget(target));
});

describe('fuzz regressions: NUT server (test/fixtures/fuzz/nut-server)', () => {
  const fixtures = fuzzFixtures('nut-server');
  it('has the kept inputs', () => assert.ok(fixtures.length >= 3));
  for (const fixture of fixtures) {
    const input = fixture.input as Record<string, unknown>;
    if (typeof input.streamLatin1 === 'string' || typeof input.streamHex === 'string') {
      const stream =
        typeof input.streamHex === 'string'
          ? hexInput(input.streamHex)
          : Buffer.from(String(input.streamLatin1), 'latin1');
      it(`${fixture.file}: every line answered in order, cut off or closed as due`, () =>
        checkStream(stream, input.cuts as number[]));
    } else {
      it(`${fixture.file}: every reply reads back as the words and values served`, () =>
        runSession(input.lines as string[], input.vars as [string, string][]));
    }
  }
});
