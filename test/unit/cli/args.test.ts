import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs } from '../../../src/cli/args.ts';

describe('parseArgs', () => {
  it('defaults to run', () => {
    assert.equal(parseArgs([]).command, 'run');
    assert.equal(parseArgs(['run']).command, 'run');
  });
  it('recognises subcommands and global flags', () => {
    const a = parseArgs(['status', '--source', 'nis://h', '--json']);
    assert.equal(a.command, 'status');
    assert.equal(a.json, true);
    assert.deepEqual(a.rest, ['--source', 'nis://h']);
    const c = parseArgs(['config', 'check', '-c', 'x.yaml', '--mqtt-url=mqtt://b']);
    assert.equal(c.command, 'config-check');
    assert.equal(c.configFile, 'x.yaml');
    assert.deepEqual(c.rest, ['--mqtt-url=mqtt://b']);
    assert.equal(parseArgs(['help', 'status']).helpFor, 'status');
    assert.equal(parseArgs(['demo', '--help']).help, true);
  });
  it('reports unknown words', () => {
    assert.deepEqual(parseArgs(['stauts']).unknown, ['stauts']);
    assert.deepEqual(parseArgs(['config', 'chek']).unknown, ['config', 'chek']);
  });
});
