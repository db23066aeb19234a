import { describe, it } from 'node:test';
import { assertTarget } from './harness.ts';
import { NUT_WORDS_TARGETS } from './nut-words.targets.ts';

describe('fuzz: nut-words', () => {
  for (const target of NUT_WORDS_TARGETS) it(target.name, () => assertTarget(target));
});
