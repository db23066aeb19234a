/**
 * ups2mqtt side by side with what users would run instead, compared the way a user would:
 * the same real apcupsd (Smart driver, fed by the Smart-UPS simulator over a socat pty, so
 * power events are real apcupsd events) and the same real mosquitto, ONE bridge running at a
 * time, the bridges alternated over several reps (interleaved, order reversed every other
 * rep), every window recorded.
 *
 * Per window: CPU of the bridge's whole process tree (apcaccess children included) as
 * CPU-seconds per hour, RSS summed over the tree (end and max), MQTT messages and bytes per
 * minute on the bridge's own topics; then power events (mains fails / returns on the
 * simulator at a random phase of the poll) timed at apcupsd's NIS and at the bridge's MQTT
 * message. Results after every window go to bench/results/<out>.json (`--resume` continues
 * an interrupted run with the same settings); the summary and Markdown tables are printed.
 * See bench/README.md#side-by-sidets and docs/benchmarks.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { startMosquitto } from '../test/helpers/mosquitto.ts';
import { startSmartApcupsd } from '../test/helpers/smart-ups-sim/apcupsd-smart.ts';
import { SmartUpsSimulator } from '../test/helpers/smart-ups-sim/simulator.ts';
import { flagHelp, parseFlags } from './lib/flags.ts';
import { clockTicksPerSecond } from './lib/procfs.ts';
import { reapedChildTicks } from './lib/proctree.ts';
import { machineFacts, REPO_ROOT, writeResults } from './lib/results.ts';
import { runBench, say } from './lib/run.ts';
import {
  APCUPSD2MQTT_VERSION,
  apcaccessWrapper,
  BRIDGE_NAMES,
  BRIDGES,
  type BridgeName,
  DEFAULT_PEERS_DIR,
  ensureApcupsd2mqtt,
  parseUps2mqttEnv,
  realApcaccess,
} from './lib/sbs-bridges.ts';
import { markdownTables, summarize, wrapperOverheads } from './lib/sbs-report.ts';
import { runWindow, type SharedRig, type WindowResult } from './lib/sbs-window.ts';
import { TimedSubscriber } from './lib/subscriber.ts';

const SPECS = {
  reps: { default: '2', help: 'interleaved rounds; each runs every bridge once' },
  warmup: { default: '10', help: 'seconds after the first message before the window' },
  window: { default: '120', help: 'steady-state seconds measured per bridge and rep' },
  events: { default: '10', help: 'power events per window (even: fail, return, …)' },
  bridges: { default: BRIDGE_NAMES.join(','), help: 'which bridges, in rep-1 order' },
  'ups2mqtt-dir': { default: REPO_ROOT, help: 'ups2mqtt tree to build and run' },
  'ups2mqtt-env': {
    default: '',
    help: 'extra settings for ups2mqtt, e.g. "UPS2MQTT_NIS_REUSE_CONNECTION=false" (comma-separated)',
  },
  build: {
    default: 'yes',
    help: 'yes: `npm run build` in --ups2mqtt-dir first; no: use its dist/',
  },
  'peers-dir': { default: DEFAULT_PEERS_DIR, help: 'bench-only npm prefix for apcupsd2mqtt' },
  out: { default: 'side-by-side', help: 'results file bench/results/<out>.json' },
} as const;
/** `--quick` (~8 min): shorter windows, fewer events, apcupsd2mqtt at its 10 s default left out. */
const QUICK: Record<string, string> = {
  reps: '2',
  warmup: '15',
  window: '30',
  events: '4',
  bridges: 'ups2mqtt,apcupsd2mqtt-1s,python-ref,node-floor',
};
const SUMMARY =
  'ups2mqtt vs apcupsd2mqtt, a minimal Python bridge and a bare Node floor, one at a time on\n' +
  'the same apcupsd + mosquitto, interleaved. Default ~29 min; --quick ~8 min; --resume\n' +
  'continues bench/results/<out>.json when its settings match.';

