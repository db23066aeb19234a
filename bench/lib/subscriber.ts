/**
 * A lean MQTT subscriber for timing: it keeps no message history (a 1,000-UPS run receives
 * ~60,000 states a minute) and timestamps each message on the monotonic clock on arrival.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { Ups2MqttError } from '../../src/core/errors.ts';
import type { Stoppable } from '../../test/helpers/process.ts';
import { monoMs } from './clock.ts';

/** One received message. */
export interface TimedMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly retain: boolean;
  /** Monotonic ms when mqtt.js handed it over. */
  readonly receivedAt: number;
}

/** A connected subscriber; `onMessage` may be replaced at any time. */
export class TimedSubscriber implements Stoppable {
  onMessage: (message: TimedMessage) => void = () => {};
  private client: MqttClient | undefined;
  private readonly waiters = new Set<(message: TimedMessage) => void>();

  /**
   * Connects (clean session) and subscribes to `filters` with QoS 1. With
   * `retainAsPublished` it speaks MQTT 5 and asks for Retain-As-Published (MQTT 5.0
   * §3.8.3.1), so `retain` on live messages tells whether the publisher set it.
   */
  async start(
    url: string,
    filters: readonly string[],
    options: { retainAsPublished?: boolean } = {},
  ): Promise<void> {
    const v5 = options.retainAsPublished === true;
    const client = await connectAsync(
      url,
      {
        clientId: `ups2mqtt-bench-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        protocolVersion: v5 ? 5 : 4,
      },
      false,
    );
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      const message = { topic, payload, retain: packet.retain, receivedAt: monoMs() };
      this.onMessage(message);
      for (const waiter of [...this.waiters]) waiter(message);
    });
    await client.subscribeAsync([...filters], v5 ? { qos: 1, rap: true } : { qos: 1 });
  }

  /** The next message (from now on) matching `pred`; rejects with READ_TIMEOUT. */
  waitFor(pred: (message: TimedMessage) => boolean, timeoutMs: number): Promise<TimedMessage> {
    return new Promise((resolve, reject) => {
      const waiter = (message: TimedMessage): void => {
        if (!pred(message)) return;
        done();
        resolve(message);
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Ups2MqttError('READ_TIMEOUT', `no matching MQTT message within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
    });
  }

  /** Disconnects at once. Idempotent. */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.endAsync(true);
  }
}

/** The state JSON's numeric field, or undefined when absent or not JSON. */
export function numberField(payload: Buffer, field: string): number | undefined {
  try {
    const value = (JSON.parse(payload.toString('utf8')) as Record<string, unknown>)[field];
    return typeof value === 'number' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The state JSON's boolean field, or undefined. */
export function booleanField(payload: Buffer, field: string): boolean | undefined {
  try {
    const value = (JSON.parse(payload.toString('utf8')) as Record<string, unknown>)[field];
    return typeof value === 'boolean' ? value : undefined;
  } catch {
    return undefined;
  }
}
