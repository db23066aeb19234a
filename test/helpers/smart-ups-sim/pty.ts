/**
 * A linked pair of pseudo-terminals made by socat (the way apcupsd is tested without
 * hardware): whatever is written to one end comes out of the other, like a null-modem cable.
 * socat is spawned and stopped by its PID; killing it makes both ends vanish, as an unplugged
 * USB-serial adapter does.
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { pollUntil } from '../ports.ts';
import { type ManagedProcess, type ProcessRegistry, spawnManaged } from '../process.ts';

/** A running socat pair. */
export interface PtyPair {
  /** The simulator's end. */
  readonly a: string;
  /** The client's end (the "serial port" the source or apcupsd opens). */
  readonly b: string;
  readonly proc: ManagedProcess;
  /** Stops socat by its PID; both links disappear. */
  stop(): Promise<void>;
}

/** Starts `socat -d -d pty,raw,echo=0,link=DIR/A pty,raw,echo=0,link=DIR/B` and waits for both links. */
export async function startPtyPair(dir: string, registry?: ProcessRegistry): Promise<PtyPair> {
  const a = join(dir, 'A');
  const b = join(dir, 'B');
  const args = ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`];
  const proc =
    registry === undefined
      ? await spawnManaged('socat', 'socat', args)
      : await registry.spawn('socat', 'socat', args);
  const gone = new AbortController();
  void proc.exited.then(() => gone.abort());
  try {
    await pollUntil(async () => ((await exists(a)) && (await exists(b)) ? true : undefined), 5000, {
      intervalMs: 20,
      signal: gone.signal,
      what: 'socat pty links',
    });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return {
    a,
    b,
    proc,
    stop: async () => {
      await proc.stop();
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