function git(dir: string, args: string[]): string {
  try {
    return execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** CPU ms per call of `sh -c CMD`, from our own reaped-children counters. */
function cpuPerCall(cmd: string, env: NodeJS.ProcessEnv, calls: number, tps: number): number {
  const before = reapedChildTicks('self');
  for (let i = 0; i < calls; i++) spawnSync('/bin/sh', ['-c', cmd], { env, stdio: 'ignore' });
  return Math.round((((reapedChildTicks('self') - before) / tps) * 1000 * 100) / calls) / 100;
}

interface ResultsFile {
  command: string;
  settings: { bridges: BridgeName[] };
  wrapper: { cpuMsPerCallViaWrapper: number; cpuMsPerCallDirect: number };
  labels: Record<BridgeName, string>;
  windows: WindowResult[];
}

/** `--report`: the summary and tables of an existing results file, nothing run. */
function report(outFile: string): void {
  const old = JSON.parse(readFileSync(outFile, 'utf8')) as ResultsFile;
  const { bridges, cheapestPeer } = summarize(
    old.windows,
    old.labels,
    old.settings.bridges,
    wrapperOverheads(old.wrapper),
  );
  say(`${old.command}\n`);
  say(markdownTables(bridges, cheapestPeer));
}

function main(argv: string[]): void {
  const quick = argv.includes('--quick');
  const resume = argv.includes('--resume');
  const rest = argv.filter((a) => a !== '--quick' && a !== '--resume' && a !== '--report');
  const given = new Set(
    rest.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]),
  );
  const withQuick = quick
    ? [...rest, ...Object.entries(QUICK).flatMap(([k, v]) => (given.has(k) ? [] : [`--${k}`, v]))]
    : rest;
  const flags = parseFlags(withQuick, SPECS);
  if (flags.help) {
    process.stdout.write(
      `${flagHelp('side-by-side', SUMMARY, SPECS)}  --quick          ${JSON.stringify(QUICK)}\n  --resume         keep the finished windows of an earlier run\n  --report         only print the tables of bench/results/<out>.json\n`,
    );
    return;
  }
  const settings = {
    quick,
    reps: flags.number('reps'),
    warmupS: flags.number('warmup', true),
    windowS: flags.number('window'),
    events: Math.ceil(flags.number('events', true) / 2) * 2,
    bridges: flags.choices('bridges', BRIDGE_NAMES),
    // Recorded relative to this tree and to ~, so a results file names no machine's paths.
    ups2mqttDir: relative(REPO_ROOT, resolve(flags.text('ups2mqtt-dir'))) || '.',
    peersDir: resolve(flags.text('peers-dir')).replace(homedir(), '~'),
    apcupsd2mqttVersion: APCUPSD2MQTT_VERSION,
    ups2mqttEnv: parseUps2mqttEnv(flags.text('ups2mqtt-env')),
  };
  const dirs = {
    ups2mqttDir: resolve(REPO_ROOT, settings.ups2mqttDir),
    peersDir: settings.peersDir.replace(/^~/, homedir()),
  };
  const out = flags.text('out');
  const build = flags.choices('build', ['yes', 'no'])[0] === 'yes';
  const outFile = join(REPO_ROOT, 'bench', 'results', `${out}.json`);
  if (argv.includes('--report')) {
    report(outFile);
    return;
  }
  const plan: { rep: number; bridge: BridgeName }[] = [];
  for (let rep = 1; rep <= settings.reps; rep++) {
    const order = rep % 2 === 1 ? settings.bridges : [...settings.bridges].reverse();
    for (const bridge of order) plan.push({ rep, bridge });
  }
  let done: WindowResult[] = [];
  if (resume && existsSync(outFile)) {
    const old = JSON.parse(readFileSync(outFile, 'utf8')) as {
      settings: unknown;
      windows: WindowResult[];
    };
    if (JSON.stringify(old.settings) !== JSON.stringify(settings)) {
      throw new Error(`--resume: ${outFile} was made with other settings; run without --resume`);
    }
    done = old.windows.filter((w) => w.error === undefined);
  }
  const todo = plan.filter((p) => !done.some((w) => w.rep === p.rep && w.bridge === p.bridge));
  const perWindow = settings.warmupS + settings.windowS + 10;
  const eventS = (b: BridgeName): number =>
    BRIDGES[b].mqtt ? settings.events * (BRIDGES[b].intervalS + 1) : 0;
  const etaMin = todo.reduce((sum, p) => sum + perWindow + eventS(p.bridge), 60) / 60;
  say(SUMMARY);
  say(
    `plan: ${plan.length} windows (${todo.length} to run), about ${etaMin.toFixed(0)} min; ${JSON.stringify(settings)}`,
  );

  runBench(async (registry) => {
    const tps = clockTicksPerSecond();
    if (build) {
      say(`building ups2mqtt in ${dirs.ups2mqttDir} (npm run build)`);
      execFileSync('npm', ['run', 'build'], {
        cwd: dirs.ups2mqttDir,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    }
    if (!existsSync(join(dirs.ups2mqttDir, 'dist', 'cli', 'main.js'))) {
      throw new Error(`no dist/cli/main.js in ${dirs.ups2mqttDir}: run with --build yes`);
    }
    if (settings.bridges.some((b) => b.startsWith('apcupsd2mqtt')))
      ensureApcupsd2mqtt(dirs.peersDir);
    const workDir = mkdtempSync(join(tmpdir(), 'ups2mqtt-sbs-'));
    registry.track({ stop: async () => rmSync(workDir, { recursive: true, force: true }) });
    const sim = await SmartUpsSimulator.start({ registry });
    const apcupsd = registry.track(await startSmartApcupsd({ device: sim.devicePath, registry }));
    const broker = await startMosquitto({ registry });
    const subscriber = registry.track(new TimedSubscriber());
    await subscriber.start(broker.url, ['#']);
    const ctx = {
      registry,
      nisPort: apcupsd.nisPort,
      mqttPort: broker.port,
      workDir,
      ups2mqttDir: dirs.ups2mqttDir,
      ups2mqttEnv: settings.ups2mqttEnv,
      peersDir: dirs.peersDir,
    };
    // What the apcaccess wrapper costs per poll (see sbs-bridges.ts: apcaccessWrapper).
    const bin = await apcaccessWrapper(workDir, apcupsd.nisPort);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
    const viaWrapper = cpuPerCall('apcaccess', env, 100, tps);
    const direct = cpuPerCall(
      `${realApcaccess()} -h 127.0.0.1:${apcupsd.nisPort} status`,
      env,
      100,
      tps,
    );
    const wrapper = { cpuMsPerCallViaWrapper: viaWrapper, cpuMsPerCallDirect: direct };
    say(
      `apcaccess per call: ${direct} ms CPU as a user runs it, ${viaWrapper} ms through our wrapper`,
    );
    const rig: SharedRig = {
      ctx,
      sim,
      subscriber,
      apcupsdPid: apcupsd.proc.pid,
      mosquittoPid: broker.proc.pid,
    };
    const labels = Object.fromEntries(BRIDGE_NAMES.map((b) => [b, BRIDGES[b].label])) as Record<
      BridgeName,
      string
    >;
    const facts = {
      ...machineFacts(),
      ups2mqttCommit: git(dirs.ups2mqttDir, ['rev-parse', '--short', 'HEAD']),
      ups2mqttSrcDirty: git(dirs.ups2mqttDir, ['status', '--porcelain', '--', 'src']) !== '',
      apcupsd: (
        execFileSync('apcupsd', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? ''
      ).trim(),
      python: spawnSync('/usr/bin/python3', ['--version'], { encoding: 'utf8' }).stdout.trim(),
    };
    const command = `node --import tsx bench/side-by-side.ts ${argv.join(' ')}`.trim();
    const windows = [...done];
    const save = (complete: boolean): void => {
      const summary = summarize(windows, labels, settings.bridges, wrapperOverheads(wrapper));
      writeResults(out, { command, complete, settings, facts, wrapper, labels, summary, windows });
    };
    for (const [i, p] of todo.entries()) {
      say(`[${i + 1}/${todo.length}] rep ${p.rep}: ${BRIDGES[p.bridge].label}`);
      windows.push(
        await runWindow(rig, BRIDGES[p.bridge], p.rep, { ...settings, ticksPerSecond: tps }, say),
      );
      save(false);
    }
    save(true);
    const { bridges, cheapestPeer } = summarize(
      windows,
      labels,
      settings.bridges,
      wrapperOverheads(wrapper),
    );
    say('');
    say(markdownTables(bridges, cheapestPeer));
    say(`every window: ${outFile}`);
    say('Other processes share this machine: compare ratios within this run, not across runs.');
  });
}

main(process.argv.slice(2));
