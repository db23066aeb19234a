import { equal, ok } from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { processTree, treeCpuTicks } from '../lib/proctree.ts';

describe('processTree / treeCpuTicks', () => {
  it('finds a child process below this one and sums CPU over the tree', async () => {
    // A child that burns some CPU, then waits to be killed.
    const child = spawn(
      process.execPath,
      [
        '-e',
        'const end = Date.now() + 300; while (Date.now() < end); setInterval(() => {}, 1000);',
      ],
      { stdio: 'ignore' },
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 600));
      const tree = processTree(process.pid);
      equal(tree[0], process.pid);
      ok(tree.includes(child.pid ?? -1), `child ${child.pid} in ${tree.join(',')}`);
      ok(treeCpuTicks(process.pid) > treeCpuTicks(child.pid ?? -1));
      ok(treeCpuTicks(child.pid ?? -1) > 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('gives 0 for a process that does not exist', () => {
    equal(treeCpuTicks(2 ** 22 + 12345), 0);
  });
});
