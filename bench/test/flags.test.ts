import { deepEqual, equal, throws } from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFlags } from '../lib/flags.ts';

const SPECS = {
  counts: { default: '1,100', help: 'x' },
  window: { default: '40', help: 'x' },
  warmup: { default: '0', help: 'x' },
  mode: { default: 'a', help: 'x' },
};

describe('parseFlags', () => {
  it('uses defaults when a flag is not given', () => {
    const f = parseFlags([], SPECS);
    deepEqual(f.numbers('counts'), [1, 100]);
    equal(f.number('window'), 40);
    equal(f.number('warmup', true), 0);
    equal(f.help, false);
  });
  it('reads given values', () => {
    const f = parseFlags(['--counts', '5,7', '--mode=b', '--help'], SPECS);
    deepEqual(f.numbers('counts'), [5, 7]);
    deepEqual(f.choices('mode', ['a', 'b']), ['b']);
    equal(f.help, true);
  });
  const bad: [name: string, argv: string[], read: (f: ReturnType<typeof parseFlags>) => unknown][] =
    [
      ['unknown flag', ['--nope', '1'], () => undefined],
      ['not a number', ['--window', 'abc'], (f) => f.number('window')],
      ['zero where not allowed', ['--window', '0'], (f) => f.number('window')],
      ['negative', ['--warmup', '-1'], (f) => f.number('warmup', true)],
      ['empty list item', ['--counts', '1,,2'], (f) => f.numbers('counts')],
      ['choice not allowed', ['--mode', 'c'], (f) => f.choices('mode', ['a', 'b'])],
    ];
  for (const [name, argv, read] of bad) {
    it(`rejects: ${name}`, () =>
      throws(() => read(parseFlags(argv, SPECS)), { code: 'CONFIG_INVALID' }));
  }
});
