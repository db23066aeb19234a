/**
 * Messages between a benchmark driver and its fake-NIS fleet process (over the Node IPC
 * channel of `child_process.fork`). Plain JSON-serialisable data.
 */

/** Driver → fleet. */
export type FleetRequest =
  | {
      readonly id: number;
      readonly type: 'start';
      readonly count: number;
      readonly stampLineV: boolean;
      readonly liveTimestamps: boolean;
      /** Stamp LINEV on every Nth status reply only (default 1). */
      readonly stampEvery?: number;
    }
  | { readonly id: number; readonly type: 'counts' }
  | { readonly id: number; readonly type: 'stop' };

/** Requests served by all fake servers together, by command. */
export interface FleetCounts {
  readonly status: number;
  readonly events: number;
  readonly total: number;
  /** `status` requests per server, in port order (to spot endpoints the bridge stopped polling). */
  readonly statusPerServer: readonly number[];
}

/** Fleet → driver. */
export type FleetReply =
  | { readonly id: number; readonly type: 'started'; readonly ports: readonly number[] }
  | { readonly id: number; readonly type: 'counts'; readonly counts: FleetCounts }
  | { readonly id: number; readonly type: 'stopped' }
  | { readonly id: number; readonly type: 'error'; readonly message: string };

/** Narrows an IPC message to a {@link FleetRequest}. */
export function isFleetRequest(value: unknown): value is FleetRequest {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { id?: unknown; type?: unknown };
  return (
    typeof v.id === 'number' && (v.type === 'start' || v.type === 'counts' || v.type === 'stop')
  );
}

/** Narrows an IPC message to a {@link FleetReply}. */
export function isFleetReply(value: unknown): value is FleetReply {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { id?: unknown; type?: unknown };
  return (
    typeof v.id === 'number' &&
    (v.type === 'started' || v.type === 'counts' || v.type === 'stopped' || v.type === 'error')
  );
}
