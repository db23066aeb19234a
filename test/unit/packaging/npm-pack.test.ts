/**
 * `npm pack` makes a package that installs and runs: the tarball (built by the package's
 * own prepack script, in a copy of the tree) is installed globally into a temporary prefix,
 * never the real one, and the installed `ups2mqtt` answers --help, --version and a real
 * command.
 *
 * A global install does not use package-lock.json (nor a shrinkwrap in a file tarball): npm
 * resolves the dependency ranges again, as it will for a user. It runs --prefer-offline, so
 * npm's cache (filled by `npm ci` in scripts/test.sh) serves what it holds, and npm itself
 * fetches from the registry only the newer versions the cache lacks.
 */
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { copyPackTree } from '../../helpers/pack-tree.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  files: string[];
  bin: Record<string, string>;
  scripts: Record<string, string>;
};

/** Child environment without UPS2MQTT_* settings or npm's own per-run variables. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('UPS2MQTT_') && !k.toLowerCase().startsWith('npm_'),
    ),
  );
  return { ...env, ...extra };
}

function run(cmd: string, args: string[], cwd: string, env = cleanEnv()): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

describe('npm pack → npm install -g (temporary prefix)', { timeout: 300_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ups2mqtt-pack-'));
  const work = join(tmp, 'tree');
  const prefix = join(tmp, 'prefix');
  let tarball = '';
  let packed: { files: { path: string }[] }[] = [];

  before(() => {
    // A copy of what the package is built from, so the real tree's dist/ is left alone.
    copyPackTree(root, work);
    const r = run('npm', ['pack', '--json', '--pack-destination', tmp], work);
    packed = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as typeof packed;
    tarball = join(tmp, `ups2mqtt-${pkg.version}.tgz`);
    run(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        tarball,
      ],
      tmp,
    );
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('the prepack script builds, and the tarball holds dist, docs and schema, not src or tests', () => {
    assert.equal(pkg.scripts.prepack, 'npm run build');
    assert.ok(existsSync(tarball));
    const files = (packed[0]?.files ?? []).map((f) => f.path);
    assert.ok(files.includes(pkg.bin.ups2mqtt ?? ''), 'the bin is packed');
    assert.ok(files.includes('dist/http/server.js'));
    assert.ok(files.includes('package.json'));
    assert.ok(files.includes('docs/configuration.md'));
    assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test/')));
    assert.ok(!files.some((f) => f.endsWith('.test.js') || f.startsWith('addon/')));
  });

  const bin = (): string => join(prefix, 'bin', 'ups2mqtt');

  it('installs a ups2mqtt command into the prefix', () => {
    assert.ok(existsSync(bin()));
    assert.ok(existsSync(join(prefix, 'lib', 'node_modules', 'ups2mqtt', 'package.json')));
  });

  it('ups2mqtt --help and --version work', () => {
    const help = run(bin(), ['--help'], tmp);
    assert.match(help.stdout, /Usage: ups2mqtt/);
    assert.equal(run(bin(), ['--version'], tmp).stdout, `${pkg.version}\n`);
    assert.match(run(bin(), ['status', '--help'], tmp).stdout, /Usage: ups2mqtt status/);
  });

  it('the installed package reads a (simulated) UPS', () => {
    const r = run(bin(), ['status', '--source', 'sim://?serial=PACKTEST1', '--json'], tmp);
    const state = JSON.parse(r.stdout) as { serial_number: string; status: string };
    assert.equal(state.serial_number, 'PACKTEST1');
    assert.equal(state.status, 'online');
  });
});
