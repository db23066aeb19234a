import type { Clock } from '../../core/clock.ts';
import { isUps2MqttError, Ups2MqttError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { supportedCommands } from './capabilities.ts';
import type { AlertChar } from './framing.ts';
import { type SmartIo, SmartProtocol, type SmartTimeouts } from './protocol.ts';
import { identify, readLetters, type SmartIdentity } from './reader.ts';
import type { OpenSmartTransport, SmartTransport } from './transport.ts';

/** Options of {@link SmartLink}. */
export interface SmartLinkOptions {
  path: string;
  logger: Logger;
  clock: Clock;
  openTransport: OpenSmartTransport;
  timeouts?: Partial<SmartTimeouts>;
  /** How often identity and EEPROM settings are read again (default 1 h, as NUT). */
  staticRefreshMs?: number;
  onAlert: (alert: AlertChar) => void;
  /** The port vanished (not our own close). */
  onLost: () => void;
}

/**
 * The connection to one Smart UPS: port, protocol client, what start-up learned and the
 * latest reply to each letter. Opens on demand; after the port vanished, the next connect()
 * opens it again and identifies the unit anew (it may be another one).
 */
export class SmartLink {
  /** Latest reply per request letter (raw). */
  readonly values = new Map<string, string>();
  private current:
    | { transport: SmartTransport; protocol: SmartProtocol; off: () => void }
    | undefined;
  private ident: SmartIdentity | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  private staticReadAt = 0;
  private staticDue = false;

  constructor(private readonly opts: SmartLinkOptions) {}

  /** Known after the first successful start-up sequence. */
  get identity(): SmartIdentity | undefined {
    return this.ident;
  }

  /** Allows connect() again after close(). */
  reopen(): void {
    this.closed = false;
  }

  /** Opens the port and runs the start-up sequence, unless both are done. */
  connect(): Promise<void> {
    if (this.closed) {
      return Promise.reject(new Ups2MqttError('ABORTED', 'Smart UPS source is closed'));
    }
    if (this.current?.protocol.open === true && this.ident !== undefined) return Promise.resolve();
    this.connecting ??= this.establish().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** Runs `fn` on the line (see SmartProtocol.session); a closed port drops the link. */
  async session<T>(fn: (io: SmartIo) => Promise<T>): Promise<T> {
    const current = this.current;
    if (current === undefined) {
      throw new Ups2MqttError('PEER_CLOSED', `serial port ${this.opts.path} is not open`, {
        context: { path: this.opts.path },
      });
    }
    try {
      return await current.protocol.session(fn);
    } catch (err) {
      if (isUps2MqttError(err, 'PEER_CLOSED') && this.current === current) this.drop();
      throw err;
    }
  }

  /** The static letters are read again on the next poll (after `|`: an EEPROM value changed). */
  markStaticDue(): void {
    this.staticDue = true;
  }

  /** One poll: the static letters first when due (see markStaticDue, hourly), then the poll letters. */
  readValues(): Promise<void> {
    return this.session(async (io) => {
      const identity = this.requireIdentity();
      const options = { logger: this.opts.logger, probing: identity.info === undefined };
      const now = this.opts.clock.now();
      if (this.staticDue || now - this.staticReadAt >= (this.opts.staticRefreshMs ?? 3_600_000)) {
        this.staticDue = false;
        await readLetters(io, identity.staticLetters, this.values, options);
        this.staticReadAt = now;
      }
      await readLetters(io, identity.pollLetters, this.values, options);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    this.drop();
  }

  private async establish(): Promise<void> {
    if (this.current?.protocol.open !== true) await this.openPort();
    if (this.ident !== undefined) return;
    const values = this.values;
    values.clear();
    this.ident = await this.session((io) => identify(io, values, this.opts.logger));
    this.staticReadAt = this.opts.clock.now();
    this.staticDue = false;
    this.opts.logger.info(
      {
        model: values.get('\x01')?.trim(),
        firmware: values.get('b') ?? values.get('V'),
        protocol: this.ident.info?.version ?? 'none (no a reply)',
        commands: supportedCommands(this.ident.info),
      },
      'Smart UPS identified',
    );
  }

  private async openPort(): Promise<void> {
    this.drop();
    const transport = await this.opts.openTransport(this.opts.path);
    if (this.closed) {
      await transport.close();
      throw new Ups2MqttError('ABORTED', 'Smart UPS source closed while opening the port');
    }
    const protocol = new SmartProtocol({
      transport,
      clock: this.opts.clock,
      logger: this.opts.logger,
      onAlert: this.opts.onAlert,
      ...(this.opts.timeouts === undefined ? {} : { timeouts: this.opts.timeouts }),
    });
    const off = transport.onClose((err) => {
      if (this.current?.transport !== transport) return;
      this.drop();
      if (err !== undefined && !this.closed) {
        this.opts.logger.warn({ err }, 'serial port lost; reopening on the next read');
        this.opts.onLost();
      }
    });
    this.current = { transport, protocol, off };
    this.opts.logger.info({ path: this.opts.path }, 'serial port opened');
  }

  private requireIdentity(): SmartIdentity {
    if (this.ident === undefined) {
      throw new Ups2MqttError('PROTOCOL_ERROR', 'Smart UPS not identified yet');
    }
    return this.ident;
  }

  /** Forgets the port (closing it) and the identity; keeps nothing stale. */
  private drop(): void {
    const current = this.current;
    this.current = undefined;
    this.ident = undefined;
    if (current === undefined) return;
    current.off();
    current.protocol.dispose();
    current.transport.close().catch((err: unknown) => {
      this.opts.logger.debug({ err }, 'closing the serial port failed');
    });
  }
}
