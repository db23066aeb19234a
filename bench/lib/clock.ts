/**
 * One time base for every process of a benchmark. `process.hrtime` reads CLOCK_MONOTONIC
 * (libuv `uv_hrtime`), which is system-wide on Linux, so a time taken in the fake-server
 * process can be subtracted from one taken in the driver. `Date.now()` would do too but has
 * only millisecond resolution and jumps with NTP.
 */
import { Ups2MqttError } from '../../src/core/errors.ts';

/** Milliseconds on the system-wide monotonic clock, sub-millisecond resolution. */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Benchmark LINEV values carry the time the fake server built the reply: monotonic ms
 * modulo this period, printed with three decimals. 100 s is far longer than any latency
 * measured, so the difference to the receive time is unambiguous.
 */
export const STAMP_PERIOD_MS = 100_000;

/** The NIS value text for a reply built at `atMs` (e.g. `"12345.678 Volts"`). */
export function stampValue(atMs: number): string {
  return `${(atMs % STAMP_PERIOD_MS).toFixed(3)} Volts`;
}

/**
 * Milliseconds from the stamp carried in `input_voltage_v` to `receivedMs`, both on the
 * monotonic clock; the modulo undoes the wrap of {@link stampValue}.
 */
export function sinceStamp(stamp: number, receivedMs: number): number {
  const diff = (receivedMs % STAMP_PERIOD_MS) - stamp;
  return diff < 0 ? diff + STAMP_PERIOD_MS : diff;
}

/** Resolves after `ms` (benchmark pacing only; never used by tests). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resolves like `promise`, or rejects with READ_TIMEOUT after `ms`; the timer is cleared
 * either way so it never keeps the process alive.
 */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Ups2MqttError('READ_TIMEOUT', `${what}: not within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
