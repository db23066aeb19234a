import * as assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type LoadOptions, loadConfig } from '../../src/config/load.ts';
import { maskUri, parseSourceUri, showUri } from '../../src/sources/uri.ts';
import { CONFIG_TARGETS, cleanupConfigFiles, tempFile } from './config.targets.ts';
import { assertTarget, coded, fuzzFixtures } from './harness.ts';

describe('fuzz: configuration loader (environment, arguments, files, source URIs)', () => {
  after(cleanupConfigFiles);
  for (const target of CONFIG_TARGETS) it(target.name, () => assertTarget(target));
});

interface ConfigInput {
  env?: Record<string, string>;
  args?: string[];
  file?: { ext: string; text: string };
}

describe('fuzz regressions: configuration (test/fixtures/fuzz/config)', () => {
  after(cleanupConfigFiles);
  const fixtures = fuzzFixtures('config');
  it('has the kept inputs', () => assert.ok(fixtures.length >= 16));
  for (const fixture of fixtures) {
    it(fixture.file, () => {
      const input = fixture.input as ConfigInput;
      const { expect, secret } = fixture.data as { expect: 'ok' | 'refused'; secret?: string };
      const opts: LoadOptions = { env: input.env ?? {}, args: input.args ?? [] };
      if (input.file) opts.file = tempFile(input.file.text, input.file.ext);
      const outcome = coded(() => loadConfig(opts), []);
      assert.ok(outcome.ok);
      const result = outcome.value;
      assert.equal(result.ok ? 'ok' : 'refused', expect, JSON.stringify(result));
      const printed = JSON.stringify(result.ok ? result.effective : result.problems);
      if (secret !== undefined) {
        assert.ok(!printed.includes(secret), `${fixture.found}\nprinted: ${printed}`);
      }
      if (!result.ok) {
        // Still says what is wrong, and where.
        assert.ok(result.problems.every((p) => p.key !== '' && p.message !== ''));
      }
    });
  }
});

describe('source URIs and masking (bugs found by the config targets)', () => {
  it('a malformed %-escape is SOURCE_URI_INVALID, not a bare URIError', () => {
    for (const uri of [
      'nut://u:%E0%A4%A@h/ups',
      'nut://u:p@h/%E0%A4%A',
      'hid://051d:0002/%E0%A4%A',
    ]) {
      assert.deepEqual(
        coded(() => parseSourceUri(uri), ['SOURCE_URI_INVALID']),
        {
          ok: false,
          code: 'SOURCE_URI_INVALID',
        },
      );
    }
  });

  it('maskUri masks every scheme://user:pass@, in any case, up to the last @', () => {
    assert.equal(maskUri('MQTT://u:pw@h:1883'), 'MQTT://u:***@h:1883');
    // Ambiguous (a password `p@ss@h/x`, or a path `/x@y`?): masked to the last @, the safe side.
    assert.equal(maskUri('mqtt://u:p@ss@h/x@y'), 'mqtt://u:***@y');
    assert.equal(maskUri('mqtt://a@b:pw@h'), 'mqtt://a@b:***@h');
    assert.equal(maskUri('mqtt://h:1883/a:b@c'), 'mqtt://h:1883/a:b@c');
    assert.equal(maskUri('mqtt://u@h'), 'mqtt://u@h');
    assert.equal(
      maskUri('[{"source":"nut://u:pw@h/ups"},{"source":"nut://v:pw2@h/x"}]'),
      '[{"source":"nut://u:***@h/ups"},{"source":"nut://v:***@h/x"}]',
    );
  });

  it('showUri leaves out a value whose user info cannot be split', () => {
    assert.equal(showUri('nut://u:pw@h/ups'), '"nut://***@h/ups"');
    assert.match(showUri('u:pw@h'), /not shown/);
    assert.equal(showUri('mqtt://u:p/w@h'), '"mqtt://***@h"');
    assert.equal(showUri('sim://'), '"sim://"');
    assert.match(showUri('mqtt://user:pw#host'), /not shown/);
    assert.match(showUri('mqtt://user:pw\u0000127.0.0.1:1883'), /not shown/);
    assert.equal(showUri('nis://[::1]:3551'), '"nis://[::1]:3551"');
    assert.equal(showUri('nut://u:pw@[::1]:3493/ups'), '"nut://***@[::1]:3493/ups"');
    assert.equal(showUri('ws://userpw@host/mqtt'), '"ws://***@host/mqtt"');
    assert.equal(showUri('mqtt://h:99999x'), '(the value is not shown: it may hold a password)');
  });
});
