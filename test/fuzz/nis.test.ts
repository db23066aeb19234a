import { describe, it } from 'node:test';
import { assertTarget } from './harness.ts';
import { NIS_TARGETS } from './nis.targets.ts';

describe('fuzz: apcupsd NIS (framing, client, status, events; server requests and lines)', () => {
  for (const target of NIS_TARGETS) it(target.name, () => assertTarget(target));
});
