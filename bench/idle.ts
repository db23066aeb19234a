/**
 * The cost of the common case: ONE UPS over NIS polled every second, at the shipped
 * defaults (Home Assistant discovery on, status page on, log level info), for the built
 * program (`node dist/cli/main.js`). Interleaved windows of several subjects against the
 * same fake apcupsd and the same mosquitto:
 *
 * - `branch`: this tree, compiled into a temporary folder (lib/dist-build.ts);
 * - `bare`: the floor, plain Node with a 1 s timer and one `status` request per second over
 *   a new connection, nothing parsed (lib/bare-nis-poller.mjs);
 * - `main`: another build given by `--main-dist` (e.g. main's tree compiled in a clone).
 *
 * The fake apcupsd re-stamps DATE and END APC on every reply, as apcupsd does; in the
 * `steady` mode nothing else ever changes, in `linev` LINEV moves every `--linev-every`
 * seconds. Per window: the subject is started, waited for (first state, or first request for
 * `bare`), given `--warmup` seconds, then its process tree's CPU (every thread's scheduler
 * ns from /proc/<pid>/task/<tid>/schedstat; utime+stime ticks recorded alongside) is read at
 * both ends of `--window` seconds and its RSS at the end.
 * The order of subjects rotates every round. Medians per subject and mode, and ratios to
 * `bare`, are printed and written to bench/results/<out>.json with every window.
 *
 *   node --import tsx bench/idle.ts [--subjects branch,bare,main --main-dist /tmp/perfmain/dist/cli/main.js]
 *     [--values steady,linev] [--rounds 3] [--warmup 15] [--window 60] [--profile 0]
 *     [--branch-flags="--no-opt;--max-opt=1"]
 *
 * `--branch-flags` adds one more subject per `;`-separated set of Node flags: the branch
 * build started with those flags (`branch --no-opt`), measured in the same rotation.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FakeNisMaster } from '../test/helpers/fake-nis-master.ts';
import { type MosquittoHandle, startMosquitto } from '../test/helpers/mosquitto.ts';
import type { ManagedProcess, ProcessRegistry } from '../test/helpers/process.ts';
import { cleanEnv, spawnBridge } from './lib/bridge-process.ts';
import { asCpuProfile, summarizeProfile } from './lib/cpuprofile.ts';
import { buildDist } from './lib/dist-build.ts';
import { type FlagSpec, flagHelp, parseFlags } from './lib/flags.ts';
import { clockTicksPerSecond, readMachineTicks, readMemory } from './lib/procfs.ts';
import { treeCpuNs, treeCpuTicks } from './lib/proctree.ts';
import { machineFacts, REPO_ROOT, writeResults } from './lib/results.ts';
import { runBench, say } from './lib/run.ts';
import { median, round } from './lib/stats.ts';
import { TimedSubscriber } from './lib/subscriber.ts';

const FLAGS: Record<string, FlagSpec> = {
  subjects: { default: 'branch,bare', help: 'branch, bare, main (comma-separated)' },
  'main-dist': { default: '', help: 'dist/cli/main.js of the build measured as "main"' },
  values: { default: 'steady,linev', help: 'steady (only DATE moves) and/or linev' },
  'linev-every': { default: '20', help: 'seconds between LINEV changes in the linev mode' },
  rounds: { default: '3', help: 'alternations of every subject and mode' },
  warmup: { default: '15', help: 'seconds after the subject is up, before measuring' },
  window: { default: '60', help: 'seconds of each measured window' },
  profile: { default: '0', help: 'seconds of one extra branch run under --cpu-prof (0 = none)' },
  'branch-flags': {
    default: '',
    help: 'extra subjects: the branch with these Node flags (sets separated by ";")',
  },
  out: { default: 'idle', help: 'results file name under bench/results/' },
};

type Subject = 'branch' | 'bare' | 'main';
/** A subject, or the branch with Node flags: `branch --no-opt`. */
type Label = string;
type Mode = 'steady' | 'linev';

