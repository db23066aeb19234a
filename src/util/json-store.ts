/**
 * A small JSON document on disk that survives crashes: written atomically (a temporary file
 * beside it, fsync, rename over the old one, fsync of the folder), read back tolerantly (a
 * file that does not parse or fails validation is logged, moved aside as
 * `<name>.corrupt-<epoch ms>` for inspection, and treated as absent — never fatal).
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../core/log.ts';

export class JsonStore<T> {
  private readonly path: string;

  /**
   * @param dir the data folder (`data_dir`); created on the first write.
   * @param name the file name inside it, e.g. `rack.policy.json`.
   * @param validate narrows the parsed JSON; returns undefined for a document it rejects.
   */
  constructor(
    dir: string,
    name: string,
    private readonly validate: (value: unknown) => T | undefined,
    private readonly logger: Logger,
  ) {
    this.path = join(dir, name);
  }

  /** The file's path (for logs and tests). */
  get file(): string {
    return this.path;
  }

  /** The stored document, or undefined when there is none or it was unreadable. */
  read(): T | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      this.logger.error({ err, file: this.path }, 'cannot read the stored state; starting afresh');
      return undefined;
    }
    let value: T | undefined;
    try {
      value = this.validate(JSON.parse(text));
    } catch {
      value = undefined;
    }
    if (value === undefined) this.setAside('does not parse or has unexpected content');
    return value;
  }

  /** Replaces the document atomically. Throws on I/O failure (the caller logs it). */
  write(value: T): void {
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true });
    const tmp = `${this.path}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(value)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    try {
      const dfd = openSync(dir, 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    } catch {
      // Some filesystems refuse fsync on a folder; the rename is still atomic.
    }
  }

  private setAside(reason: string): void {
    const aside = `${this.path}.corrupt-${Date.now()}`;
    try {
      renameSync(this.path, aside);
      this.logger.error(
        { file: this.path, moved_to: aside, reason },
        'stored state set aside; starting afresh',
      );
    } catch (err) {
      this.logger.error({ err, file: this.path, reason }, 'stored state unusable; starting afresh');
    }
  }
}
