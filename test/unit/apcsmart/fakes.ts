import type { ManualClock } from '../../../src/core/clock.ts';
import { Ups2MqttError } from '../../../src/core/errors.ts';
import type { ModemSignals, SmartTransport } from '../../../src/sources/apcsmart/transport.ts';

/** One write as the fake saw it: the clock time and the bytes (latin1). */
export interface Written {
  at: number;
  bytes: string;
}

/**
 * An honest fake of the serial port: records every byte written with the ManualClock time,
 * feeds exact byte streams back, and can vanish like an unplugged adapter. `peer` answers
 * writes synchronously (inside write(), before it resolves: the harshest timing).
 */
export class FakeTransport implements SmartTransport {
  readonly written: Written[] = [];
  readonly signals: ModemSignals[] = [];
  closed = false;
  flushes = 0;
  peer: ((bytes: string) => string | undefined) | undefined;
  private readonly dataListeners = new Set<(chunk: Buffer) => void>();
  private readonly closeListeners = new Set<(err?: Ups2MqttError) => void>();

  constructor(private readonly clock: ManualClock) {}

  async write(bytes: Uint8Array): Promise<void> {
    if (this.closed) throw new Ups2MqttError('PEER_CLOSED', 'fake port closed');
    const text = Buffer.from(bytes).toString('latin1');
    this.written.push({ at: this.clock.now(), bytes: text });
    const answer = this.peer?.(text);
    if (answer !== undefined) this.feed(answer);
  }

  onData(listener: (chunk: Buffer) => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }

  onClose(listener: (err?: Ups2MqttError) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  async flushInput(): Promise<void> {
    this.flushes++;
  }

  async setSignals(signals: ModemSignals): Promise<void> {
    this.signals.push(signals);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const l of [...this.closeListeners]) l();
  }

  /** Bytes from the "UPS". */
  feed(text: string): void {
    const chunk = Buffer.from(text, 'latin1');
    for (const l of [...this.dataListeners]) l(chunk);
  }

  /** The port disappears (USB adapter unplugged). */
  vanish(): void {
    if (this.closed) return;
    this.closed = true;
    const err = new Ups2MqttError('PEER_CLOSED', 'fake port vanished');
    for (const l of [...this.closeListeners]) l(err);
  }

  /** All bytes written so far, concatenated. */
  text(): string {
    return this.written.map((w) => w.bytes).join('');
  }
}

import { settle } from '../../helpers/settle.ts';

export { captureLogger } from '../../helpers/log-capture.ts';
export { settle };

/**
 * Moves the ManualClock in `stepMs` steps until `promise` settles (or `maxMs` passed), so
 * code that waits on the clock runs without real waiting. Resolves/rejects like `promise`.
 */
export async function drive<T>(
  clock: ManualClock,
  promise: Promise<T>,
  stepMs = 10,
  maxMs = 120_000,
): Promise<T> {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  for (let t = 0; t <= maxMs && !done; t += stepMs) {
    await settle();
    if (!done) clock.advance(stepMs);
  }
  await settle();
  return promise;
}

/** Moves the ManualClock forward by `ms` in `stepMs` steps, letting callbacks run between. */
export async function advance(clock: ManualClock, ms: number, stepMs = 100): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    await settle();
    clock.advance(Math.min(stepMs, ms - t));
  }
  await settle();
}
