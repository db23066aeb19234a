import type { UpsConfig } from '../config/load.ts';
import type { Clock } from '../core/clock.ts';
import { isUps2MqttError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { slugify } from '../core/state.ts';
import type { NutUpsEntry } from '../sources/nut/parse.ts';
import { describeNutSpec, NUT_ALL_UPSES, type SourceSpec } from '../sources/uri.ts';

type NutSpec = Extract<SourceSpec, { kind: 'nut' }>;

/** Options of {@link expandNutWildcards}. */
export interface ExpandOptions {
  /** upsd's `LIST UPS` for an endpoint. */
  list: (spec: NutSpec) => Promise<NutUpsEntry[]>;
  logger: Logger;
  clock: Clock;
  /** Keep asking an unreachable upsd (the bridge at start-up) or fail at once (`status`). */
  retry: boolean;
  retryBaseMs?: number;
  retryMaxMs?: number;
  signal?: AbortSignal;
  /**
   * Keeps the process alive while waiting between attempts (the clock's timers do not)
   * and returns the release function.
   */
  holdProcess?: () => () => void;
}

/**
 * Replaces each `nut://host` (`nut://host/*`) entry by one entry per UPS of upsd's
 * `LIST UPS`, asked once at start-up (docs/configuration.md, "Every UPS of a upsd"). The
 * UPSes then share that upsd's one connection. Each gets its upsd name, slugified, as id
 * (prefixed with the entry's own `id` and `_` when the entry has one) and as display name
 * (after the entry's `name` when it has one). A UPS that another entry names explicitly
 * (same host and port) is left to that entry. A UPS added to upsd later needs a restart.
 * With the NIS server on, the entry's NIS port serves its first UPS.
 */
export async function expandNutWildcards(
  upses: readonly UpsConfig[],
  opts: ExpandOptions,
): Promise<UpsConfig[]> {
  const explicit = new Set(
    upses.flatMap((u) =>
      u.spec.kind === 'nut' && u.spec.ups !== NUT_ALL_UPSES
        ? [`${u.spec.host}\u0000${u.spec.port}\u0000${u.spec.ups}`]
        : [],
    ),
  );
  const ids = new Set(upses.flatMap((u) => (u.id === undefined ? [] : [u.id])));
  const out: UpsConfig[] = [];
  for (const ups of upses) {
    const spec = ups.spec;
    if (spec.kind !== 'nut' || spec.ups !== NUT_ALL_UPSES) {
      out.push(ups);
      continue;
    }
    const entries = await listWithRetry(spec, opts);
    if (entries.length === 0) {
      opts.logger.warn({ source: describeNutSpec(spec) }, 'upsd lists no UPS: nothing to serve');
    }
    let first = true;
    for (const entry of entries) {
      if (explicit.has(`${spec.host}\u0000${spec.port}\u0000${entry.name}`)) continue;
      const slug = slugify(entry.name) || 'ups';
      const id = (ups.id === undefined ? slug : `${ups.id}_${slug}`).slice(0, 64);
      if (ids.has(id)) {
        opts.logger.error(
          { ups: entry.name, id, source: describeNutSpec(spec) },
          'a UPS of upsd would get an id already in use: not served; list it with its own id',
        );
        continue;
      }
      ids.add(id);
      const one: NutSpec = { ...spec, ups: entry.name };
      // Every other setting of the entry (poll interval, shutdown policy, nominal power…)
      // applies to each of its UPSes.
      const { nisPort, ...settings } = ups;
      out.push({
        ...settings,
        id,
        name: ups.name === undefined ? entry.name : `${ups.name} ${entry.name}`,
        source: describeNutSpec(one),
        spec: one,
        // NIS serves one UPS per port: the entry's port goes to its first UPS only.
        ...(first && nisPort !== undefined ? { nisPort } : {}),
      });
      first = false;
    }
  }
  return out;
}

async function listWithRetry(spec: NutSpec, opts: ExpandOptions): Promise<NutUpsEntry[]> {
  const base = opts.retryBaseMs ?? 1000;
  const max = opts.retryMaxMs ?? 30_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await opts.list(spec);
    } catch (err) {
      if (!opts.retry || opts.signal?.aborted) throw err;
      const waitMs = Math.min(max, base * 2 ** Math.min(attempt - 1, 16));
      opts.logger.warn(
        {
          source: describeNutSpec(spec),
          err: isUps2MqttError(err) ? { code: err.code, message: err.message } : String(err),
          retryInMs: waitMs,
        },
        'cannot ask upsd for its UPSes (LIST UPS); trying again',
      );
      const release = opts.holdProcess?.();
      await new Promise<void>((resolve) => {
        const t = opts.clock.setTimeout(resolve, waitMs);
        opts.signal?.addEventListener(
          'abort',
          () => {
            opts.clock.clearTimeout(t);
            resolve();
          },
          { once: true },
        );
      }).finally(() => release?.());
      if (opts.signal?.aborted) throw err;
    }
  }
}
