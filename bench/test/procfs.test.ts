import { deepEqual, equal, throws } from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import {
  countDescriptors,
  cpuSecondsBetween,
  parseMachineStat,
  parseProcStat,
  parseProcStatus,
  parseVoluntarySwitches,
  readCpuTicks,
  readMemory,
  readVoluntarySwitches,
} from '../lib/procfs.ts';

/** A real /proc/<pid>/stat line layout; utime = 1234 and stime = 567 (fields 14 and 15). */
function statLine(comm: string): string {
  return `4242 (${comm}) S 1 4242 4242 0 -1 4194560 5000 0 0 0 1234 567 0 0 20 0 11 0 100 1000000 20000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0`;
}

describe('parseProcStat', () => {
  const cases: [name: string, comm: string][] = [
    ['plain command name', 'node'],
    ['name with a space', 'MainThread x'],
    ['name with a closing parenthesis', 'a) S 9 9'],
  ];
  for (const [name, comm] of cases) {
    it(name, () => deepEqual(parseProcStat(statLine(comm)), { utime: 1234, stime: 567 }));
  }
  it('rejects text that is not a stat line', () => {
    throws(() => parseProcStat('garbage'), { code: 'PROTOCOL_ERROR' });
  });
});

describe('parseProcStatus', () => {
  it('reads VmRSS and VmHWM in kB', () => {
    const text =
      'Name:\tnode\nVmPeak:\t  900 kB\nVmHWM:\t  123456 kB\nVmRSS:\t  98765 kB\nThreads:\t11\n';
    deepEqual(parseProcStatus(text), { rssKb: 98765, hwmKb: 123456 });
  });
  it('rejects a status without VmRSS (a kernel thread or a zombie)', () => {
    throws(() => parseProcStatus('Name:\tkthreadd\n'), { code: 'PROTOCOL_ERROR' });
  });
});

describe('parseVoluntarySwitches', () => {
  it('reads the voluntary count, not the involuntary one', () => {
    const text =
      'Name:\tnode\nThreads:\t7\nvoluntary_ctxt_switches:\t4211\nnonvoluntary_ctxt_switches:\t93\n';
    equal(parseVoluntarySwitches(text), 4211);
  });
  it('rejects a status without the line', () => {
    throws(() => parseVoluntarySwitches('Name:\tx\nnonvoluntary_ctxt_switches:\t3\n'), {
      code: 'PROTOCOL_ERROR',
    });
  });
});

describe('readers on this very process', () => {
  it('CPU ticks and RSS are positive', () => {
    const ticks = readCpuTicks(process.pid);
    equal(ticks.utime + ticks.stime >= 0, true);
    equal(readMemory(process.pid).rssKb > 1000, true);
  });
  it('counts a wake-up of this process', async () => {
    const before = readVoluntarySwitches(process.pid);
    await new Promise((resolve) => setTimeout(resolve, 20));
    equal(readVoluntarySwitches(process.pid) > before, true);
  });
});

describe('cpuSecondsBetween', () => {
  it('sums user and system ticks and divides by the tick rate', () => {
    equal(cpuSecondsBetween({ utime: 100, stime: 50 }, { utime: 160, stime: 90 }, 100), 1);
  });
});

describe('parseMachineStat', () => {
  it('sums busy, idle and steal ticks from the aggregate cpu line', () => {
    const text = 'cpu  100 5 50 1000 20 3 7 11 0 0\ncpu0 50 2 25 500 10 1 3 5 0 0\nintr 1\n';
    deepEqual(parseMachineStat(text), { busy: 165, idle: 1020, steal: 11 });
  });
  it('rejects a file without the aggregate line', () => {
    throws(() => parseMachineStat('cpu0 1 2 3\n'), { code: 'PROTOCOL_ERROR' });
  });
});

describe('countDescriptors', () => {
  it('counts this process: a socket it opens shows up as one more socket', async () => {
    const before = countDescriptors(process.pid);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const during = countDescriptors(process.pid);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    equal(during.sockets, before.sockets + 1);
    equal(during.fds, before.fds + 1);
  });
});
