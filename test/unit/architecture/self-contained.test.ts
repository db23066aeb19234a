/**
 * Knowledge the code relies on lives in this repository (docs/, docs/protocols/) or behind a
 * public URL. Fails when a file under src/, test/, bench/, scripts/ or addon/ cites one of
 * the outside reference texts by file name without a `docs/` path, or points into the
 * machine the project was written on (the shared folder beside the repository, the work
 * tree); docs/ and the README are held to the second rule too.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// Built from parts so that this file does not match itself.
const REFERENCE_NAMES = ['protocols', 'homeassistant', 'style', 'users', 'testing-notes'].map(
  (n) => `${n}.md`,
);
const OUTSIDE = [`..${'/'}shared`, `/${'work'}/`];

/** Tracked and new (not ignored) text files under the given folders. */
function filesUnder(folders: readonly string[]): { path: string; text: string }[] {
  const list = (args: string[]): string[] =>
    execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
  const paths = new Set([
    ...list(['ls-files', '--', ...folders]),
    ...list(['ls-files', '--others', '--exclude-standard', '--', ...folders]),
  ]);
  const out: { path: string; text: string }[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(`${ROOT}${path}`, 'utf8');
    } catch {
      continue; // deleted in the working tree
    }
    if (!text.includes('\0')) out.push({ path, text });
  }
  return out;
}

/** `path:line: text` for each citation of a reference file without a docs/ path. */
export function bareCitations(path: string, text: string): string[] {
  const found: string[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    for (const name of REFERENCE_NAMES) {
      let at = line.indexOf(name);
      while (at >= 0) {
        // `docs/homeassistant.md` is this repository's own page; any other spelling is not.
        const partOfLongerName = at > 0 && /[\w-]/.test(line[at - 1] ?? '');
        if (!partOfLongerName && !line.slice(0, at).endsWith('docs/')) {
          found.push(`${path}:${i + 1}: ${line.trim()}`);
        }
        at = line.indexOf(name, at + name.length);
      }
    }
  }
  return found;
}

/** `path:line: text` for each mention of a machine-local path. */
export function machinePaths(path: string, text: string): string[] {
  const found: string[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (OUTSIDE.some((o) => line.includes(o))) found.push(`${path}:${i + 1}: ${line.trim()}`);
  }
  return found;
}

describe('self-contained knowledge', () => {
  const code = filesUnder(['src', 'test', 'bench', 'scripts', 'addon']);

  it('reads the files it checks', () => {
    assert.ok(code.some((f) => f.path === 'src/ha/discovery.ts'));
    assert.ok(code.some((f) => f.path === 'test/unit/architecture/self-contained.test.ts'));
  });

  it('cites reference texts only as docs/ files', () => {
    assert.deepEqual(
      code.flatMap((f) => bareCitations(f.path, f.text)),
      [],
    );
  });

  it('points nowhere on the machine it was written on', () => {
    const docs = filesUnder(['docs', 'README.md']);
    assert.deepEqual(
      [...code, ...docs].flatMap((f) => machinePaths(f.path, f.text)),
      [],
    );
  });

  it('catches what it is meant to catch', () => {
    const [protocols, homeassistant, style] = REFERENCE_NAMES;
    assert.equal(
      bareCitations('x.ts', `// see ${protocols} docs/protocols/nis.md#connections-and-timeouts`)
        .length,
      1,
    );
    assert.equal(
      bareCitations('x.ts', `// ${OUTSIDE[0]}/reference/${homeassistant} docs/protocols/nut.md`)
        .length,
      1,
    );
    assert.equal(bareCitations('x.ts', `// (${style} habit 7)`).length, 1);
    assert.equal(bareCitations('x.ts', `// docs/${homeassistant}#device-block`).length, 0);
    assert.equal(bareCitations('x.ts', '// docs/protocols/nis.md#framing').length, 0);
    assert.equal(machinePaths('x.ts', `// copied from ${OUTSIDE[1]}shared/fixtures`).length, 1);
    assert.equal(machinePaths('x.ts', `// ${OUTSIDE[0]}/fixtures`).length, 1);
    assert.equal(machinePaths('x.ts', '// test/fixtures/nis').length, 0);
  });
});
