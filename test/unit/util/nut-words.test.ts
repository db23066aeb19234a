import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quoteNutWord, splitNutWords } from '../../../src/util/nut-words.ts';

describe('NUT line words', () => {
  const rows: [string, string, string[] | undefined][] = [
    ['plain words', 'LIST VAR ups', ['LIST', 'VAR', 'ups']],
    ['quoted value', 'VAR ups battery.charge "100"', ['VAR', 'ups', 'battery.charge', '100']],
    [
      'value with spaces',
      'VAR ups device.model "Back-UPS ES 700G"',
      ['VAR', 'ups', 'device.model', 'Back-UPS ES 700G'],
    ],
    [
      'escaped quote and backslash',
      'UPSDESC ups "a \\"b\\" c\\\\d"',
      ['UPSDESC', 'ups', 'a "b" c\\d'],
    ],
    ['empty quoted', 'VAR ups x ""', ['VAR', 'ups', 'x', '']],
    ['repeated spaces and tabs', '  GET\t VAR  ups ', ['GET', 'VAR', 'ups']],
    ['unterminated quote', 'VAR ups x "abc', undefined],
    ['empty line', '', []],
  ];
  for (const [name, line, words] of rows) {
    it(name, () => assert.deepEqual(splitNutWords(line), words));
  }

  it('quote round-trips through split', () => {
    for (const v of ['', 'plain', 'with space', 'q"uote', 'back\\slash', '\\"']) {
      assert.deepEqual(splitNutWords(`X ${quoteNutWord(v)}`), ['X', v]);
    }
  });
});
