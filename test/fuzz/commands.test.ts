import { describe, it } from 'node:test';
import { COMMAND_TARGETS } from './commands.targets.ts';
import { assertTarget } from './harness.ts';

describe('fuzz: commands', () => {
  for (const target of COMMAND_TARGETS) it(target.name, () => assertTarget(target));
});
