import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { JsonStore } from '../../../src/util/json-store.ts';
import { captureLogger } from '../bridge/fakes.ts';

const root = mkdtempSync(join(tmpdir(), 'ups2mqtt-store-'));
after(() => rmSync(root, { recursive: true, force: true }));

const isCounter = (v: unknown): { n: number } | undefined =>
  typeof v === 'object' && v !== null && typeof (v as { n?: unknown }).n === 'number'
    ? (v as { n: number })
    : undefined;

describe('JsonStore', () => {
  it('reads nothing before the first write, then what was written; creates the folder', () => {
    const dir = join(root, 'a', 'b');
    const store = new JsonStore(dir, 'x.json', isCounter, captureLogger().logger);
    assert.equal(store.read(), undefined);
    store.write({ n: 1 });
    store.write({ n: 2 });
    assert.deepEqual(store.read(), { n: 2 });
    assert.deepEqual(readdirSync(dir), ['x.json']);
    assert.equal(readFileSync(join(dir, 'x.json'), 'utf8'), '{"n":2}\n');
  });

  for (const [name, content] of [
    ['truncated JSON', '{"n":'],
    ['valid JSON of the wrong shape', '{"n":"seven"}'],
    ['binary garbage', '\u0000\u00ff\u0001'],
  ] as const) {
    it(`sets aside ${name} and starts afresh`, () => {
      const dir = join(root, name.replace(/\W+/g, '_'));
      const { logger, lines } = captureLogger();
      const store = new JsonStore(dir, 'x.json', isCounter, logger);
      store.write({ n: 1 });
      writeFileSync(join(dir, 'x.json'), content);
      assert.equal(store.read(), undefined);
      const files = readdirSync(dir);
      assert.equal(files.length, 1);
      assert.match(files[0] ?? '', /^x\.json\.corrupt-\d+$/);
      assert.equal(readFileSync(join(dir, files[0] ?? ''), 'utf8'), content);
      assert.ok(
        lines.some(
          (l) => l.level === 'error' && l.msg === 'stored state set aside; starting afresh',
        ),
      );
      store.write({ n: 3 });
      assert.deepEqual(store.read(), { n: 3 });
    });
  }
});
