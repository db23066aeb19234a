import mqtt, {
  type IClientOptions,
  type IClientSubscribeOptions,
  type ISubscriptionMap,
  type MqttClient,
} from 'mqtt';
import { type Clock, systemClock, type TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { PublishOptions } from '../core/ports.ts';
import { withDeadline } from '../util/deadline.ts';
import { Listeners } from '../util/listeners.ts';
import { isPublishableTopic, topicMatches } from './topics.ts';

/** Connection settings of the gateway (a slice of AppConfig.mqtt, files already read). */
export interface GatewayOptions {
  url: string;
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  clientId: string;
  protocolVersion: 4 | 5;
  keepaliveS: number;
  reconnectPeriodMs: number;
  /** Topic of the bridge's own availability: `online` on connect, `offline` as last will. */
  bridgeStateTopic: string;
  /**
   * mqtt.js's own trace (the `debug` package, `DEBUG=mqttjs*`). Off, its log calls go to a
   * function that does nothing: through `debug` each of the ~10 calls of a publish builds an
   * argument array even when nothing is printed.
   */
  libraryTrace?: boolean;
}

/** mqtt.js's log when its trace is off. */
function ignoreLog(): void {}

export interface IncomingMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

export type { PublishOptions };

/** How the wait for a publish's acknowledgement ended. */
type AckOutcome = 'acked' | 'closed' | 'timeout' | { error: unknown };

/** A publish waiting for its acknowledgement. */
interface Unacked {
  /** mqtt.js's message id, when it was filed at once. */
  readonly id: number | undefined;
  /** Re-derived on every connect (state, availability): never sent again by mqtt.js. */
  readonly replaceable: boolean;
  /** When it was handed to mqtt.js (the gateway's clock). */
  readonly since: number;
  /** Ends the wait (the first call counts). */
  settle: (outcome: AckOutcome) => void;
}

/** The part of a writable stream that corkForThisTurn uses. */
interface Corkable {
  cork(): void;
  uncork(): void;
}

/** How the gateway gets its client: `mqtt.connect`, or a fake in tests. */
export type ConnectFn = (url: string, opts: IClientOptions) => MqttClient;

/** What the gateway is given besides its options; both default to the real thing. */
export interface GatewayDeps {
  connect?: ConnectFn;
  /** Every deadline of the gateway runs on this clock. */
  clock?: Clock;
}

/** Most event messages kept while the broker is away; the oldest go first. */
export const OFFLINE_QUEUE_LIMIT = 1000;
/** Publishes held in one write at most (see corkForThisTurn). */
const CORK_MAX_PUBLISHES = 8;
/** Longest wait for a QoS 1 acknowledgement before a publish counts as failed. */
export const PUBLISH_ACK_TIMEOUT_MS = 10_000;
/** Longest wait for the retained scan's marker to come back. */
export const RETAINED_SCAN_TIMEOUT_MS = 3000;
/** Longest wait for a clean disconnect on stop(). */
export const STOP_TIMEOUT_MS = 3000;
/** While the same connection error repeats, it is logged as a warning this often, else at debug. */
export const ERROR_REPEAT_WARN_MS = 60_000;

/**
 * The one place that speaks MQTT (I/O stays at this edge): last will, bridge birth, the wildcard
 * guard, the retained registry and subscriptions. Nothing else imports `mqtt`.
 *
 * While the broker is unreachable, ordinary publishes are dropped: on every (re)connect the
 * bridge re-announces discovery, availability and the *current* state, so nothing stale is
 * replayed. Only messages that cannot be re-derived (events) ask to be queued.
 */
export class MqttGateway {
  private client: MqttClient | undefined;
  private readonly handlers: { filter: string; fn: (msg: IncomingMessage) => void }[] = [];
  private readonly retainedTopics = new Set<string>();
  private readonly offlineQueue: {
    topic: string;
    payload: string | Buffer;
    opts: PublishOptions;
  }[] = [];
  private readonly connectedListeners: Listeners<[]>;
  private readonly disconnectedListeners: Listeners<[]>;
  private isConnected = false;
  /** Counters for /metrics. */
  readonly stats = { publishes: 0, publishFailures: 0, dropped: 0, connects: 0 };
  private stopping = false;
  /** The error being repeated by every reconnect attempt, until the next connect. */
  private failing: { message: string; count: number; warnedAt: number } | undefined;
  private readonly connectFn: ConnectFn;
  private readonly clock: Clock;
  /** QoS 1 publishes waiting for their acknowledgement (see onClosed). */
  private readonly unacked = new Set<Unacked>();
  /** The deadline timer of the oldest unacknowledged publish (see armAckDeadline). */
  private ackTimer: TimerHandle | undefined;
  /** The socket corked until the end of this event-loop turn (see corkForThisTurn). */
  private held: { stream: Corkable; publishes: number } | undefined;

  constructor(
    private readonly opts: GatewayOptions,
    private readonly logger: Logger,
    deps: GatewayDeps = {},
  ) {
    this.connectFn = deps.connect ?? mqtt.connect;
    this.clock = deps.clock ?? systemClock;
    this.connectedListeners = new Listeners(logger, 'mqtt connected');
    this.disconnectedListeners = new Listeners(logger, 'mqtt disconnected');
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Called after every (re)connect, once the bridge state says `online`. */
  onConnected(fn: () => unknown): () => void {
    return this.connectedListeners.add(fn);
  }

  onDisconnected(fn: () => unknown): () => void {
    return this.disconnectedListeners.add(fn);
  }

  /** Starts connecting; returns at once. Reconnects forever until stop(). */
  start(): void {
    const o = this.opts;
    const options: IClientOptions = {
      clientId: o.clientId,
      protocolVersion: o.protocolVersion,
      keepalive: o.keepaliveS,
      reconnectPeriod: o.reconnectPeriodMs,
      // mqtt.js stops reconnecting after a refused CONNACK (bad user name or password, not
      // authorized) unless told otherwise; the client then holds no handle and the whole
      // process exited with code 0. Brokers refuse while their users are still being set up
      // (Home Assistant's Mosquitto add-on at boot): keep retrying, as after any other loss.
      reconnectOnConnackError: true,
      connectTimeout: 10_000,
      clean: true,
      resubscribe: true,
      queueQoSZero: false,
      // mqtt-packet's number cache is 65,536 two-byte Buffers made on the first packet:
      // 6 MiB of live heap, a tenth of a small bridge's memory, to save one 2-byte
      // allocation per packet id or length written. A bridge publishes a few packets a
      // second at most per UPS.
      writeCache: false,
      ...(o.libraryTrace === true ? {} : { log: ignoreLog }),
      rejectUnauthorized: o.rejectUnauthorized,
      will: { topic: o.bridgeStateTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    };
    if (o.username) options.username = o.username;
    if (o.password) options.password = o.password;
    if (o.ca) options.ca = o.ca;
    if (o.cert) options.cert = o.cert;
    if (o.key) options.key = o.key;
    const client = this.connectFn(o.url, options);
    this.client = client;
    client.on('connect', () => {
      this.isConnected = true;
      this.failing = undefined;
      this.stats.connects++;
      this.logger.info({ url: redactUrl(o.url) }, 'connected to MQTT broker');
      // Birth and will share topic, QoS and retain flag (docs/homeassistant.md#availability, #pitfalls).
      client.publish(o.bridgeStateTopic, 'online', { qos: 1, retain: true });
      this.retainedTopics.add(o.bridgeStateTopic);
      this.flushQueue();
      this.connectedListeners.emit();
    });
    client.on('close', () => {
      this.onClosed(client);
      if (this.isConnected) {
        this.isConnected = false;
        if (!this.stopping)
          this.logger.warn({ url: redactUrl(o.url) }, 'lost the MQTT broker; reconnecting');
        this.disconnectedListeners.emit();
      }
    });
    client.on('error', (err) => this.onError(err));
    client.on('message', (topic, payload, packet) => {
      const msg: IncomingMessage = { topic, payload, retain: packet.retain === true };
      for (const h of this.handlers) {
        if (!topicMatches(h.filter, topic)) continue;
        try {
          h.fn(msg);
        } catch (err) {
          this.logger.error({ err, topic }, 'message handler failed');
        }
      }
    });
  }

  /**
   * Publishes; resolves true when handed to the broker (QoS 1: acknowledged), false when
   * dropped because the broker is unreachable. Refuses wildcard topics.
   */
  async publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<boolean> {
    if (!isPublishableTopic(topic)) {
      this.logger.error({ topic }, 'refusing to publish to an invalid topic');
      return false;
    }
    if (opts.retain) {
      if (payload.length === 0) this.retainedTopics.delete(topic);
      else this.retainedTopics.add(topic);
    }
    const client = this.client;
    if (!client || !this.isConnected) {
      this.stats.dropped++;
      if (opts.queueWhileOffline) {
        if (this.offlineQueue.length >= OFFLINE_QUEUE_LIMIT) this.offlineQueue.shift();
        this.offlineQueue.push({ topic, payload, opts });
      }
      return false;
    }
    const lastId = client.getLastMessageId();
    this.corkForThisTurn(client);
    const sent = client.publishAsync(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain });
    // mqtt.js files a QoS 1 publish under a new message id at once (unless it is still
    // resending its store after a reconnect: then a close fails it by itself). Compared
    // with the id before, not looked up in mqtt.js's outgoing map: that is O(1) per publish
    // where a scan of the map costs as much as there are publishes in flight.
    const newId = client.getLastMessageId();
    const entry: Unacked = {
      id: newId === lastId ? undefined : newId,
      replaceable: opts.queueWhileOffline !== true,
      since: this.clock.now(),
      settle: () => {},
    };
    // A broker that drops our packets (an overflowing queue drops acknowledgements too,
    // mosquitto #3542) must not stall a poll forever: the wait ends after a bound
    // (expireAcks, one timer for all publishes), or as soon as the connection is gone (no
    // acknowledgement can come on it: onClosed).
    const outcome = await new Promise<AckOutcome>((resolve) => {
      entry.settle = resolve;
      this.unacked.add(entry);
      this.armAckDeadline();
      sent.then(
        () => resolve('acked'),
        (error: unknown) => resolve({ error }),
      );
    });
    this.unacked.delete(entry);
    if (this.unacked.size === 0) this.disarmAckDeadline();
    if (outcome === 'acked') {
      this.stats.publishes++;
      return true;
    }
    this.stats.publishFailures++;
    if (outcome === 'closed') {
      this.logger.debug({ topic }, 'the connection closed before the broker acknowledged');
    } else if (outcome === 'timeout') {
      this.logger.warn({ topic }, 'the broker did not acknowledge a publish in time');
    } else {
      this.logger.debug({ err: outcome.error, topic }, 'publish failed');
    }
    return false;
  }

  /**
   * One timer for the acknowledgement deadlines of all publishes, armed for the oldest
   * (the set keeps them in the order they were sent, all with the same bound).
   */
  private armAckDeadline(): void {
    if (this.ackTimer !== undefined) return;
    const oldest = this.unacked.values().next();
    if (oldest.done === true) return;
    const wait = oldest.value.since + PUBLISH_ACK_TIMEOUT_MS - this.clock.now();
    this.ackTimer = this.clock.setTimeout(
      () => {
        this.ackTimer = undefined;
        this.expireAcks();
      },
      Math.max(0, wait),
    );
  }

  private disarmAckDeadline(): void {
    if (this.ackTimer !== undefined) this.clock.clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
  }

  private expireAcks(): void {
    const now = this.clock.now();
    for (const u of this.unacked) {
      // A timer may fire a few ms early (Node's cached loop time): the rest waits again.
      if (now - u.since < PUBLISH_ACK_TIMEOUT_MS) break;
      this.unacked.delete(u);
      u.settle('timeout');
    }
    this.armAckDeadline();
  }

  /**
   * Holds the socket's writes until the event loop's check phase of this turn, so that the
   * publishes of every reading handled in one turn (many UPSes answer at once in a fleet)
   * leave in one write instead of one each. mqtt-packet corks around each packet already,
   * for one tick; this only widens that to the turn. It adds no wait beyond the turn.
   */
  private corkForThisTurn(client: MqttClient): void {
    const stream = (client as { stream?: unknown }).stream as Corkable | undefined;
    if (stream === undefined || typeof stream.cork !== 'function') return;
    const held = this.held;
    if (held !== undefined && held.stream === stream && held.publishes < CORK_MAX_PUBLISHES) {
      held.publishes++;
      return;
    }
    // Enough for one write (or a new connection): those go now, this one starts a new hold.
    if (held !== undefined) this.release(held);
    const hold = { stream, publishes: 1 };
    this.held = hold;
    stream.cork();
    setImmediate(() => this.release(hold));
  }

  private release(hold: { stream: Corkable }): void {
    if (this.held !== hold) return;
    this.held = undefined;
    hold.stream.uncork();
  }

  /**
   * The connection closed (a keepalive timeout on a silent broker, a reset): the publishes
   * still waiting for an acknowledgement stop waiting. mqtt.js keeps them to send again
   * after the reconnect, before its `connect`; state and availability must not be (they
   * would be retained, out of date, after the return, until the bridge's announce replaced
   * them), so they are withdrawn; events (`queueWhileOffline`) stay and arrive once.
   */
  private onClosed(client: MqttClient): void {
    for (const u of this.unacked) {
      if (u.replaceable && u.id !== undefined) client.removeOutgoingMessage(u.id);
      this.unacked.delete(u);
      u.settle('closed');
    }
  }

  /**
   * Subscribes (kept across reconnects). Handlers get every matching message. With MQTT 5
   * the subscription asks for Retain-As-Published, so a retained publish made while we are
   * subscribed still shows `retain` (MQTT 3.1.1 brokers clear the flag on live delivery:
   * there only messages replayed from the retained store carry it).
   */
  async subscribe(
    filter: string,
    fn: (msg: IncomingMessage) => void,
    { fresh = false }: { fresh?: boolean } = {},
  ): Promise<() => void> {
    const entry = { filter, fn };
    this.handlers.push(entry);
    const client = this.client;
    if (client) {
      const options: IClientSubscribeOptions =
        this.opts.protocolVersion === 5 ? { qos: 1, rap: true } : { qos: 1 };
      // mqtt.js sends no SUBSCRIBE for a filter it already holds at this QoS: it answers at
      // once, and the broker sends no retained messages. `fresh` makes it send one anyway
      // (the broker replaces the subscription and sends the retained messages again).
      await client.subscribeAsync(
        fresh ? ({ [filter]: options, resubscribe: true } as ISubscriptionMap) : filter,
        options,
      );
    }
    return () => {
      const i = this.handlers.indexOf(entry);
      if (i >= 0) this.handlers.splice(i, 1);
      if (!this.handlers.some((h) => h.filter === filter)) client?.unsubscribe(filter);
    };
  }

  /**
   * Returns the retained messages the broker holds under `filter`. A broker sends retained
   * messages right after the SUBACK and handles one client's packets in order, so once a
   * marker we publish to `syncTopic` comes back, every retained message has arrived. The
   * timeout only guards against a broker that drops the marker (an ACL, say).
   */
  async scanRetained(
    filter: string,
    syncTopic: string,
    timeoutMs = RETAINED_SCAN_TIMEOUT_MS,
  ): Promise<IncomingMessage[]> {
    const found: IncomingMessage[] = [];
    const token = `${this.opts.clientId}:${this.clock.now()}:${Math.random().toString(16).slice(2)}`;
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    // A fresh SUBSCRIBE even when the filter is held already (the live discovery watch):
    // else the retained messages came with that earlier subscription, before this handler.
    const stopScan = await this.subscribe(
      filter,
      (m) => {
        if (m.retain) found.push(m);
      },
      { fresh: true },
    );
    const stopSync = await this.subscribe(syncTopic, (m) => {
      if (m.payload.toString('utf8') === token) finish();
    });
    const timer = this.clock.setTimeout(() => {
      this.logger.debug({ filter }, 'retained scan timed out');
      finish();
    }, timeoutMs);
    await this.publish(syncTopic, token, { retain: false, qos: 1 });
    await finished;
    this.clock.clearTimeout(timer);
    stopScan();
    stopSync();
    return found;
  }

  /** Topics this process has published retained (non-empty) payloads to. */
  retained(): ReadonlySet<string> {
    return this.retainedTopics;
  }

  /** Publishes `offline` for the bridge and disconnects cleanly. */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    if (this.isConnected) {
      try {
        await client.publishAsync(this.opts.bridgeStateTopic, 'offline', { qos: 1, retain: true });
      } catch (err) {
        this.logger.debug({ err }, 'could not publish offline');
      }
    }
    // A clean end waits for in-flight QoS 1 acknowledgements; with no broker there is
    // nobody to acknowledge, so force the end then, and never wait more than 3 s.
    const ended = client.endAsync(!this.isConnected);
    if ((await withDeadline(ended, STOP_TIMEOUT_MS, this.clock)) === 'timeout') {
      this.logger.warn('the broker did not acknowledge in time; closing the connection');
      await client.endAsync(true);
    }
    this.isConnected = false;
    this.client = undefined;
    this.disarmAckDeadline();
  }

  /**
   * Every reconnect attempt against an absent broker fails with the same error: the first is
   * a warning, the repeats are debug lines with a warning (and their count) once a minute,
   * so an outage of hours does not write a warning per reconnect period.
   */
  private onError(err: Error): void {
    const now = this.clock.now();
    const fields = { err: { message: err.message, code: (err as { code?: unknown }).code } };
    const f = this.failing;
    if (f !== undefined && f.message === err.message) {
      f.count++;
      if (now - f.warnedAt < ERROR_REPEAT_WARN_MS) {
        this.logger.debug({ ...fields, repeated: f.count }, 'MQTT error (repeated)');
        return;
      }
      f.warnedAt = now;
      this.logger.warn({ ...fields, repeated: f.count }, 'MQTT error, still');
      return;
    }
    this.failing = { message: err.message, count: 1, warnedAt: now };
    this.logger.warn(fields, 'MQTT error');
  }

  private flushQueue(): void {
    const client = this.client;
    if (!client) return;
    for (const m of this.offlineQueue.splice(0)) {
      client.publish(m.topic, m.payload, { qos: m.opts.qos ?? 1, retain: m.opts.retain });
    }
  }
}

/** The URL without user info, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
