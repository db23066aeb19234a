import type { Logger } from '../core/log.ts';

/**
 * A typed listener list. A throwing (or rejecting) listener is logged and does not stop the
 * others or the emitter.
 */
export class Listeners<Args extends unknown[]> {
  private readonly fns = new Set<(...args: Args) => unknown>();

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  add(fn: (...args: Args) => unknown): () => void {
    this.fns.add(fn);
    return () => {
      this.fns.delete(fn);
    };
  }

  emit(...args: Args): void {
    for (const fn of [...this.fns]) {
      try {
        const result = fn(...args);
        if (result instanceof Promise) {
          result.catch((err: unknown) =>
            this.logger.error({ err, listener: this.what }, 'listener failed'),
          );
        }
      } catch (err) {
        this.logger.error({ err, listener: this.what }, 'listener failed');
      }
    }
  }

  get size(): number {
    return this.fns.size;
  }

  clear(): void {
    this.fns.clear();
  }
}
