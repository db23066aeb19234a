/**
 * CPU time and memory of a whole process tree (a process and all its descendants) from
 * Linux procfs, the way a user's `top` would add up a bridge that spawns helpers (e.g.
 * `sh -c apcaccess` every poll). proc(5): per process, utime/stime are its own CPU and
 * cutime/cstime the CPU of children it has already waited for. Summing all four over the
 * live tree therefore counts every helper that ran and exited, provided its parent (inside
 * the tree) reaped it, which Node (libuv), sh and Python all do.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** One process's line of `/proc/<pid>/stat`, the fields the tree needs. */
export interface ProcStatEntry {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  readonly cpuTicks: number;
  /** cutime + cstime alone: children already reaped, in clock ticks. */
  readonly reapedTicks: number;
  /** Resident set size in pages (field 24). */
  readonly rssPages: number;
}

/**
 * Parses `/proc/<pid>/stat`. Fields are counted from the last `)` (the command name may hold
 * spaces and parentheses): after it come state (3), ppid (4), … utime (14), stime (15),
 * cutime (16), cstime (17), … rss (24). Undefined for text that does not fit.
 */
export function parseStatEntry(pid: number, text: string): ProcStatEntry | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text
    .slice(close + 2)
    .trim()
    .split(/\s+/)
    .map(Number);
  const at = (field: number): number => f[field - 3] ?? Number.NaN;
  const ppid = at(4);
  const cpu = at(14) + at(15) + at(16) + at(17);
  const rss = at(24);
  if (![ppid, cpu, rss].every(Number.isFinite)) return undefined;
  return { pid, ppid, cpuTicks: cpu, reapedTicks: at(16) + at(17), rssPages: rss };
}

/** The tree below (and including) `root` in a set of entries. */
export function treeOf(entries: readonly ProcStatEntry[], root: number): ProcStatEntry[] {
  const children = new Map<number, ProcStatEntry[]>();
  for (const e of entries) {
    const list = children.get(e.ppid) ?? [];
    list.push(e);
    children.set(e.ppid, list);
  }
  const out: ProcStatEntry[] = [];
  const top = entries.find((e) => e.pid === root);
  if (top === undefined) return out;
  const queue = [top];
  for (let e = queue.shift(); e !== undefined; e = queue.shift()) {
    out.push(e);
    queue.push(...(children.get(e.pid) ?? []));
  }
  return out;
}

/** A snapshot of one tree. */
export interface TreeSample {
  /** Σ utime+stime+cutime+cstime over the live tree, in clock ticks. */
  readonly cpuTicks: number;
  /** Σ RSS over the live tree, in KiB. */
  readonly rssKb: number;
  /** Processes in the tree at that moment. */
  readonly processes: number;
}

export function sumTree(tree: readonly ProcStatEntry[], pageKb: number): TreeSample {
  let cpuTicks = 0;
  let rssPages = 0;
  for (const e of tree) {
    cpuTicks += e.cpuTicks;
    rssPages += e.rssPages;
  }
  return { cpuTicks, rssKb: rssPages * pageKb, processes: tree.length };
}

/** Every process on the machine (processes that vanish while being read are skipped). */
export function readAllStats(): ProcStatEntry[] {
  const out: ProcStatEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const entry = parseStatEntry(Number(name), readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (entry !== undefined) out.push(entry);
    } catch {
      // gone between readdir and read
    }
  }
  return out;
}

/** Snapshots the tree of `root` now (4 KiB pages, as on every x86-64/arm64 Debian kernel). */
export function sampleTree(root: number, pageKb = 4): TreeSample {
  return sumTree(treeOf(readAllStats(), root), pageKb);
}

/**
 * The tree's CPU in nanoseconds, finer than clock ticks (10 ms, too coarse for a process
 * using ~1 ms a second over a short window): the scheduler's on-CPU time of every live
 * thread (`/proc/<pid>/task/<tid>/schedstat`, first field, ns) plus the reaped children's
 * cutime + cstime (ticks). Time of threads that exited inside the window is not seen; the
 * tick figure of {@link sampleTree} includes it, so both are recorded.
 */
export function treeCpuNs(root: number, ticksPerSecond: number): number {
  let ns = 0;
  for (const e of treeOf(readAllStats(), root)) {
    ns += (e.reapedTicks * 1e9) / ticksPerSecond;
    try {
      for (const tid of readdirSync(`/proc/${e.pid}/task`)) {
        try {
          ns +=
            Number(readFileSync(`/proc/${e.pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) || 0;
        } catch {
          // thread gone
        }
      }
    } catch {
      // process gone
    }
  }
  return ns;
}

/** CPU ticks a process's children have used once reaped: cutime + cstime of `pid`. */
export function reapedChildTicks(pid: number | 'self'): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text
    .slice(text.lastIndexOf(')') + 2)
    .trim()
    .split(/\s+/)
    .map(Number);
  return (f[13] ?? 0) + (f[14] ?? 0);
}

/** `root` and its live descendants, `root` first (empty when `root` does not exist). */
export function processTree(root: number): number[] {
  return treeOf(readAllStats(), root).map((e) => e.pid);
}

/** utime + stime over the live tree of `root`, reaped children included, in clock ticks. */
export function treeCpuTicks(root: number): number {
  return sampleTree(root).cpuTicks;
}
