import type { Clock, TimerHandle } from '../../core/clock.ts';
import { isUps2MqttError, Ups2MqttError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { CTRL_Z, describeCmd, ESC } from './codes.ts';
import { type AlertChar, SmartLineDecoder } from './framing.ts';
import type { SmartTransport } from './transport.ts';

/** Reply and handshake timing; defaults follow NUT and apcupsd (docs/protocols/apcsmart.md#timing). */
export interface SmartTimeouts {
  /** Ordinary query reply (apcupsd 1 s, NUT 3 s). */
  replyMs: number;
  /** `a` and `^Z`, whose replies are long (NUT: 6 s). */
  slowReplyMs: number;
  /** One `Y` → `SM` attempt (NUT: 1.5 s). */
  handshakeMs: number;
  /** `Y` attempts before the link counts as dead (NUT tries 5, apcupsd 5 at start). */
  handshakeAttempts: number;
  /** Pause after the ESC sent between handshake attempts (aborts a half-entered command). */
  escapePauseMs: number;
}

export const DEFAULT_TIMEOUTS: Readonly<SmartTimeouts> = {
  replyMs: 2000,
  slowReplyMs: 6000,
  handshakeMs: 1500,
  handshakeAttempts: 3,
  escapePauseMs: 300,
};

/** What the UPS sent while a session waited: a reply line, a wanted alert, or nothing. */
export type SmartEvent =
  | { kind: 'reply'; text: string }
  | { kind: 'alert'; alert: AlertChar }
  | { kind: 'timeout' };

/** The primitives a session has while it owns the line (one outstanding request). */
export interface SmartIo {
  /**
   * Sends bytes (latin1). Replies and alerts received before this call are dropped as stale.
   * `raw` keeps alert characters inside the next reply (`a`, `^Z`; see framing.ts).
   */
  write(bytes: string, opts?: { raw?: boolean }): Promise<void>;
  /** The next reply, or one of `alerts`, or `timeout` after `timeoutMs`. */
  next(timeoutMs: number, opts?: { alerts?: readonly AlertChar[] }): Promise<SmartEvent>;
  /** Waits on the injected clock. */
  pause(ms: number): Promise<void>;
  /** Sends one request byte and returns its reply; `undefined` for `NA` (not available). */
  query(cmd: string, opts?: { timeoutMs?: number; raw?: boolean }): Promise<string | undefined>;
  /** Runs the `Y` → `SM` handshake now, inside this session (after a timeout). */
  resync(): Promise<void>;
}

/** Options of {@link SmartProtocol}. */
export interface SmartProtocolOptions {
  transport: SmartTransport;
  clock: Clock;
  logger: Logger;
  timeouts?: Partial<SmartTimeouts>;
  /** Every alert character, as soon as it arrives (also during a session). */
  onAlert?: (alert: AlertChar) => void;
}

type Waiter = {
  resolve: (e: SmartEvent) => void;
  reject: (e: Error) => void;
  alerts: readonly AlertChar[];
};

/**
 * A Smart-protocol client over one transport (docs/protocols/apcsmart.md#conversation-rules): one
 * outstanding request at a time, every exchange queued as a session, per-request timeouts,
 * `NA` as "not available", and the `Y` → `SM` handshake before the first session and again
 * after any timeout (a late reply must not be taken for the answer to the next request).
 */
export class SmartProtocol {
  readonly timeouts: SmartTimeouts;
  private readonly decoder = new SmartLineDecoder();
  private readonly inbox: SmartEvent[] = [];
  private waiter: Waiter | undefined;
  private pausing: ((err: Error) => void) | undefined;
  private inSession = false;
  private tail: Promise<unknown> = Promise.resolve();
  private needsHandshake = true;
  private closedError: Ups2MqttError | undefined;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly opts: SmartProtocolOptions) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.unsubscribe.push(opts.transport.onData((chunk) => this.onData(chunk)));
    this.unsubscribe.push(opts.transport.onClose((err) => this.onClose(err)));
  }

  /** False once the transport closed; every later session rejects. */
  get open(): boolean {
    return this.closedError === undefined;
  }

  /**
   * Runs `fn` with exclusive use of the line, after the handshake when one is due. A
   * READ_TIMEOUT inside marks the link for a new handshake before the next session.
   */
  session<T>(fn: (io: SmartIo) => Promise<T>, options: { handshake?: boolean } = {}): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.closedError) throw this.closedError;
      this.inSession = true;
      this.inbox.length = 0;
      try {
        if (options.handshake !== false && this.needsHandshake) await this.handshakeNow();
        return await fn(this.io);
      } catch (err) {
        if (isUps2MqttError(err, 'READ_TIMEOUT') || isUps2MqttError(err, 'FRAME_TOO_LARGE'))
          this.needsHandshake = true;
        throw err;
      } finally {
        this.inSession = false;
        this.inbox.length = 0;
      }
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** One query in its own session. */
  query(
    cmd: string,
    opts: { timeoutMs?: number; raw?: boolean } = {},
  ): Promise<string | undefined> {
    return this.session((io) => io.query(cmd, opts));
  }

  /** Forces the `Y` → `SM` handshake now (queued like any session). */
  handshake(): Promise<void> {
    this.needsHandshake = true;
    return this.session(async () => {});
  }

  /** Detaches from the transport and fails what is pending. Does not close the transport. */
  dispose(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.onClose(new Ups2MqttError('ABORTED', 'Smart protocol client disposed'));
  }

  private readonly io: SmartIo = {
    write: async (bytes, opts = {}) => {
      if (this.closedError) throw this.closedError;
      this.inbox.length = 0;
      this.decoder.setMode(opts.raw === true ? 'raw' : 'alerts');
      await this.opts.transport.write(Buffer.from(bytes, 'latin1'));
    },
    next: (timeoutMs, opts = {}) => this.next(timeoutMs, opts.alerts ?? []),
    pause: (ms) => this.pause(ms),
    query: async (cmd, opts = {}) => {
      const slow = cmd === 'a' || cmd === CTRL_Z;
      const timeoutMs =
        opts.timeoutMs ?? (slow ? this.timeouts.slowReplyMs : this.timeouts.replyMs);
      await this.io.write(cmd, { raw: opts.raw ?? slow });
      const event = await this.io.next(timeoutMs);
      if (event.kind !== 'reply') {
        throw new Ups2MqttError(
          'READ_TIMEOUT',
          `no reply to ${describeCmd(cmd)} within ${timeoutMs} ms`,
          {
            context: { command: describeCmd(cmd), timeoutMs },
          },
        );
      }
      return event.text === 'NA' ? undefined : event.text;
    },
    resync: () => this.handshakeNow(),
  };

  /**
   * `Y` until `SM` (docs/protocols/apcsmart.md#conversation-rules). Other lines are stale replies and are skipped; between attempts an
   * ESC aborts any half-entered multi-byte command, as NUT does.
   */
  private async handshakeNow(): Promise<void> {
    const { handshakeAttempts, handshakeMs, escapePauseMs } = this.timeouts;
    const seen: string[] = [];
    for (let attempt = 1; attempt <= handshakeAttempts; attempt++) {
      if (attempt > 1) {
        await this.io.write(ESC);
        await this.pause(escapePauseMs);
      }
      await this.opts.transport.flushInput?.();
      this.decoder.reset();
      await this.io.write('Y');
      const deadline = this.opts.clock.now() + handshakeMs;
      for (;;) {
        const left = deadline - this.opts.clock.now();
        const event = left > 0 ? await this.next(left, []) : ({ kind: 'timeout' } as const);
        if (event.kind === 'timeout') break;
        if (event.kind === 'reply' && event.text === 'SM') {
          this.needsHandshake = false;
          return;
        }
        if (event.kind === 'reply') seen.push(event.text);
      }
      this.opts.logger.debug({ attempt, seen }, 'no SM reply to Y');
    }
    const context = { attempts: handshakeAttempts, replies: seen.slice(-5) };
    throw seen.length === 0
      ? new Ups2MqttError(
          'READ_TIMEOUT',
          `UPS did not answer Y (smart mode) in ${handshakeAttempts} attempts; check the cable (an APC smart cable such as 940-0024C) and the port`,
          { context },
        )
      : new Ups2MqttError(
          'PROTOCOL_ERROR',
          'UPS answered Y without SM: not a Smart-protocol UPS, or the line is noisy',
          { context },
        );
  }

  private next(timeoutMs: number, alerts: readonly AlertChar[]): Promise<SmartEvent> {
    if (this.closedError) return Promise.reject(this.closedError);
    const index = this.inbox.findIndex(
      (e) => e.kind === 'reply' || (e.kind === 'alert' && alerts.includes(e.alert)),
    );
    if (index >= 0) {
      const [event] = this.inbox.splice(0, index + 1).slice(-1);
      if (event) return Promise.resolve(event);
    }
    this.inbox.length = 0;
    return new Promise<SmartEvent>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const done = (fn: () => void): void => {
        if (timer !== undefined) this.opts.clock.clearTimeout(timer);
        this.waiter = undefined;
        fn();
      };
      this.waiter = {
        alerts,
        resolve: (e) => done(() => resolve(e)),
        reject: (e) => done(() => reject(e)),
      };
      timer = this.opts.clock.setTimeout(
        () => this.waiter?.resolve({ kind: 'timeout' }),
        timeoutMs,
      );
    });
  }

  private pause(ms: number): Promise<void> {
    if (this.closedError) return Promise.reject(this.closedError);
    // Events that arrive meanwhile stay in the inbox (a session is running); only the port
    // closing interrupts a pause.
    return new Promise((resolve, reject) => {
      const timer = this.opts.clock.setTimeout(() => {
        this.pausing = undefined;
        resolve();
      }, ms);
      this.pausing = (err) => {
        this.opts.clock.clearTimeout(timer);
        this.pausing = undefined;
        reject(err);
      };
    });
  }

  private onData(chunk: Buffer): void {
    const { replies, alerts, overflow } = this.decoder.push(chunk);
    for (const alert of alerts) {
      try {
        this.opts.onAlert?.(alert);
      } catch (err) {
        this.opts.logger.error({ err, alert }, 'alert listener failed');
      }
      this.deliver({ kind: 'alert', alert });
    }
    for (const text of replies) this.deliver({ kind: 'reply', text });
    if (overflow) {
      this.opts.logger.warn({ err: overflow }, 'garbage on the serial line; resynchronising');
      this.needsHandshake = true;
      this.waiter?.reject(overflow);
    }
  }

  private deliver(event: SmartEvent): void {
    const w = this.waiter;
    if (
      w &&
      (event.kind === 'reply' || (event.kind === 'alert' && w.alerts.includes(event.alert)))
    ) {
      w.resolve(event);
    } else if (this.inSession) {
      this.inbox.push(event);
    } else if (event.kind === 'reply') {
      this.opts.logger.debug({ reply: event.text }, 'unsolicited reply from the UPS dropped');
    }
  }

  private onClose(err?: Ups2MqttError): void {
    if (this.closedError) return;
    this.closedError = err ?? new Ups2MqttError('PEER_CLOSED', 'serial port closed');
    this.waiter?.reject(this.closedError);
    this.pausing?.(this.closedError);
  }
}
