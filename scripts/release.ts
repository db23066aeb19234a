/**
 * One version for every file that carries it (docs/deployment.md, "Releasing"):
 *
 *   npm run release -- 0.2.0              bump package.json, package-lock.json (root),
 *                                          addon/config.yaml, addon/Dockerfile and turn the
 *                                          "Unreleased" section of CHANGELOG.md and
 *                                          addon/CHANGELOG.md into "0.2.0 - <date>"
 *   npm run release -- --check [v0.2.0]    exit 1 unless every file agrees (and the tag,
 *                                          when given, names that version); the release
 *                                          workflow runs this on the pushed tag
 *   npm run release -- --notes 0.2.0       print the CHANGELOG.md section of that version
 *                                          (the body of the GitHub release)
 *
 * Files are edited as text (one line each) so comments and formatting stay as they are.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Semantic version without a leading v: 1.2.3, 1.2.3-rc.1 (semver.org). */
export const VERSION_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** Where each version lives, relative to the repository root. */
export const FILES = {
  packageJson: 'package.json',
  packageLock: 'package-lock.json',
  addonConfig: 'addon/config.yaml',
  addonDockerfile: 'addon/Dockerfile',
  changelog: 'CHANGELOG.md',
  addonChangelog: 'addon/CHANGELOG.md',
} as const;

const CONFIG_VERSION = /^version: "?([^"\s]+)"?$/m;
const DOCKERFILE_VERSION = /^ARG UPS2MQTT_VERSION=(\S+)$/gm;
const UNRELEASED = /^## \[?Unreleased\]?[^\n]*$/im;

const NEW_CHANGELOG = `# Changelog

All notable changes to ups2mqtt. The format follows https://keepachangelog.com/en/1.1.0/
and versions follow https://semver.org/. \`npm run release -- <version>\` turns the
Unreleased section into the version's section (docs/deployment.md, "Releasing").

## [Unreleased]
`;

/** The versions found in each file (a changelog counts when it has a heading for it). */
export interface VersionReport {
  packageJson: string | undefined;
  packageLock: string | undefined;
  packageLockRoot: string | undefined;
  addonConfig: string | undefined;
  addonDockerfile: string[];
}

