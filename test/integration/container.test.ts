/**
 * The container images, built and run here with podman (docs/deployment.md, "Building and
 * running the images locally"). It runs when UPS2MQTT_CONTAINER_TEST=1, which scripts/test.sh
 * sets unless told 0 (it then also installs podman, buildah, runc and mmdebstrap). A cold run takes several
 * minutes (two Debian bootstraps, two image builds); later runs reuse the cached stand-in
 * base images and layers.
 *
 * No image registry is reachable, so each FROM image is a local stand-in tagged with the
 * exact name the Dockerfile uses, made from Debian packages (mmdebstrap) plus, for
 * node:20-bookworm-slim, this machine's Node binary, npm 10 and a `node` user (uid 1000).
 * Everything lives in a private podman store (UPS2MQTT_CONTAINER_CACHE, default
 * ~/.cache/ups2mqtt-container-test) with a private containers.conf, so the machine's own
 * images and containers are never touched. The test removes the containers and images it
 * built; the stand-in bases stay cached (delete the folder to drop them).
 *
 * - Dockerfile, unmodified: runs with sim:// against a private mosquitto, publishes a
 *   state, `podman healthcheck run` says healthy, then unhealthy while the broker is gone;
 *   `podman stop` (SIGTERM) publishes offline and exits 0; runs as uid 1000; no dev
 *   dependency in the image; the image size is reported.
 * - addon/Dockerfile, with the tarball `npm pack` makes from this checkout
 *   (UPS2MQTT_PACKAGE): the start script runs against a fake Supervisor (/data/options.json
 *   and the MQTT service API) and the bridge publishes a state. The s6-overlay service tree
 *   of the real base image is not in the stand-in: the start script runs as the entrypoint.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type MosquittoHandle, startMosquitto } from '../helpers/mosquitto.ts';
import { type MqttRecording, recordMqtt } from '../helpers/mqtt-recorder.ts';
import { copyPackTree } from '../helpers/pack-tree.ts';
import { freePort, pollUntil } from '../helpers/ports.ts';

const ENABLED = process.env.UPS2MQTT_CONTAINER_TEST === '1';
const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const CACHE =
  process.env.UPS2MQTT_CONTAINER_CACHE ?? join(homedir(), '.cache', 'ups2mqtt-container-test');
/** Debian mirror for the stand-in bases (the Debian archive, also on non-Debian hosts). */
const MIRROR = process.env.UPS2MQTT_DEBIAN_MIRROR ?? 'http://deb.debian.org';
/** Names of everything this run creates, so cleanup removes only that. */
const RUN = `ups2mqtt-test-${process.pid}`;
const APP_IMAGE = `localhost/ups2mqtt-test/ups2mqtt:${RUN}`;
const ADDON_IMAGE = `localhost/ups2mqtt-test/addon:${RUN}`;
const APP = `${RUN}-app`;
const ADDON = `${RUN}-addon`;

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command asynchronously (builds take minutes; the event loop stays free). */
function exec(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}) {
  return new Promise<Result>((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? root,
      env: { ...process.env, CONTAINERS_CONF: join(CACHE, 'containers.conf') },
      timeout: opts.timeoutMs ?? 60_000,
    });
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

async function must(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}) {
  const r = await exec(cmd, args, opts);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** podman on the private store. */
const STORE = [
  '--root',
  join(CACHE, 'storage'),
  '--runroot',
  join(CACHE, 'run'),
  '--storage-driver',
  'overlay',
];
const podman = (args: string[], timeoutMs = 60_000) =>
  exec('podman', [...STORE, ...args], { timeoutMs });
const mustPodman = (args: string[], timeoutMs = 60_000) =>
  must('podman', [...STORE, ...args], { timeoutMs });

/**
 * podman's root defaults for open files exceed this VM's hard limit, and crun refuses its
 * hybrid cgroups (testing-notes "Containers"); no systemd, so events go to a file.
 */
const CONTAINERS_CONF = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
`;

/** The CA bundle of the host (the registries may be reached through a proxy with its own CA). */
function hostCertificates(dir: string): void {
  const from = '/usr/local/share/ca-certificates';
  mkdirSync(join(dir, 'certs'), { recursive: true });
  writeFileSync(join(dir, 'certs', 'README'), 'host CA certificates, if any\n');
  if (!existsSync(from)) return;
  for (const f of readdirSync(from).filter((n) => n.endsWith('.crt'))) {
    copyFileSync(join(from, f), join(dir, 'certs', f));
  }
}

const CERTS_STEP = `COPY certs/ /usr/local/share/ca-certificates/
RUN update-ca-certificates
# Node's own CA list does not know a proxy's CA: every Node in the image reads the bundle.
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt`;

/** A stand-in base image: Debian `suite` (minbase) plus `extra` Containerfile steps. */
interface StandIn {
  name: string;
  suite: string;
  prepare(dir: string): Promise<void>;
  steps: string;
}

const STAND_INS: StandIn[] = [
  {
    // Dockerfile: ARG NODE_IMAGE=node:20-bookworm-slim (short name → docker.io/library).
    name: 'docker.io/library/node:20-bookworm-slim',
    suite: 'bookworm',
    async prepare(dir) {
      copyFileSync(process.execPath, join(dir, 'node'));
      const r = await must('npm', ['pack', 'npm@10', '--pack-destination', dir, '--silent'], {
        cwd: dir,
      });
      const file = r.stdout.trim().split('\n').at(-1) ?? '';
      cpSync(join(dir, file), join(dir, 'npm.tgz'));
    },
    steps: `COPY node /usr/local/bin/node
COPY npm.tgz /tmp/npm.tgz
RUN mkdir -p /usr/local/lib/node_modules/npm \\
    && tar -xzf /tmp/npm.tgz -C /usr/local/lib/node_modules/npm --strip-components=1 \\
    && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
    && rm /tmp/npm.tgz \\
    && groupadd --gid 1000 node \\
    && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
CMD ["node"]`,
  },
  {
    // addon/Dockerfile: ARG BUILD_FROM=ghcr.io/home-assistant/base-debian:trixie. The real
    // one adds s6-overlay and bashio; the start script needs neither.
    name: 'ghcr.io/home-assistant/base-debian:trixie',
    suite: 'trixie',
    async prepare() {},
    steps: 'RUN mkdir -p /data',
  },
];

/** Builds a stand-in base unless the private store has it already. */
async function ensureStandIn(base: StandIn): Promise<void> {
  if ((await podman(['image', 'exists', base.name])).status === 0) return;
  const dir = mkdtempSync(join(tmpdir(), 'ups2mqtt-standin-'));
  try {
    const rootfs = join(dir, 'rootfs.tar');
    const sources = [`${base.suite} main`, `${base.suite}-updates main`].map(
      (s) => `deb ${MIRROR}/debian ${s}`,
    );
    sources.push(`deb ${MIRROR}/debian-security ${base.suite}-security main`);
    await must(
      'mmdebstrap',
      ['--variant=minbase', '--include=ca-certificates', base.suite, rootfs, ...sources],
      { timeoutMs: 600_000 },
    );
    const rootfsImage = `localhost/ups2mqtt-test/${base.suite}-rootfs:latest`;
    await mustPodman(['import', rootfs, rootfsImage], 300_000);
    rmSync(rootfs);
    hostCertificates(dir);
    await base.prepare(dir);
    writeFileSync(
      join(dir, 'Containerfile'),
      `# Test stand-in for ${base.name}\nFROM ${rootfsImage}\n${CERTS_STEP}\n${base.steps}\n`,
    );
    await mustPodman(
      ['build', '--format', 'docker', '--network=host', '--pull=never', '-t', base.name, dir],
      600_000,
    );
    await podman(['rmi', rootfsImage]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `podman build` as the docs say, timed. */
async function build(tag: string, context: string, args: string[] = []): Promise<number> {
  const started = Date.now();
  await mustPodman(
    ['build', '--format', 'docker', '--network=host', '--pull=never', '-t', tag, ...args, context],
    900_000,
  );
  return (Date.now() - started) / 1000;
}

/** Makes the package tarball from a copy of the tree (prepack builds dist/ there). */
async function packTarball(into: string): Promise<string> {
  const tree = mkdtempSync(join(tmpdir(), 'ups2mqtt-ctr-tree-'));
  try {
    copyPackTree(root, tree);
    await must('npm', ['pack', '--pack-destination', into, '--silent'], {
      cwd: tree,
      timeoutMs: 180_000,
    });
    return `ups2mqtt-${pkg.version}.tgz`;
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

const healthcheck = async (name: string): Promise<number | null> =>
  (await podman(['healthcheck', 'run', name])).status;

const state = (m: { topic: string; text: string }, topic: string) => {
  if (m.topic !== topic) return false;
  try {
    return (JSON.parse(m.text) as { status?: string }).status === 'online';
  } catch {
    return false;
  }
};

describe('container images (podman)', {
  skip: ENABLED ? false : 'set UPS2MQTT_CONTAINER_TEST=1 to build and run the images',
  timeout: 1_800_000,
}, () => {
  let broker: MosquittoHandle;
  let mqtt: MqttRecording | undefined;
  let context = '';
  let supervisor: Server | undefined;
  const figures: Record<string, string> = {};

  before(async () => {
    mkdirSync(CACHE, { recursive: true });
    writeFileSync(join(CACHE, 'containers.conf'), CONTAINERS_CONF);
    const started = Date.now();
    for (const base of STAND_INS) await ensureStandIn(base);
    figures.standIns = `${((Date.now() - started) / 1000).toFixed(0)} s`;
    broker = await startMosquitto();
  });

  after(async () => {
    await mqtt?.close();
    supervisor?.close();
    for (const name of [APP, ADDON]) await podman(['rm', '--force', '--time', '0', name]);
    for (const image of [APP_IMAGE, ADDON_IMAGE]) await podman(['rmi', '--force', image]);
    // Intermediate build stages of this run's builds (untagged).
    await podman(['image', 'prune', '--force']);
    await broker?.stop();
    if (context) rmSync(context, { recursive: true, force: true });
    console.log(`container figures: ${JSON.stringify(figures)}`);
  });

  describe('Dockerfile', () => {
    let httpPort = 0;

    it('builds unmodified against the stand-in base', async () => {
      figures.appBuild = `${(await build(APP_IMAGE, root)).toFixed(0)} s`;
      const size = Number(
        (await mustPodman(['image', 'inspect', APP_IMAGE, '--format', '{{.Size}}'])).stdout,
      );
      const baseSize = Number(
        (await mustPodman(['image', 'inspect', STAND_INS[0]?.name ?? '', '--format', '{{.Size}}']))
          .stdout,
      );
      figures.appImage = `${(size / 1e6).toFixed(0)} MB (base ${(baseSize / 1e6).toFixed(0)} MB, ups2mqtt layers ${((size - baseSize) / 1e6).toFixed(0)} MB)`;
      assert.ok(size > baseSize);
      const health = await mustPodman([
        'image',
        'inspect',
        APP_IMAGE,
        '--format',
        '{{json .HealthCheck}}',
      ]);
      assert.match(health.stdout, /healthz/, 'the HEALTHCHECK survived (--format docker)');
    });

    it('holds exactly the production dependencies of package-lock.json', async () => {
      // Every package folder under /app/node_modules (nested ones too), as lock paths.
      const walk = `const fs=require('fs');const out=[];
const list=(d)=>{if(!fs.existsSync(d))return;for(const n of fs.readdirSync(d)){
if(n.startsWith('.'))continue;
if(n.startsWith('@')){for(const m of fs.readdirSync(d+'/'+n))visit(d+'/'+n+'/'+m);}else visit(d+'/'+n);}};
const visit=(p)=>{if(!fs.existsSync(p+'/package.json'))return;out.push(p.slice(5));list(p+'/node_modules');};
list('/app/node_modules');console.log(JSON.stringify(out));`;
      const r = await mustPodman([
        'run',
        '--rm',
        '--network=none',
        '--entrypoint',
        'node',
        APP_IMAGE,
        '-e',
        walk,
      ]);
      const installed = new Set(JSON.parse(r.stdout) as string[]);
      const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, { dev?: boolean; optional?: boolean }>;
      };
      const entries = Object.entries(lock.packages).filter(([path]) => path !== '');
      const dev = entries.filter(([, e]) => e.dev === true).map(([path]) => path);
      const prod = entries.filter(([, e]) => e.dev !== true);
      // A dev dependency of package.json may also be a production one through another
      // package (mqtt needs @types/node); the lock's dev flag says which is which.
      for (const path of dev) assert.ok(!installed.has(path), `dev-only ${path} is in the image`);
      for (const path of installed) {
        assert.ok(
          prod.some(([p]) => p === path),
          `${path} is not a production package of the lock`,
        );
      }
      // Optional ones are for other platforms; every other production package is there.
      for (const [path, e] of prod) {
        if (e.optional !== true) assert.ok(installed.has(path), `${path} is missing`);
      }
      for (const tool of ['typescript', 'tsx', 'esbuild', '@biomejs/biome', 'playwright-core']) {
        assert.ok(!installed.has(`node_modules/${tool}`), tool);
      }
      figures.appPackages = `${installed.size} packages (lock: ${prod.length} production, ${dev.length} dev-only)`;
    });

    it('runs with sim:// as uid 1000 and publishes a state', async () => {
      httpPort = await freePort();
      mqtt = await recordMqtt(broker.url, ['ups2mqtt/#']);
      await mustPodman([
        'run',
        '--detach',
        '--name',
        APP,
        '--network=host',
        '--env',
        'UPS2MQTT_SOURCE=sim://?serial=CTRTEST1',
        '--env',
        'UPS2MQTT_UPS_ID=ctr',
        '--env',
        `UPS2MQTT_MQTT_URL=${broker.url}`,
        '--env',
        'UPS2MQTT_HTTP_HOST=127.0.0.1',
        '--env',
        `UPS2MQTT_HTTP_PORT=${httpPort}`,
        APP_IMAGE,
      ]);
      const m = await mqtt.waitFor((x) => state(x, 'ups2mqtt/ctr/state'), 60_000);
      assert.equal((JSON.parse(m.text) as { serial_number: string }).serial_number, 'CTRTEST1');
      const avail = await mqtt.waitFor((x) => x.topic === 'ups2mqtt/ctr/availability', 10_000);
      assert.equal(avail.text, 'online');
      assert.equal(avail.retain, true);
      assert.equal((await mustPodman(['exec', APP, 'id', '-u'])).stdout.trim(), '1000');
      const user = await mustPodman(['inspect', APP, '--format', '{{.Config.User}}']);
      assert.equal(user.stdout.trim(), 'node');
      // The user can write data_dir (./data under /app), nothing else of the app.
      await mustPodman(['exec', APP, 'sh', '-c', 'touch data/probe && rm data/probe']);
      assert.notEqual((await podman(['exec', APP, 'touch', '/app/dist/probe'])).status, 0);
    });

    it('podman healthcheck: healthy, then unhealthy while the broker is gone', async () => {
      await pollUntil(async () => ((await healthcheck(APP)) === 0 ? true : undefined), 60_000, {
        intervalMs: 1000,
        what: 'healthy',
      });
      await broker.proc.stop();
      await pollUntil(async () => ((await healthcheck(APP)) === 1 ? true : undefined), 60_000, {
        intervalMs: 1000,
        what: 'unhealthy without the broker',
      });
      await broker.restart();
      await pollUntil(async () => ((await healthcheck(APP)) === 0 ? true : undefined), 60_000, {
        intervalMs: 1000,
        what: 'healthy again with the broker back',
      });
    });

    it('SIGTERM (podman stop) publishes offline and exits 0', async () => {
      await mqtt?.close();
      mqtt = await recordMqtt(broker.url, ['ups2mqtt/ctr/availability']);
      await mqtt.waitFor((x) => x.text === 'online', 10_000);
      const started = Date.now();
      await mustPodman(['stop', '--time', '20', APP], 60_000);
      figures.stop = `${((Date.now() - started) / 1000).toFixed(1)} s`;
      const off = await mqtt.waitFor((x) => x.text === 'offline', 10_000);
      assert.equal(off.retain, true);
      const code = await mustPodman(['inspect', APP, '--format', '{{.State.ExitCode}}']);
      assert.equal(code.stdout.trim(), '0');
      const logs = await podman(['logs', APP]);
      assert.match(logs.stdout + logs.stderr, /"signal":"SIGTERM"/);
    });
  });

  describe('addon/Dockerfile', () => {
    it('builds from this checkout (a local tarball)', async () => {
      context = mkdtempSync(join(tmpdir(), 'ups2mqtt-addon-ctx-'));
      cpSync(join(root, 'addon'), context, { recursive: true });
      const tarball = await packTarball(join(context, 'packages'));
      figures.addonBuild = `${(
        await build(ADDON_IMAGE, context, [
          '--build-arg',
          `UPS2MQTT_PACKAGE=/tmp/packages/${tarball}`,
        ])
      ).toFixed(0)} s`;
      const size = Number(
        (await mustPodman(['image', 'inspect', ADDON_IMAGE, '--format', '{{.Size}}'])).stdout,
      );
      figures.addonImage = `${(size / 1e6).toFixed(0)} MB`;
      const version = await mustPodman([
        'run',
        '--rm',
        '--network=none',
        '--entrypoint',
        'ups2mqtt',
        ADDON_IMAGE,
        '--version',
      ]);
      assert.equal(version.stdout.trim(), pkg.version);
    });

    it('the start script runs against a fake Supervisor and the bridge publishes a state', async () => {
      const token = `token-${RUN}`;
      const asked: string[] = [];
      supervisor = createServer((req, res) => {
        asked.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
        if (req.url === '/services/mqtt' && req.headers.authorization === `Bearer ${token}`) {
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({
              result: 'ok',
              data: { host: '127.0.0.1', port: broker.port, ssl: false, protocol: '3.1.1' },
            }),
          );
          return;
        }
        res.statusCode = 403;
        res.end('{"result":"error","message":"forbidden"}');
      });
      await new Promise<void>((resolve) => supervisor?.listen(0, '127.0.0.1', resolve));
      const port = (supervisor.address() as AddressInfo).port;
      const data = join(context, 'data');
      mkdirSync(data);
      writeFileSync(
        join(data, 'options.json'),
        JSON.stringify({
          source: 'sim://?serial=ADDONTEST1',
          ups_id: 'addon',
          upses: [],
          poll_interval: 1,
          commands_allow: [],
          base_topic: 'ups2mqtt',
          discovery_prefix: 'homeassistant',
          log_level: 'info',
        }),
      );
      await mqtt?.close();
      mqtt = await recordMqtt(broker.url, ['ups2mqtt/addon/#']);
      await mustPodman([
        'run',
        '--detach',
        '--name',
        ADDON,
        '--network=host',
        '--add-host',
        'supervisor:127.0.0.1',
        '--volume',
        `${data}:/data`,
        '--env',
        `SUPERVISOR_TOKEN=${token}`,
        '--env',
        `ADDON_SUPERVISOR_URL=http://supervisor:${port}`,
        '--entrypoint',
        'node',
        ADDON_IMAGE,
        '/usr/lib/ups2mqtt-addon/start.mjs',
      ]);
      const m = await mqtt.waitFor((x) => state(x, 'ups2mqtt/addon/state'), 60_000);
      assert.equal((JSON.parse(m.text) as { serial_number: string }).serial_number, 'ADDONTEST1');
      assert.deepEqual(asked, [`GET /services/mqtt Bearer ${token}`]);
      const logs = await podman(['logs', ADDON]);
      assert.match(
        logs.stderr + logs.stdout,
        /broker mqtt:\/\/127\.0\.0\.1:\d+ \(from the Supervisor's MQTT service\)/,
      );
      await mustPodman(['stop', '--time', '20', ADDON], 60_000);
      const off = await mqtt.waitFor(
        (x) => x.topic === 'ups2mqtt/addon/availability' && x.text === 'offline',
        10_000,
      );
      assert.equal(off.retain, true);
    });
  });
});
