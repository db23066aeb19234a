/**
 * CPU time and memory of another process from Linux procfs (proc(5)). The parsers are pure;
 * the readers are thin file reads. Measuring from outside means the bridge runs unmodified.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Ups2MqttError } from '../../src/core/errors.ts';

/** User and system CPU time of a process (all its threads), in clock ticks. */
export interface CpuTicks {
  readonly utime: number;
  readonly stime: number;
}

/**
 * Parses `/proc/<pid>/stat`. The command name (field 2) sits in parentheses and may itself
 * contain spaces and `)`, so fields are counted from the *last* `)`: after it come field 3
 * (state) onwards, which puts utime (field 14) and stime (field 15) at offsets 11 and 12.
 */
export function parseProcStat(text: string): CpuTicks {
  const close = text.lastIndexOf(')');
  const fields =
    close < 0
      ? []
      : text
          .slice(close + 2)
          .trim()
          .split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) {
    throw new Ups2MqttError('PROTOCOL_ERROR', 'unexpected /proc/<pid>/stat layout', {
      context: { text: text.slice(0, 200) },
    });
  }
  return { utime, stime };
}

/** Memory figures of `/proc/<pid>/status`, in KiB. */
export interface ProcMemory {
  /** Resident set size now. */
  readonly rssKb: number;
  /** Peak resident set size so far ("high water mark"). */
  readonly hwmKb: number;
}

/** Parses the `VmRSS:` and `VmHWM:` lines of `/proc/<pid>/status` (values in kB). */
export function parseProcStatus(text: string): ProcMemory {
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text);
    if (m?.[1] === undefined) {
      throw new Ups2MqttError('PROTOCOL_ERROR', `no ${key} line in /proc/<pid>/status`);
    }
    return Number(m[1]);
  };
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

export function readCpuTicks(pid: number): CpuTicks {
  return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

export function readMemory(pid: number): ProcMemory {
  return parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

/**
 * The `voluntary_ctxt_switches:` count of a `/proc/<pid>/task/<tid>/status`: how often the
 * thread gave up the CPU to wait (a sleep, a poll, a read), i.e. its wake-ups.
 */
export function parseVoluntarySwitches(text: string): number {
  const m = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(text);
  if (m?.[1] === undefined) {
    throw new Ups2MqttError('PROTOCOL_ERROR', 'no voluntary_ctxt_switches line in a status file');
  }
  return Number(m[1]);
}

/** Voluntary context switches of all live threads of `pid` (threads gone are not seen). */
export function readVoluntarySwitches(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += parseVoluntarySwitches(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return total;
}

/** Clock ticks per second (`getconf CLK_TCK`, 100 on every common Linux build). */
export function clockTicksPerSecond(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}

/** CPU seconds a process used between two readings. */
export function cpuSecondsBetween(
  before: CpuTicks,
  after: CpuTicks,
  ticksPerSecond: number,
): number {
  return (after.utime + after.stime - before.utime - before.stime) / ticksPerSecond;
}

/** Machine-wide CPU time from the first line of `/proc/stat`, in ticks. */
export interface MachineTicks {
  /** user + nice + system + irq + softirq. */
  readonly busy: number;
  /** idle + iowait. */
  readonly idle: number;
  /** Time the hypervisor gave this VM's CPUs to someone else. */
  readonly steal: number;
}

/** Parses the aggregate `cpu  user nice system idle iowait irq softirq steal …` line. */
export function parseMachineStat(text: string): MachineTicks {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  const f = (line ?? '').trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 8 || f.some((n) => !Number.isFinite(n))) {
    throw new Ups2MqttError('PROTOCOL_ERROR', 'unexpected /proc/stat layout');
  }
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
}

export function readMachineTicks(): MachineTicks {
  return parseMachineStat(readFileSync('/proc/stat', 'utf8'));
}

// One reader of /proc/<pid>/fd for the fault campaign and the benches.
export { countDescriptors } from '../../test/faults/harness.ts';
