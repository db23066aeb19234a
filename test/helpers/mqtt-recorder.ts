/**
 * An MQTT subscriber that records everything it receives, for asserting what the bridge
 * published: topic, exact payload bytes, retain flag, QoS, receive time.
 */
import { connectAsync, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { Ups2MqttError } from '../../src/core/errors.ts';

/** One received PUBLISH. */
export interface RecordedMessage {
  readonly topic: string;
  /** Exact payload bytes. */
  readonly payload: Buffer;
  /** The payload decoded as UTF-8. */
  readonly text: string;
  readonly retain: boolean;
  readonly qos: 0 | 1 | 2;
  /** `Date.now()` when the message arrived. */
  readonly receivedAt: number;
}

/** Options of {@link recordMqtt}. */
export interface RecordMqttOptions {
  username?: string;
  password?: string;
  /** Subscription QoS; default 1 so nothing the broker has for us is dropped. */
  qos?: 0 | 1 | 2;
  /**
   * MQTT 5 "Retain As Published" (MQTT 5.0 §3.8.3.1); default true, so `retain` on live
   * messages shows whether the *publisher* set it. With false, a broker clears the flag on
   * messages forwarded to existing subscriptions (MQTT 3.1.1 §3.3.1.3) and only retained
   * messages sent on subscribe carry it.
   */
  retainAsPublished?: boolean;
  /** Bound on connect and SUBACK; default 5 s. */
  timeoutMs?: number;
  /** Quiet window used by `retained()`; default 250 ms (see there). */
  retainedWindowMs?: number;
  /**
   * A client id whose session the broker keeps while the recorder is disconnected (clean
   * start off, session expiry one hour): what is published meanwhile to its subscriptions is
   * queued and delivered on reconnect. With a persistent broker this survives a restart, so
   * a publisher that reconnects first loses nothing to the recording. Default: a fresh
   * clean session.
   */
  session?: string;
}

/** A live recording. */
export interface MqttRecording {
  /** Everything received so far, oldest first (append-only until `clear()`). */
  readonly messages: RecordedMessage[];
  /**
   * The first message matching `pred` — among those already recorded, else the next one to
   * arrive. Rejects with `READ_TIMEOUT` (context lists what was seen) after `timeoutMs`.
   */
  waitFor(pred: (m: RecordedMessage) => boolean, timeoutMs: number): Promise<RecordedMessage>;
  /** What the broker holds retained on `topic` right now, via a fresh subscription. */
  retained(topic: string): Promise<RecordedMessage | undefined>;
  /** Forgets the recorded messages (waiters keep waiting for new ones). */
  clear(): void;
  /** Disconnects. Idempotent. */
  close(): Promise<void>;
  /** Same as `close()`, so a ProcessRegistry can track the recording. */
  stop(): Promise<void>;
}

/** Connects to `url`, subscribes to `topics` and records every message. */
export async function recordMqtt(
  url: string,
  topics: readonly string[],
  options: RecordMqttOptions = {},
): Promise<MqttRecording> {
  const client = await connectClient(url, options);
  const recording = new Recording(client, url, options);
  try {
    await recording.subscribe(topics);
  } catch (err) {
    await recording.close();
    throw err;
  }
  return recording;
}

class Recording implements MqttRecording {
  readonly messages: RecordedMessage[] = [];
  private readonly waiters = new Set<(m: RecordedMessage) => void>();
  private closed = false;

  constructor(
    private readonly client: MqttClient,
    private readonly url: string,
    private readonly options: RecordMqttOptions,
  ) {
    client.on('message', (_topic, _payload, packet) => {
      const message = toRecorded(packet);
      this.messages.push(message);
      for (const waiter of [...this.waiters]) waiter(message);
    });
  }

  async subscribe(topics: readonly string[]): Promise<void> {
    if (topics.length === 0) return;
    await withTimeout(
      this.client.subscribeAsync([...topics], {
        qos: this.options.qos ?? 1,
        rap: this.options.retainAsPublished ?? true,
      }),
      this.options.timeoutMs ?? 5000,
      `SUBACK for ${topics.join(', ')}`,
    );
  }

  waitFor(pred: (m: RecordedMessage) => boolean, timeoutMs: number): Promise<RecordedMessage> {
    const seen = this.messages.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = (m: RecordedMessage): void => {
        if (!pred(m)) return;
        done();
        resolve(m);
      };
      const timer = setTimeout(() => {
        done();
        const summary = this.messages.map((m) => `${m.topic} retain=${m.retain} ${m.text}`);
        reject(
          new Ups2MqttError('READ_TIMEOUT', `no matching MQTT message within ${timeoutMs} ms`, {
            context: { received: summary.slice(-50) },
          }),
        );
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
    });
  }

  /**
   * MQTT has no "end of retained messages" marker: the broker sends a topic's retained
   * message after the SUBACK (MQTT 5.0 §3.3.1.3, §3.8.4), possibly in a later TCP segment,
   * and sends nothing at all when it holds none. So "nothing retained" can only be concluded
   * after a quiet period; the window is bounded (default 250 ms, loopback delivery takes
   * well under 10 ms) so a test asserting absence still finishes quickly.
   */
  async retained(topic: string): Promise<RecordedMessage | undefined> {
    // A clean session of its own: the recorder's persistent id would take its session over.
    const { session: _own, ...clean } = this.options;
    const probe = await connectClient(this.url, clean);
    try {
      let found: RecordedMessage | undefined;
      let wake: (() => void) | undefined;
      probe.on('message', (t, _p, packet) => {
        if (t !== topic || !packet.retain || found !== undefined) return;
        found = toRecorded(packet);
        wake?.();
      });
      // rap is irrelevant here: messages sent because of a new subscription always carry
      // retain=1 (MQTT 5.0 §3.3.1.3).
      await withTimeout(
        probe.subscribeAsync(topic, { qos: this.options.qos ?? 1 }),
        this.options.timeoutMs ?? 5000,
        `SUBACK for ${topic}`,
      );
      if (found === undefined) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.retainedWindowMs ?? 250);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      return found;
    } finally {
      await probe.endAsync(true);
    }
  }

  clear(): void {
    this.messages.length = 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // force: a recorder never has anything in flight worth waiting for.
    await this.client.endAsync(true);
  }

  stop(): Promise<void> {
    return this.close();
  }
}

