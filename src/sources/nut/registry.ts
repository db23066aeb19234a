import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import type { SourceSpec } from '../uri.ts';
import { DEFAULT_NUT_RETRY_GAP_MS, NutClient, type NutClientOptions } from './client.ts';
import { type NutUpsEntry, parseUpsList } from './parse.ts';

/** Settings {@link NutClientRegistry} gives every connection. */
export interface NutClientSettings {
  timeoutMs: number;
  /** PEM CA certificate(s) for STARTTLS. */
  ca?: Buffer | undefined;
}

/**
 * One {@link NutClient} per upsd (host, port, TLS mode), shared by all the UPSes read from
 * it and closed when the last of them closes. Created once by the composition root. The
 * client's gap between connect attempts is ¾ of the shortest poll interval of the UPSes
 * holding it: with the shared poll ticker a UPS's polls can come up to a slot (at most a
 * quarter interval) closer than the interval, and each of them must still get to try, so
 * upsd is read again within one interval of answering; more UPSes add no attempts.
 */
export class NutClientRegistry {
  private readonly clients = new Map<
    string,
    { client: NutClient; refs: number; intervals: number[] }
  >();

  constructor(
    private readonly settings: NutClientSettings,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  /** Connection options for an endpoint (also used for the per-command connections). */
  connectionOptions(spec: Extract<SourceSpec, { kind: 'nut' }>): Omit<NutClientOptions, 'logger'> {
    const { timeoutMs, ca } = this.settings;
    return {
      host: spec.host,
      port: spec.port,
      tls: spec.tls,
      ...(ca ? { ca } : {}),
      connectTimeoutMs: timeoutMs,
      readTimeoutMs: timeoutMs,
      clock: this.clock,
    };
  }

  /**
   * The shared client of the spec's upsd and its release function; `pollIntervalMs` is how
   * often the caller reads through it (none for a one-off request).
   */
  acquire(
    spec: Extract<SourceSpec, { kind: 'nut' }>,
    pollIntervalMs?: number,
  ): { client: NutClient; release: () => void } {
    const key = `${spec.host}\u0000${spec.port}\u0000${spec.tls}`;
    let entry = this.clients.get(key);
    if (entry === undefined) {
      entry = {
        client: new NutClient({ ...this.connectionOptions(spec), logger: this.logger }),
        refs: 0,
        intervals: [],
      };
      this.clients.set(key, entry);
    }
    entry.refs++;
    entry.client.reopen();
    const held = entry;
    if (pollIntervalMs !== undefined) {
      held.intervals.push(pollIntervalMs);
      held.client.retryGapMs = retryGapFor(held.intervals);
    }
    let released = false;
    return {
      client: held.client,
      release: () => {
        if (released) return;
        released = true;
        held.refs--;
        if (pollIntervalMs !== undefined) {
          held.intervals.splice(held.intervals.indexOf(pollIntervalMs), 1);
          held.client.retryGapMs = retryGapFor(held.intervals);
        }
        if (held.refs === 0) {
          held.client.close();
          this.clients.delete(key);
        }
      },
    };
  }

  /** `LIST UPS` of the spec's upsd (used to expand `nut://host` into its UPSes). */
  async listUpses(
    spec: Extract<SourceSpec, { kind: 'nut' }>,
    signal?: AbortSignal,
  ): Promise<NutUpsEntry[]> {
    const { client, release } = this.acquire(spec);
    try {
      return parseUpsList(await client.list('UPS', signal));
    } finally {
      release();
    }
  }
}

/** ¾ of the shortest of `intervals` (see {@link NutClientRegistry}); the default without any. */
export function retryGapFor(intervals: readonly number[]): number {
  if (intervals.length === 0) return DEFAULT_NUT_RETRY_GAP_MS;
  return Math.floor(Math.min(...intervals) * 0.75);
}
