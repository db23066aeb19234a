/**
 * Real power and energy of one UPS output: `load_w` where the UPS gives a load but not the
 * watts, and `energy_kwh` integrated from `load_w`, ready for Home Assistant's Energy
 * dashboard (a `total_increasing` sensor in kWh must never decrease: HA reads a drop as a
 * meter reset, https://developers.home-assistant.io/docs/core/entity/sensor/#state-class-total_increasing).
 *
 * The rules (docs/mqtt.md, "Outages and energy"):
 * - Between two consecutive good readings that both carry `load_w`, the energy is the
 *   trapezoid (w1 + w2) / 2 × (t2 − t1), times being the readings' `updated_at`.
 * - A gap is not integrated: when the readings are more than `maxGapMs` apart (the app uses
 *   three poll intervals), when a reduced state (UPS unavailable) came between them, when
 *   one lacks `load_w`, across a restart of the bridge, or when the clock went back.
 * - The precise sum stays in memory. What is published is the value last written to
 *   `<data_dir>/<ups_id>.energy.json`, rounded down to 1 Wh, and it is written at most every
 *   `persistIntervalMs` (and when the bridge stops). So a published value is never ahead of
 *   the file: after a crash the bridge resumes at or above anything it published, and the
 *   state is not re-published on every poll for a sub-Wh increment.
 */
import type { Logger } from '../core/log.ts';
import type { ExtensionContext, StateExtension } from '../core/ports.ts';
import type { UpsState, UpsStateKey } from '../core/state.ts';
import { JsonStore } from '../util/json-store.ts';
import type { PersistedExtensionDeps } from './outages.ts';

/** What is persisted (`<ups_id>.energy.json`). */
export interface EnergySnapshot {
  version: 1;
  /** The precise sum, kWh. */
  energy_kwh: number;
  /** Reading time of the last sample included, ISO 8601. */
  saved_at: string;
}

/** Narrows a parsed file to a snapshot; undefined for anything else (the store sets it aside). */
export function parseEnergySnapshot(value: unknown): EnergySnapshot | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.version !== 1) return undefined;
  const kwh = v.energy_kwh;
  if (typeof kwh !== 'number' || !Number.isFinite(kwh) || kwh < 0) return undefined;
  if (typeof v.saved_at !== 'string' || !Number.isFinite(Date.parse(v.saved_at))) return undefined;
  return { version: 1, energy_kwh: kwh, saved_at: v.saved_at };
}

/** `kwh` rounded down to whole Wh (3 decimals), as published. */
export function publishedKwh(kwh: number): number {
  // The epsilon keeps 0.003 kWh built from sums like 0.001 + 0.002 from flooring to 0.002.
  return Math.floor(kwh * 1000 + 1e-6) / 1000;
}

/** Pure integrator of `load_w` over reading time. */
export class EnergyTracker {
  private sum: number;
  private last: { at: number; w: number } | undefined;

  constructor(
    private readonly opts: { maxGapMs: number },
    startKwh = 0,
  ) {
    this.sum = startKwh;
  }

  /** The precise sum, kWh. */
  get kwh(): number {
    return this.sum;
  }

  /** Feeds one state about to be published; `now` is its reading time in epoch ms. */
  observe(state: UpsState, good: boolean, now: number): void {
    const w = state.load_w;
    if (!good || typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      this.last = undefined;
      return;
    }
    const prev = this.last;
    if (prev && now === prev.at) return; // the same reading again (a refresh)
    if (prev && now > prev.at && now - prev.at <= this.opts.maxGapMs) {
      this.sum += (((prev.w + w) / 2) * ((now - prev.at) / 3_600_000)) / 1000;
    }
    this.last = { at: now, w };
  }
}

export interface EnergyExtensionOptions {
  /** Readings further apart than this are not integrated (the app: three poll intervals). */
  maxGapMs: number;
  /** Least time between two writes of the file, by reading time; default 60 s. */
  persistIntervalMs?: number;
}

/**
 * The energy integrator as a StateExtension. `energy_kwh` appears in the state once the UPS
 * has given `load_w` or a persisted value exists, and stays in the reduced state published
 * while the UPS cannot be read (it is still true, and HA's statistics see no gap).
 */
