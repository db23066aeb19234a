/**
 * Outages of one UPS as the bridge sees them: a pure tracker over the published states, and
 * the StateExtension that persists it in `data_dir` and adds its keys to every state.
 *
 * The rules (docs/mqtt.md, "Outages and energy"):
 * - An outage starts with the first good reading that has `on_battery: true`, unless a
 *   battery self-test or a calibration is running then (those go on battery on purpose).
 *   Its start is that reading's time (`updated_at`), so it is exact to one poll interval.
 * - It ends with the first good reading whose `on_battery` is not true; its end is that
 *   reading's time and `duration_s` the difference in whole seconds (rounded).
 * - While the UPS cannot be read (the reduced state, `good` false) nothing changes: an
 *   outage stays open through a communication loss and through a restart of the bridge.
 *   The end is then the first reading after the gap, an upper bound of the true end.
 * - `min_charge_pct` is the lowest `battery_charge_pct` of the good readings from the one
 *   that started the outage to the one that ended it, both included.
 */
import type { UpsEvent } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type { ExtensionContext, StateExtension } from '../core/ports.ts';
import type { UpsState, UpsStateKey } from '../core/state.ts';
import { JsonStore } from '../util/json-store.ts';

/** The state keys this module owns. */
export const OUTAGE_KEYS = [
  'outages_total',
  'last_outage_started_at',
  'last_outage_ended_at',
  'last_outage_duration_s',
  'last_outage_min_charge_pct',
] as const satisfies readonly UpsStateKey[];

/** The last outage: ongoing while `ended_at` is absent. */
export interface OutageRecord {
  started_at: string;
  ended_at?: string;
  duration_s?: number;
  min_charge_pct?: number;
}

/** What is persisted (`<ups_id>.outages.json`) and what a tracker starts from. */
export interface OutageSnapshot {
  version: 1;
  outages_total: number;
  last?: OutageRecord;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const isTime = (v: unknown): v is string =>
  typeof v === 'string' && ISO.test(v) && Number.isFinite(Date.parse(v));
const isPct = (v: unknown): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 100;

/** Narrows a parsed file to a snapshot; undefined for anything else (the store sets it aside). */
export function parseOutageSnapshot(value: unknown): OutageSnapshot | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.version !== 1 || !isCount(v.outages_total)) return undefined;
  const out: OutageSnapshot = { version: 1, outages_total: v.outages_total };
  if (v.last === undefined) return out;
  if (typeof v.last !== 'object' || v.last === null) return undefined;
  const l = v.last as Record<string, unknown>;
  if (!isTime(l.started_at)) return undefined;
  const last: OutageRecord = { started_at: l.started_at };
  if (l.ended_at !== undefined) {
    if (!isTime(l.ended_at) || !isCount(l.duration_s)) return undefined;
    last.ended_at = l.ended_at;
    last.duration_s = l.duration_s;
  }
  if (l.min_charge_pct !== undefined) {
    if (!isPct(l.min_charge_pct)) return undefined;
    last.min_charge_pct = l.min_charge_pct;
  }
  out.last = last;
  return out;
}

/** What one reading changed. */
export interface OutageChange {
  /** The snapshot differs from before (worth persisting). */
  changed: boolean;
  events: UpsEvent[];
}

/** Pure outage bookkeeping over the published states of one UPS. */
export class OutageTracker {
  private data: OutageSnapshot;

  constructor(saved?: OutageSnapshot) {
    this.data = saved ? structuredClone(saved) : { version: 1, outages_total: 0 };
  }

  /** True between an outage's first reading on battery and its first reading off it. */
  get ongoing(): boolean {
    return this.data.last !== undefined && this.data.last.ended_at === undefined;
  }

  /** A copy of the current figures, for persisting. */
  snapshot(): OutageSnapshot {
    return structuredClone(this.data);
  }

