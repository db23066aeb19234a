/**
 * Where benchmark results go and the machine facts recorded with them, so a figure in
 * docs/benchmarks.md can always be traced to the run and the box that produced it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/lib → ../..). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Facts about the machine and the run. */
export interface MachineFacts {
  readonly date: string;
  readonly nproc: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly kernel: string;
  readonly memTotalMb: number;
  /** 1-minute load average when the script started: how busy the shared box was. */
  readonly loadAvg1AtStart: number;
  readonly mosquitto: string;
  /** `git rev-parse HEAD` of the measured tree, plus whether src/ had local changes. */
  readonly commit: string;
  readonly srcDirty: boolean;
}

function run(command: string, args: readonly string[]): string {
  try {
    return execFileSync(command, [...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch {
    return 'unknown';
  }
}

/** Collects {@link MachineFacts} (nproc, node --version, uname -r, the mosquitto version). */
export function machineFacts(): MachineFacts {
  const mosquittoHelp = (() => {
    try {
      return execFileSync('mosquitto', ['-h'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      // mosquitto -h prints its version and exits with status 3.
      const out = (err as { stdout?: unknown }).stdout;
      return typeof out === 'string' ? out : '';
    }
  })();
  return {
    date: new Date().toISOString(),
    nproc: Number(run('nproc', [])),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    kernel: run('uname', ['-r']),
    memTotalMb: Math.round(totalmem() / 2 ** 20),
    loadAvg1AtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    mosquitto: /mosquitto version (\S+)/.exec(mosquittoHelp)?.[1] ?? 'unknown',
    commit: run('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD']),
    srcDirty: run('git', ['-C', REPO_ROOT, 'status', '--porcelain', '--', 'src']) !== '',
  };
}

/** Writes `bench/results/<name>.json` (pretty-printed) and returns its path. */
export function writeResults(name: string, data: unknown): string {
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}