export class EnergyExtension implements StateExtension {
  private tracker: EnergyTracker | undefined;
  private store: JsonStore<EnergySnapshot> | undefined;
  private upsId: string | undefined;
  /** What the file holds (or was last meant to hold), kWh; undefined: no file yet. */
  private savedKwh: number | undefined;
  /** Reading time of the last write, or of the first reading when nothing was written yet. */
  private savedAt: number | undefined;
  private lastAt: number | undefined;
  private readonly persistIntervalMs: number;

  constructor(
    private readonly opts: EnergyExtensionOptions,
    private readonly deps: PersistedExtensionDeps,
  ) {
    this.persistIntervalMs = opts.persistIntervalMs ?? 60_000;
  }

  extend(state: UpsState, good: boolean, ctx?: ExtensionContext): void {
    const tracker = this.load(ctx);
    const now = Date.parse(state.updated_at);
    tracker.observe(state, good, now);
    if (good && typeof state.load_w === 'number' && this.savedKwh === undefined) {
      // First sight of a load: the entity starts at 0 (nothing counted yet).
      this.savedKwh = 0;
    }
    this.savedAt ??= now;
    this.lastAt = now;
    const grown =
      this.savedKwh !== undefined && publishedKwh(tracker.kwh) > publishedKwh(this.savedKwh);
    if (grown && now - (this.savedAt ?? now) >= this.persistIntervalMs) this.save(now);
    if (this.savedKwh !== undefined) state.energy_kwh = publishedKwh(this.savedKwh);
  }

  stop(): void {
    const at = this.lastAt;
    if (this.tracker && at !== undefined && this.savedKwh !== undefined) {
      if (this.tracker.kwh > this.savedKwh) this.save(at);
    }
  }

  private load(ctx: ExtensionContext | undefined): EnergyTracker {
    if (this.tracker && ctx?.upsId === this.upsId) return this.tracker;
    this.upsId = ctx?.upsId;
    this.store = ctx
      ? new JsonStore(
          this.deps.dataDir,
          `${ctx.upsId}.energy.json`,
          parseEnergySnapshot,
          this.deps.logger,
        )
      : undefined;
    const saved = this.store?.read();
    this.savedKwh = saved?.energy_kwh;
    this.savedAt = undefined;
    this.tracker = new EnergyTracker({ maxGapMs: this.opts.maxGapMs }, saved?.energy_kwh ?? 0);
    return this.tracker;
  }

  private save(at: number): void {
    const kwh = this.tracker?.kwh ?? 0;
    // Advance even when the write fails: the next restart resets the sum either way, and
    // freezing the entity would hide that the UPS still draws power.
    this.savedKwh = kwh;
    this.savedAt = at;
    if (!this.store) return;
    try {
      this.store.write({ version: 1, energy_kwh: kwh, saved_at: new Date(at).toISOString() });
    } catch (err) {
      this.deps.logger.error(
        { err, file: this.store.file },
        'cannot persist the energy counter; it will restart from the last saved value',
      );
    }
  }
}

/** Keys the load extension may fill in. */
const LOAD_KEYS = ['load_w', 'nominal_power_w'] as const satisfies readonly UpsStateKey[];

/**
 * Fills in `load_w = load_pct × nominal_power_w / 100` on good readings that lack it: from
 * the UPS's own `nominal_power_w`, else from `nominal_power_w` in the UPS's configuration
 * (which then also appears in the state). The UPS's own watts always win.
 */
export class LoadPowerExtension implements StateExtension {
  readonly stickyKeys: readonly UpsStateKey[];
  private warned = false;

  constructor(
    private readonly opts: { nominalPowerW?: number },
    private readonly logger?: Logger,
  ) {
    this.stickyKeys = opts.nominalPowerW !== undefined ? LOAD_KEYS : [];
  }

  extend(state: UpsState, good: boolean): void {
    if (!good || state.load_w !== undefined) return;
    const configured = this.opts.nominalPowerW;
    const nominal = state.nominal_power_w ?? configured;
    if (state.nominal_power_w === undefined && configured !== undefined) {
      state.nominal_power_w = configured;
    }
    if (typeof state.load_pct !== 'number' || nominal === undefined) {
      if (configured !== undefined && !this.warned) {
        this.warned = true;
        this.logger?.warn(
          { nominal_power_w: configured },
          'nominal_power_w is set but the UPS reports no load_pct: load_w cannot be derived',
        );
      }
      return;
    }
    state.load_w = Math.round(state.load_pct * nominal * 10) / 1000;
  }
}