function read(root: string, rel: string): string {
  return readFileSync(join(root, rel), 'utf8');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The heading line of `version` in a changelog: `## [0.2.0]` or `## 0.2.0 - date`. */
export function changelogHeading(version: string): RegExp {
  return new RegExp(`^## \\[?${escapeRegExp(version)}\\]?(?:\\s|$)`, 'm');
}

/** Reads the version every file declares. */
export function readVersions(root: string): VersionReport {
  const pkg = JSON.parse(read(root, FILES.packageJson)) as { version?: string };
  const lock = JSON.parse(read(root, FILES.packageLock)) as {
    version?: string;
    packages?: Record<string, { version?: string }>;
  };
  return {
    packageJson: pkg.version,
    packageLock: lock.version,
    packageLockRoot: lock.packages?.['']?.version,
    addonConfig: CONFIG_VERSION.exec(read(root, FILES.addonConfig))?.[1],
    addonDockerfile: [...read(root, FILES.addonDockerfile).matchAll(DOCKERFILE_VERSION)].map(
      (m) => m[1] ?? '',
    ),
  };
}

/**
 * What disagrees: every file against package.json's version, both changelogs have its
 * heading, and `tag` (a git tag such as v0.2.0 or refs/tags/v0.2.0), when given, names it.
 * An empty list means the tree is ready to release that version.
 */
export function checkVersions(root: string, tag?: string): string[] {
  const v = readVersions(root);
  const problems: string[] = [];
  const want = v.packageJson;
  if (want === undefined || !VERSION_PATTERN.test(want)) {
    return [`${FILES.packageJson}: version ${JSON.stringify(want)} is not a semantic version`];
  }
  const same = (file: string, found: string | undefined): void => {
    if (found !== want) problems.push(`${file}: version ${found ?? '(none)'}, want ${want}`);
  };
  same(FILES.packageLock, v.packageLock);
  same(`${FILES.packageLock} packages[""]`, v.packageLockRoot);
  same(FILES.addonConfig, v.addonConfig);
  if (v.addonDockerfile.length === 0) same(`${FILES.addonDockerfile} ARG UPS2MQTT_VERSION`, '');
  for (const found of v.addonDockerfile)
    same(`${FILES.addonDockerfile} ARG UPS2MQTT_VERSION`, found);
  for (const file of [FILES.changelog, FILES.addonChangelog]) {
    const text = existsSync(join(root, file)) ? read(root, file) : '';
    if (!changelogHeading(want).test(text)) problems.push(`${file}: no "## [${want}]" section`);
  }
  if (tag !== undefined) {
    const name = tag.replace(/^refs\/tags\//, '');
    if (name !== `v${want}`) problems.push(`tag ${name} does not name version ${want} (v${want})`);
  }
  return problems;
}

/**
 * The changelog with its Unreleased section renamed to `version` (and a fresh, empty
 * Unreleased above it), or a new section for `version` when there is no Unreleased one.
 */
export function releaseChangelog(text: string, version: string, date: string): string {
  if (changelogHeading(version).test(text)) return text;
  const heading = `## [${version}] - ${date}`;
  if (UNRELEASED.test(text)) {
    return text.replace(UNRELEASED, `## [Unreleased]\n\n${heading}`);
  }
  const firstSection = text.search(/^## /m);
  const section = `${heading}\n\n- No notable changes.\n\n`;
  if (firstSection < 0) return `${text.replace(/\n*$/, '\n\n')}${section}`;
  return `${text.slice(0, firstSection)}${section}${text.slice(firstSection)}`;
}

/** The body of `version`'s section of a changelog (without its heading), trimmed. */
export function changelogSection(text: string, version: string): string | undefined {
  const m = changelogHeading(version).exec(text);
  if (!m) return undefined;
  const start = text.indexOf('\n', m.index);
  if (start < 0) return '';
  const rest = text.slice(start + 1);
  const next = rest.search(/^## /m);
  return (next < 0 ? rest : rest.slice(0, next)).trim();
}

/** Writes `version` into every file. `date` is the changelog date (YYYY-MM-DD). */
export function bumpVersion(root: string, version: string, date: string): string[] {
  if (!VERSION_PATTERN.test(version)) {
    throw new Error(`"${version}" is not a semantic version (like 1.2.3 or 1.2.3-rc.1)`);
  }
  const written: string[] = [];
  const write = (rel: string, text: string): void => {
    const path = join(root, rel);
    if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
    writeFileSync(path, text);
    written.push(rel);
  };

  const pkgText = read(root, FILES.packageJson);
  write(FILES.packageJson, pkgText.replace(/^(\s*"version":\s*)"[^"]*"/m, `$1"${version}"`));

  const lock = JSON.parse(read(root, FILES.packageLock)) as {
    version?: string;
    packages?: Record<string, { version?: string }>;
  };
  lock.version = version;
  const rootEntry = lock.packages?.[''];
  if (rootEntry) rootEntry.version = version;
  write(FILES.packageLock, `${JSON.stringify(lock, null, 2)}\n`);

  const config = read(root, FILES.addonConfig);
  if (!CONFIG_VERSION.test(config)) throw new Error(`${FILES.addonConfig} has no version line`);
  write(FILES.addonConfig, config.replace(CONFIG_VERSION, `version: "${version}"`));

  write(
    FILES.addonDockerfile,
    read(root, FILES.addonDockerfile).replace(
      DOCKERFILE_VERSION,
      `ARG UPS2MQTT_VERSION=${version}`,
    ),
  );

  for (const file of [FILES.changelog, FILES.addonChangelog]) {
    const text = existsSync(join(root, file)) ? read(root, file) : NEW_CHANGELOG;
    write(file, releaseChangelog(text, version, date));
  }
  return written;
}

function main(argv: string[]): number {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const [first, second] = argv;
  if (first === '--check') {
    const problems = checkVersions(root, second);
    for (const p of problems) process.stderr.write(`release: ${p}\n`);
    if (problems.length === 0) {
      process.stdout.write(`release: every file says ${readVersions(root).packageJson}\n`);
    }
    return problems.length === 0 ? 0 : 1;
  }
  if (first === '--notes' && second !== undefined) {
    const version = second.replace(/^(refs\/tags\/)?v/, '');
    const section = changelogSection(read(root, FILES.changelog), version);
    if (section === undefined) {
      process.stderr.write(`release: ${FILES.changelog} has no section for ${version}\n`);
      return 1;
    }
    process.stdout.write(`${section}\n`);
    return 0;
  }
  if (first === undefined || first.startsWith('-')) {
    process.stderr.write(
      'usage: npm run release -- <version> | --check [tag] | --notes <version>\n',
    );
    return 2;
  }
  const version = first.replace(/^v/, '');
  if (!VERSION_PATTERN.test(version)) {
    process.stderr.write(`release: "${first}" is not a semantic version (like 1.2.3)\n`);
    return 2;
  }
  const date = new Date().toISOString().slice(0, 10);
  const written = bumpVersion(root, version, date);
  for (const file of written) process.stdout.write(`release: wrote ${file}\n`);
  const problems = checkVersions(root);
  for (const p of problems) process.stderr.write(`release: ${p}\n`);
  if (problems.length > 0) return 1;
  process.stdout.write(
    `release: ${version} everywhere. Review the changelogs, commit, then\n` +
      `  git tag v${version} && git push origin v${version}\n`,
  );
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
