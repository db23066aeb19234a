/**
 * CPU time of a process and every process below it, from Linux procfs: what a user sees as
 * "the bridge's CPU" even if it ever spawns helpers. Children are found through
 * `/proc/<pid>/task/<tid>/children` (proc(5)); a process that exits between two readings
 * drops out of the sum, so keep helpers long-lived or read the parent's cutime as well.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseProcStat } from './procfs.ts';

/** The pid and its descendants, parents first. Missing processes are skipped. */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    out.push(next);
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${next}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        const text = readFileSync(`/proc/${next}/task/${tid}/children`, 'utf8').trim();
        if (text !== '') queue.push(...text.split(/\s+/).map(Number));
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return out;
}

/** utime+stime (clock ticks) summed over the tree, exited-and-reaped children included. */
export function treeCpuTicks(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const text = readFileSync(`/proc/${p}/stat`, 'utf8');
      const t = parseProcStat(text);
      total += t.utime + t.stime + reapedChildTicks(text);
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** cutime + cstime (fields 16 and 17): CPU of children this process has waited for. */
function reapedChildTicks(statText: string): number {
  const fields = statText
    .slice(statText.lastIndexOf(')') + 2)
    .trim()
    .split(/\s+/);
  return Number(fields[13] ?? 0) + Number(fields[14] ?? 0);
}