interface Window {
  round: number;
  subject: Label;
  mode: Mode;
  cpuS: number;
  windowS: number;
  cpuSPerHour: number;
  /** The same from utime + stime (10 ms ticks). */
  tickCpuSPerHour: number;
  rssEndMb: number;
  mqttMessagesPerMin: number;
  mqttBytesPerMin: number;
  nisRequestsPerS: number;
  machineBusyCores: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

runBench(async (registry) => {
  const flags = parseFlags(process.argv.slice(2), FLAGS);
  if (flags.help) {
    say(flagHelp('idle', 'CPU and RSS of one NIS UPS at 1 s against a bare-Node floor.', FLAGS));
    return;
  }
  const baseSubjects = flags.choices<Subject>('subjects', ['branch', 'bare', 'main']);
  const variants = flags
    .text('branch-flags')
    .split(';')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  const subjects: Label[] = [...baseSubjects, ...variants.map((v) => `branch ${v}`)];
  const modes = flags.choices<Mode>('values', ['steady', 'linev']);
  const mainDist = flags.text('main-dist');
  if (baseSubjects.includes('main') && mainDist === '') throw new Error('main needs --main-dist');
  const settings = {
    subjects,
    modes,
    mainDist,
    linevEveryS: flags.number('linev-every'),
    rounds: flags.number('rounds'),
    warmupS: flags.number('warmup', true),
    windowS: flags.number('window'),
    profileS: flags.number('profile', true),
  };
  const dist = registry.track(await buildDist());
  const broker = await startMosquitto({ registry });
  const subscriber = registry.track(new TimedSubscriber());
  await subscriber.start(broker.url, ['#']);
  const entries: Record<Subject, string> = {
    branch: dist.main,
    main: mainDist,
    bare: join(REPO_ROOT, 'bench', 'lib', 'bare-nis-poller.mjs'),
  };
  const ctx = { registry, broker, subscriber, entries, settings };
  const windows: Window[] = [];
  for (let round = 0; round < settings.rounds; round++) {
    for (const mode of modes) {
      const order = subjects.map((_, i) => subjects[(i + round) % subjects.length] as Label);
      for (const subject of order) {
        const w = await measure(ctx, round, subject, mode);
        windows.push(w);
        say(
          `round ${round + 1} ${mode.padEnd(6)} ${subject.padEnd(6)} ${w.cpuSPerHour} CPU-s/h, ` +
            `${w.rssEndMb} MiB, ${w.mqttMessagesPerMin} msg/min, busy ${w.machineBusyCores} cores`,
        );
      }
    }
  }
  const summary = summarize(windows, subjects, modes);
  say();
  for (const s of summary) {
    say(
      `${s.mode.padEnd(6)} ${s.subject.padEnd(6)} median ${s.cpuSPerHour} CPU-s/h ` +
        `(${s.cpuRatioToBare ?? '-'}× bare), ${s.rssEndMb} MiB (${s.rssRatioToBare ?? '-'}× bare)`,
    );
  }
  const profile = settings.profileS > 0 ? await profileRun(ctx) : null;
  const file = writeResults(flags.text('out'), {
    script: 'bench/idle.ts',
    argv: process.argv.slice(2),
    settings,
    machine: machineFacts(),
    summary,
    windows,
    profile,
  });
  say(`\nwritten ${file}`);
  await subscriber.stop();
  await broker.stop();
});

interface Ctx {
  registry: ProcessRegistry;
  broker: MosquittoHandle;
  subscriber: TimedSubscriber;
  entries: Record<Subject, string>;
  settings: {
    linevEveryS: number;
    warmupS: number;
    windowS: number;
    profileS: number;
  };
}

/** Starts a fresh fake apcupsd (DATE re-stamped per reply; LINEV moving in `linev`). */
async function startMaster(
  mode: Mode,
  everyS: number,
): Promise<{ master: FakeNisMaster; stop: () => Promise<void> }> {
  const master = new FakeNisMaster({ chunking: 'per-frame' });
  await master.start();
  let timer: NodeJS.Timeout | undefined;
  if (mode === 'linev') {
    let step = 0;
    timer = setInterval(() => {
      step += 1;
      master.setRecord('LINEV', `${(229 + (step % 4)).toFixed(1)} Volts`);
    }, everyS * 1000);
  }
  return {
    master,
    stop: async () => {
      clearInterval(timer);
      await master.stop();
    },
  };
}

async function startSubject(
  ctx: Ctx,
  subject: Subject,
  port: number,
  nodeArgs: readonly string[] = [],
): Promise<{ proc: ManagedProcess; stop: () => Promise<void> }> {
  if (subject === 'bare') {
    const proc = await ctx.registry.spawn(
      'bare-nis-poller',
      process.execPath,
      [...nodeArgs, ctx.entries.bare, String(port)],
      { cwd: REPO_ROOT, env: cleanEnv(process.env) },
    );
    return {
      proc,
      stop: async () => {
        await proc.stop();
      },
    };
  }
  const bridge = await spawnBridge({
    upses: [{ id: 'ups', port, pollIntervalS: 1 }],
    mqttUrl: ctx.broker.url,
    registry: ctx.registry,
    // The shipped defaults: info logs, discovery on, status page on (on a free port).
    logLevel: 'info',
    entry: { kind: 'js', path: ctx.entries[subject] },
    nodeArgs,
  });
  return { proc: bridge.proc, stop: () => bridge.stop() };
}

async function measure(ctx: Ctx, roundNo: number, subject: Label, mode: Mode): Promise<Window> {
  const { master, stop: stopMaster } = await startMaster(mode, ctx.settings.linevEveryS);
  const [base, ...nodeArgs] = subject.split(' ') as [Subject, ...string[]];
  try {
    const firstState =
      base === 'bare'
        ? master.nextRequest('status', 30_000)
        : ctx.subscriber.waitFor((m) => m.topic === 'ups2mqtt/ups/state', 30_000);
    const running = await startSubject(ctx, base, master.port, nodeArgs);
    try {
      await firstState;
      await sleep(ctx.settings.warmupS * 1000);
      const pid = running.proc.pid;
      let messages = 0;
      let bytes = 0;
      ctx.subscriber.onMessage = (m) => {
        messages += 1;
        bytes += m.topic.length + m.payload.length;
      };
      const requests0 = master.requestCount('status');
      const machine0 = machineBusy();
      const t0 = performance.now();
      const hz = clockTicksPerSecond();
      const cpu0 = treeCpuTicks(pid);
      const ns0 = treeCpuNs(pid, hz);
      await sleep(ctx.settings.windowS * 1000);
      const cpu1 = treeCpuTicks(pid);
      const ns1 = treeCpuNs(pid, hz);
      const windowS = (performance.now() - t0) / 1000;
      const rssEndMb = round(readMemory(pid).rssKb / 1024, 1);
      const busy = machineBusy();
      ctx.subscriber.onMessage = () => {};
      // Scheduler ns of every thread: a 10 ms tick is 0.6 CPU-s/h over a minute, the same
      // order as the differences measured here. Ticks are kept for comparison.
      const cpuS = (ns1 - ns0) / 1e9;
      const tickCpuS = (cpu1 - cpu0) / hz;
      return {
        round: roundNo + 1,
        subject,
        mode,
        cpuS: round(cpuS, 2),
        windowS: round(windowS, 1),
        cpuSPerHour: round((cpuS / windowS) * 3600, 2),
        tickCpuSPerHour: round((tickCpuS / windowS) * 3600, 2),
        rssEndMb,
        mqttMessagesPerMin: round((messages / windowS) * 60, 1),
        mqttBytesPerMin: Math.round((bytes / windowS) * 60),
        nisRequestsPerS: round((master.requestCount('status') - requests0) / windowS, 2),
        machineBusyCores: round((busy.busy - machine0.busy) / clockTicksPerSecond() / windowS, 2),
      };
    } finally {
      await running.stop();
    }
  } finally {
    await stopMaster();
  }
}

function machineBusy(): { busy: number } {
  return readMachineTicks();
}

/** One branch run in the steady mode under --cpu-prof: the costliest frames. */
async function profileRun(ctx: Ctx): Promise<unknown> {
  const dir = join(REPO_ROOT, 'bench', 'results', 'profiles', `idle-${Date.now()}`);
  const { master, stop: stopMaster } = await startMaster('steady', ctx.settings.linevEveryS);
  try {
    const first = ctx.subscriber.waitFor((m) => m.topic === 'ups2mqtt/ups/state', 30_000);
    const running = await startSubject(ctx, 'branch', master.port, [
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
    ]);
    try {
      await first;
      await sleep(ctx.settings.profileS * 1000);
    } finally {
      await running.stop();
    }
  } finally {
    await stopMaster();
  }
  const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) return null;
  const summary = summarizeProfile(
    asCpuProfile(JSON.parse(await readFile(join(dir, file), 'utf8'))),
    25,
  );
  say(`\nprofile (${dir}): total ${round(summary.totalMs)} ms, idle ${round(summary.idleMs)} ms`);
  for (const f of summary.functions.slice(0, 25)) say(`  ${f.selfMs} ms  ${f.pct}%  ${f.name}`);
  say('by file:');
  for (const f of summary.files.slice(0, 15)) say(`  ${f.selfMs} ms  ${f.pct}%  ${f.name}`);
  if (process.env.UPS2MQTT_BENCH_KEEP_PROFILE === undefined) {
    await rm(dir, { recursive: true, force: true });
  }
  return summary;
}

