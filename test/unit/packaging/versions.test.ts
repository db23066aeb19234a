/**
 * One version everywhere (scripts/release.ts): the committed tree agrees with itself, and
 * `npm run release -- <version>` on a temporary copy of the tree moves every file at once,
 * while `--check` fails, naming the file, when one disagrees.
 */
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import {
  changelogSection,
  checkVersions,
  FILES,
  readVersions,
  releaseChangelog,
} from '../../../scripts/release.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('the committed tree', () => {
  it('every file carries the version of package.json, with a changelog section', () => {
    assert.deepEqual(checkVersions(root), []);
    const v = readVersions(root);
    assert.ok(v.packageJson);
    assert.ok(v.addonDockerfile.length >= 1);
  });

  it('package.json runs the script as `npm run release`', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    assert.equal(pkg.scripts.release, 'node --import tsx scripts/release.ts');
  });

  it('the CHANGELOG.md section of this version is the release notes, not empty', () => {
    const version = readVersions(root).packageJson ?? '';
    const notes = changelogSection(readFileSync(join(root, 'CHANGELOG.md'), 'utf8'), version);
    assert.ok(notes && notes.length > 20, `no notes for ${version}`);
  });
});

describe('changelog editing', () => {
  const log =
    '# Changelog\n\nIntro.\n\n## [Unreleased]\n\n- New thing.\n\n## [0.1.0]\n\n- First.\n';

  it('renames Unreleased to the version and opens a new Unreleased above it', () => {
    const out = releaseChangelog(log, '0.2.0', '2026-12-03');
    assert.equal(
      out,
      '# Changelog\n\nIntro.\n\n## [Unreleased]\n\n## [0.2.0] - 2026-12-03\n\n- New thing.\n\n## [0.1.0]\n\n- First.\n',
    );
    assert.equal(changelogSection(out, '0.2.0'), '- New thing.');
    assert.equal(changelogSection(out, '0.1.0'), '- First.');
    assert.equal(changelogSection(out, '0.1'), undefined);
  });

  it('adds a section above the newest one when there is no Unreleased section', () => {
    const out = releaseChangelog('# Changelog\n\n## [0.1.0]\n\n- First.\n', '0.2.0', '2026-12-03');
    assert.equal(
      out,
      '# Changelog\n\n## [0.2.0] - 2026-12-03\n\n- No notable changes.\n\n## [0.1.0]\n\n- First.\n',
    );
  });

  it('leaves a changelog that already has the version alone', () => {
    assert.equal(releaseChangelog(log, '0.1.0', '2026-12-03'), log);
  });
});

describe('npm run release on a copy of the tree', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ups2mqtt-release-'));
  const run = (args: string[]): SpawnSyncReturns<string> =>
    spawnSync(process.execPath, ['--import', 'tsx', 'scripts/release.ts', ...args], {
      cwd: tmp,
      encoding: 'utf8',
      timeout: 60_000,
    });
  const text = (rel: string): string => readFileSync(join(tmp, rel), 'utf8');

  before(() => {
    for (const rel of [...Object.values(FILES), 'scripts/release.ts']) {
      cpSync(join(root, rel), join(tmp, rel), { recursive: true });
    }
    symlinkSync(join(root, 'node_modules'), join(tmp, 'node_modules'), 'dir');
    // The top-level changelog is created when missing.
    rmSync(join(tmp, FILES.changelog));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('refuses a version that is not semantic, changing nothing', () => {
    const before = text(FILES.packageJson);
    const r = run(['1.2']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /not a semantic version/);
    assert.equal(text(FILES.packageJson), before);
  });

  it('moves every file to the new version in one command', () => {
    const oldConfig = text(FILES.addonConfig);
    const r = run(['v0.2.0-rc.1']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const v = readVersions(tmp);
    assert.deepEqual(v, {
      packageJson: '0.2.0-rc.1',
      packageLock: '0.2.0-rc.1',
      packageLockRoot: '0.2.0-rc.1',
      addonConfig: '0.2.0-rc.1',
      addonDockerfile: v.addonDockerfile.map(() => '0.2.0-rc.1'),
    });
    // Only the version line of config.yaml changed: its comments stay.
    const diff = text(FILES.addonConfig)
      .split('\n')
      .filter((line, i) => line !== oldConfig.split('\n')[i]);
    assert.deepEqual(diff, ['version: "0.2.0-rc.1"']);
    assert.equal(
      (YAML.parse(text(FILES.addonConfig)) as { version: string }).version,
      '0.2.0-rc.1',
    );
    const date = new Date().toISOString().slice(0, 10);
    assert.match(text(FILES.changelog), /^## \[Unreleased\]\n\n## \[0\.2\.0-rc\.1\] - /m);
    assert.match(
      text(FILES.addonChangelog),
      new RegExp(`^## \\[0\\.2\\.0-rc\\.1\\] - ${date}$`, 'm'),
    );
    assert.deepEqual(checkVersions(tmp, 'refs/tags/v0.2.0-rc.1'), []);
  });

  it('--check passes on the matching tag and fails on another', () => {
    const ok = run(['--check', 'v0.2.0-rc.1']);
    assert.equal(ok.status, 0, ok.stderr);
    const wrong = run(['--check', 'v0.2.0']);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /tag v0\.2\.0 does not name version 0\.2\.0-rc\.1/);
  });

  it('--check fails, naming the file, when one file disagrees', () => {
    writeFileSync(
      join(tmp, FILES.addonConfig),
      text(FILES.addonConfig).replace('version: "0.2.0-rc.1"', 'version: "0.1.9"'),
    );
    const r = run(['--check']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /addon\/config\.yaml: version 0\.1\.9, want 0\.2\.0-rc\.1/);
    const lock = JSON.parse(text(FILES.packageLock)) as { version: string };
    lock.version = '0.0.1';
    writeFileSync(join(tmp, FILES.packageLock), JSON.stringify(lock));
    assert.match(run(['--check']).stderr, /package-lock\.json: version 0\.0\.1/);
  });

  it('--notes prints the version section of CHANGELOG.md', () => {
    const r = run(['--notes', 'v0.1.0']);
    assert.equal(r.status, 1, 'the copy lost its 0.1.0 section with the deleted CHANGELOG.md');
    assert.match(r.stderr, /no section for 0\.1\.0/);
    const notes = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/release.ts', '--notes', '0.1.0'],
      { cwd: root, encoding: 'utf8' },
    );
    assert.equal(notes.status, 0, notes.stderr);
    assert.match(notes.stdout, /^### Added/);
  });
});