function toRecorded(packet: IPublishPacket): RecordedMessage {
  const payload = Buffer.isBuffer(packet.payload)
    ? Buffer.from(packet.payload)
    : Buffer.from(packet.payload, 'utf8');
  return {
    topic: packet.topic,
    payload,
    text: payload.toString('utf8'),
    retain: packet.retain,
    qos: packet.qos,
    receivedAt: Date.now(),
  };
}

/**
 * MQTT 5 so that Retain-As-Published works; clean session; reconnects quickly after a broker
 * restart and resubscribes (mqtt.js `resubscribe` default), but the first connect fails fast.
 */
async function connectClient(url: string, options: RecordMqttOptions): Promise<MqttClient> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const clientOptions: IClientOptions = {
    protocolVersion: 5,
    clean: options.session === undefined,
    reconnectPeriod: 200,
    connectTimeout: timeoutMs,
    clientId:
      options.session ??
      `ups2mqtt-recorder-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
    ...(options.session === undefined ? {} : { properties: { sessionExpiryInterval: 3600 } }),
  };
  if (options.username !== undefined) clientOptions.username = options.username;
  if (options.password !== undefined) clientOptions.password = options.password;
  // allowRetries=false: a refused connection, an error CONNACK (bad credentials) or mqtt.js'
  // own connectTimeout rejects (and ends the client) instead of retrying forever.
  return connectAsync(url, clientOptions, false).catch((cause: unknown) => {
    throw new Ups2MqttError('CONNECT_FAILED', `cannot connect to ${url}`, { cause });
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Ups2MqttError('CONNECT_TIMEOUT', `${what}: no answer within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