interface SummaryRow {
  subject: Label;
  mode: Mode;
  windows: number;
  cpuSPerHour: number;
  rssEndMb: number;
  mqttMessagesPerMin: number;
  mqttBytesPerMin: number;
  cpuRatioToBare: number | null;
  rssRatioToBare: number | null;
}

function summarize(
  windows: readonly Window[],
  subjects: readonly Label[],
  modes: readonly Mode[],
): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const mode of modes) {
    const of = (s: Label) => windows.filter((w) => w.subject === s && w.mode === mode);
    const bare = of('bare');
    const bareCpu = bare.length > 0 ? median(bare.map((w) => w.cpuSPerHour)) : null;
    const bareRss = bare.length > 0 ? median(bare.map((w) => w.rssEndMb)) : null;
    for (const subject of subjects) {
      const ws = of(subject);
      const cpu = round(median(ws.map((w) => w.cpuSPerHour)), 2);
      const rss = round(median(ws.map((w) => w.rssEndMb)), 1);
      rows.push({
        subject,
        mode,
        windows: ws.length,
        cpuSPerHour: cpu,
        rssEndMb: rss,
        mqttMessagesPerMin: round(median(ws.map((w) => w.mqttMessagesPerMin)), 1),
        mqttBytesPerMin: Math.round(median(ws.map((w) => w.mqttBytesPerMin))),
        // Ratios of the medians; per-round ratios are in the windows for a closer look.
        cpuRatioToBare: bareCpu ? round(cpu / bareCpu, 2) : null,
        rssRatioToBare: bareRss ? round(rss / bareRss, 2) : null,
      });
    }
  }
  return rows;
}