  /** Feeds one state about to be published (`good` false: the reduced state, ignored). */
  observe(state: UpsState, good: boolean): OutageChange {
    const none: OutageChange = { changed: false, events: [] };
    if (!good) return none;
    const at = state.updated_at;
    const charge = isPct(state.battery_charge_pct) ? state.battery_charge_pct : undefined;
    const last = this.data.last;
    if (last === undefined || last.ended_at !== undefined) {
      const deliberate = state.test_in_progress === true || state.calibrating === true;
      if (state.on_battery !== true || deliberate) return none;
      const total = this.data.outages_total + 1;
      const started: OutageRecord = { started_at: at };
      if (charge !== undefined) started.min_charge_pct = charge;
      this.data = { version: 1, outages_total: total, last: started };
      const event: UpsEvent = {
        event_type: 'outage_started',
        at,
        origin: 'bridge',
        message: `Outage ${total} started: running on battery`,
        outages_total: total,
      };
      if (charge !== undefined) event.min_charge_pct = charge;
      return { changed: true, events: [event] };
    }
    let changed = false;
    if (
      charge !== undefined &&
      (last.min_charge_pct === undefined || charge < last.min_charge_pct)
    ) {
      last.min_charge_pct = charge;
      changed = true;
    }
    if (state.on_battery === true) return { changed, events: [] };
    const startMs = Date.parse(last.started_at);
    const duration = Math.max(0, Math.round((Date.parse(at) - startMs) / 1000));
    last.ended_at = at;
    last.duration_s = duration;
    const event: UpsEvent = {
      event_type: 'outage_ended',
      at,
      origin: 'bridge',
      message: `Outage ${this.data.outages_total} ended after ${duration} s: mains power back`,
      outages_total: this.data.outages_total,
      started_at: last.started_at,
      duration_s: duration,
    };
    if (last.min_charge_pct !== undefined) event.min_charge_pct = last.min_charge_pct;
    return { changed: true, events: [event] };
  }

  /** Adds the outage keys to `state` (good or reduced: they stay true while unread). */
  apply(state: UpsState): void {
    state.outages_total = this.data.outages_total;
    const last = this.data.last;
    if (!last) return;
    state.last_outage_started_at = last.started_at;
    if (last.ended_at !== undefined) state.last_outage_ended_at = last.ended_at;
    if (last.duration_s !== undefined) state.last_outage_duration_s = last.duration_s;
    if (last.min_charge_pct !== undefined) state.last_outage_min_charge_pct = last.min_charge_pct;
  }
}

export interface PersistedExtensionDeps {
  /** `data_dir` (absolute). */
  dataDir: string;
  logger: Logger;
}

/**
 * The outage tracker as a StateExtension: loads `<data_dir>/<ups_id>.outages.json` when the
 * UPS id is first known, writes it (atomically, before the state and events that show the
 * change are published) whenever the figures change, and raises `outage_started` /
 * `outage_ended`.
 */
export class OutageExtension implements StateExtension {
  readonly stickyKeys: readonly UpsStateKey[] = OUTAGE_KEYS;
  private tracker: OutageTracker | undefined;
  private store: JsonStore<OutageSnapshot> | undefined;
  private upsId: string | undefined;
  private pending: UpsEvent[] = [];
  private dirty = false;

  constructor(private readonly deps: PersistedExtensionDeps) {}

  extend(state: UpsState, good: boolean, ctx?: ExtensionContext): void {
    const tracker = this.load(ctx);
    const change = tracker.observe(state, good);
    if (change.changed) {
      this.dirty = true;
      this.save();
    }
    this.pending.push(...change.events);
    tracker.apply(state);
  }

  events(): UpsEvent[] {
    return this.pending.splice(0);
  }

  stop(): void {
    if (this.dirty) this.save();
  }

  private load(ctx: ExtensionContext | undefined): OutageTracker {
    if (this.tracker && ctx?.upsId === this.upsId) return this.tracker;
    this.upsId = ctx?.upsId;
    this.store = ctx
      ? new JsonStore(
          this.deps.dataDir,
          `${ctx.upsId}.outages.json`,
          parseOutageSnapshot,
          this.deps.logger,
        )
      : undefined;
    const saved = this.store?.read();
    if (saved?.last && saved.last.ended_at === undefined) {
      this.deps.logger.info(
        { ups: this.upsId, started_at: saved.last.started_at },
        'resuming an outage that was ongoing when the bridge stopped',
      );
    }
    this.tracker = new OutageTracker(saved);
    return this.tracker;
  }

  private save(): void {
    if (!this.store || !this.tracker) return;
    try {
      this.store.write(this.tracker.snapshot());
      this.dirty = false;
    } catch (err) {
      this.deps.logger.error(
        { err, file: this.store.file },
        'cannot persist the outage figures; they will not survive a restart',
      );
    }
  }
}
