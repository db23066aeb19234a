/**
 * A compiled copy of the bridge for start-up timing, the way the npm package runs it
 * (`dist/cli/main.js`, no TypeScript loader). Built with the project's own
 * tsconfig.build.json into a temporary folder, never into the repository; package.json and
 * node_modules are linked next to it so `../../package.json` and bare imports resolve.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Stoppable } from '../../test/helpers/process.ts';
import { REPO_ROOT } from './results.ts';

const run = promisify(execFile);

/** A built copy; `stop()` removes it. */
export interface DistBuild extends Stoppable {
  /** Absolute path of `dist/cli/main.js`. */
  readonly main: string;
}

/** Compiles src/ with `tsc -p tsconfig.build.json --outDir <tmp>/dist`. */
export async function buildDist(): Promise<DistBuild> {
  const root = await mkdtemp(join(tmpdir(), 'ups2mqtt-bench-dist-'));
  try {
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(
      process.execPath,
      [tsc, '-p', join(REPO_ROOT, 'tsconfig.build.json'), '--outDir', join(root, 'dist')],
      {
        cwd: REPO_ROOT,
      },
    );
    await symlink(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
    await symlink(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  return {
    main: join(root, 'dist', 'cli', 'main.js'),
    stop: () => rm(root, { recursive: true, force: true }),
  };
}
