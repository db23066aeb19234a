/**
 * The native modules open after the two installs users and contributors make
 * (docs/deployment.md, "npm install scripts"):
 *
 * - `npm ci` of package-lock.json in a fresh folder: package.json's `allowScripts` approves
 *   the install scripts of node-hid, @serialport/bindings-cpp and esbuild, so npm 11 runs
 *   them as npm 10 does (each only checks for its prebuilt binary; a rebuild is the
 *   fallback on a platform without one) and warns about nothing;
 * - `npm install -g` of the packed tarball into a temporary prefix: a global install has no
 *   project to approve scripts, so npm 11 skips them. The prebuilt binaries inside the
 *   packages are what loads at run time, so nothing is lost: the test proves it by loading
 *   both modules from there, listing HID devices and serial ports, and finding no
 *   compiled build/ folder.
 *
 * Both installs use --prefer-offline: npm's cache (filled by `npm ci` in scripts/test.sh)
 * serves what it holds.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { copyPackTree } from '../helpers/pack-tree.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  allowScripts?: Record<string, boolean>;
};
/** The dependencies with install scripts (npm install-scripts ls lists them). */
const NATIVE = ['node-hid', '@serialport/bindings-cpp'];
const npmMajor = Number(
  spawnSync('npm', ['--version'], { encoding: 'utf8' }).stdout.split('.')[0] ?? 0,
);

/** Child environment without UPS2MQTT_* settings or npm's own per-run variables. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('UPS2MQTT_') && !k.toLowerCase().startsWith('npm_'),
    ),
  );
}

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking the event loop (the two installs run side by side). */
function run(cmd: string, args: string[], cwd: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: cleanEnv(), timeout: 180_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function ok(cmd: string, args: string[], cwd: string): Promise<Result> {
  const r = await run(cmd, args, cwd);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/**
 * Loads node-hid and serialport as the package installed at `dir` resolves them, and asks
 * each for its devices (SerialPort.list runs udevadm).
 */
const PROBE = `
import { createRequire } from 'node:module';
const require = createRequire(process.argv[1] + '/package.json');
const HID = require('node-hid');
const { SerialPort } = require('serialport');
const hid = HID.devices();
const serial = await SerialPort.list();
const resolved = {
  hid: require.resolve('node-hid'),
  serial: require.resolve('@serialport/bindings-cpp', { paths: [require.resolve('serialport')] }),
};
console.log(JSON.stringify({ hid: Array.isArray(hid), serial: Array.isArray(serial), resolved }));
`;

async function probe(dir: string): Promise<{ hid: boolean; serial: boolean }> {
  const r = await ok(process.execPath, ['--input-type=module', '-e', PROBE, dir], dir);
  return JSON.parse(r.stdout) as { hid: boolean; serial: boolean };
}

describe('native modules after npm ci and after a global install', { timeout: 240_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ups2mqtt-install-'));
  const fresh = join(tmp, 'fresh');
  const tree = join(tmp, 'tree');
  const prefix = join(tmp, 'prefix');
  const installed = join(prefix, 'lib', 'node_modules', 'ups2mqtt');
  let ci: Result;
  let global: Result;

  before(async () => {
    cpSync(join(root, 'package.json'), join(fresh, 'package.json'));
    cpSync(join(root, 'package-lock.json'), join(fresh, 'package-lock.json'));
    copyPackTree(root, tree);
    const quiet = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=warn'];
    const packAndInstall = async (): Promise<Result> => {
      await ok('npm', ['pack', '--pack-destination', tmp], tree);
      const tarball = join(tmp, `ups2mqtt-${pkg.version}.tgz`);
      return ok('npm', ['install', '--global', '--prefix', prefix, ...quiet, tarball], tmp);
    };
    // Production dependencies only: the dev tools (esbuild with them) are covered by
    // scripts/test.sh's own npm ci.
    [ci, global] = await Promise.all([
      ok('npm', ['ci', '--omit=dev', ...quiet], fresh),
      packAndInstall(),
    ]);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('package.json approves exactly the dependencies that have install scripts', () => {
    assert.deepEqual(pkg.allowScripts, {
      'node-hid': true,
      '@serialport/bindings-cpp': true,
      esbuild: true,
    });
  });

  it('npm ci: no install script is left unreviewed', () => {
    assert.doesNotMatch(ci.stderr, /not yet covered by allowScripts/);
    if (npmMajor >= 11) {
      const ls = spawnSync('npm', ['install-scripts', 'ls', '--json'], {
        cwd: root,
        encoding: 'utf8',
        env: cleanEnv(),
      });
      assert.equal(ls.status, 0, ls.stderr);
      assert.deepEqual((JSON.parse(ls.stdout) as { allowScripts: unknown[] }).allowScripts, []);
    }
  });

  it('npm ci: node-hid and serialport load; HID devices and serial ports list', async () => {
    assert.deepEqual(
      { ...(await probe(fresh)), resolved: undefined },
      { hid: true, serial: true, resolved: undefined },
    );
  });

  it('global install: npm 11 skipped the install scripts, and the modules load all the same', async () => {
    if (npmMajor >= 11) {
      for (const name of NATIVE) {
        assert.match(global.stderr, new RegExp(`${name.replace('/', '\\/')}@[\\d.]+ \\(install:`));
      }
    }
    assert.ok(existsSync(join(installed, 'node_modules', 'node-hid')));
    const result = (await probe(installed)) as {
      hid: boolean;
      serial: boolean;
      resolved: { hid: string; serial: string };
    };
    assert.equal(result.hid, true);
    assert.equal(result.serial, true);
    assert.ok(result.resolved.hid.startsWith(installed));
    // Loaded from the prebuilt binaries shipped in the packages: nothing was compiled.
    for (const name of NATIVE) {
      assert.ok(!existsSync(join(installed, 'node_modules', name, 'build')), `${name}/build`);
      assert.ok(existsSync(join(installed, 'node_modules', name, 'prebuilds')), name);
    }
  });
});
