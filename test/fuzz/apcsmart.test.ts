import { describe, it } from 'node:test';
import { APCSMART_TARGETS } from './apcsmart.targets.ts';
import { assertTarget } from './harness.ts';

describe('fuzz: APC Smart (line decoder, protocol start-up, protocol info, mapping)', () => {
  for (const target of APCSMART_TARGETS) it(target.name, () => assertTarget(target));
});
