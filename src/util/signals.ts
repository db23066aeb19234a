/** What {@link linkSignals} returns. */
export interface LinkedSignal {
  signal: AbortSignal;
  dispose(): void;
}

/** One signal that aborts when any of the given ones does; dispose() drops the listeners. */
export function linkSignals(signals: readonly AbortSignal[]): LinkedSignal {
  const controller = new AbortController();
  const listeners: (() => void)[] = [];
  for (const s of signals) {
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    const onAbort = (): void => controller.abort(s.reason);
    s.addEventListener('abort', onAbort, { once: true });
    listeners.push(() => s.removeEventListener('abort', onAbort));
  }
  return {
    signal: controller.signal,
    dispose: () => {
      for (const remove of listeners) remove();
    },
  };
}

/**
 * A caller's signal linked with an owner's lifetime signal, kept for as long as the caller
 * passes the same signal (a bridge keeps one per run): building and dropping a link on every
 * request costs an AbortController and four listener changes. A different signal replaces
 * the kept link, except while a user of the kept one is still running: then it gets a link
 * of its own, which its `release` drops.
 */
export class KeptSignalLink {
  private kept: { from: AbortSignal; lifetime: AbortSignal; linked: LinkedSignal } | undefined;
  private users = 0;

  /** The linked signal for one use; call `release` when that use ends. */
  acquire(from: AbortSignal, lifetime: AbortSignal): { signal: AbortSignal; release(): void } {
    this.users++;
    const cur = this.kept;
    if (cur !== undefined && cur.from === from && cur.lifetime === lifetime) {
      return { signal: cur.linked.signal, release: () => this.users-- };
    }
    const linked = linkSignals([from, lifetime]);
    if (this.users > 1) {
      return {
        signal: linked.signal,
        release: () => {
          this.users--;
          linked.dispose();
        },
      };
    }
    cur?.linked.dispose();
    this.kept = { from, lifetime, linked };
    return { signal: linked.signal, release: () => this.users-- };
  }

  /** Drops the kept link's listeners. */
  drop(): void {
    this.kept?.linked.dispose();
    this.kept = undefined;
  }
}

/** Per signal: the callbacks waiting for its abort, behind one listener of the signal's own. */
const abortWatchers = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `fn` when `signal` aborts, until {@link unwatchAbort}. A signal kept across many
 * requests (see KeptSignalLink) gets a single `abort` listener for its whole life, and each
 * request only adds to and deletes from a set instead of an EventTarget `addEventListener`
 * and `removeEventListener` (a few percent of a one-UPS poll in a `perf` profile).
 * `fn` must not be given twice for one signal at a time.
 */
export function watchAbort(signal: AbortSignal, fn: () => void): void {
  let watchers = abortWatchers.get(signal);
  if (watchers === undefined) {
    const set = new Set<() => void>();
    watchers = set;
    abortWatchers.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        for (const f of [...set]) f();
        set.clear();
      },
      { once: true },
    );
  }
  watchers.add(fn);
}

/** Stops {@link watchAbort}'s call of `fn`. */
export function unwatchAbort(signal: AbortSignal, fn: () => void): void {
  abortWatchers.get(signal)?.delete(fn);
}

/** How many callbacks wait for `signal` through {@link watchAbort} (for tests). */
export function abortWatchCount(signal: AbortSignal): number {
  return abortWatchers.get(signal)?.size ?? 0;
}
