import type { Ups2MqttError } from '../../core/errors.ts';

/**
 * The byte pipe the Smart protocol client talks through. The production one is a thin
 * adapter over `serialport` (serialport-transport.ts); tests use fakes that record every
 * byte written and feed exact byte streams back.
 */
export interface SmartTransport {
  /** Sends bytes; resolves once they are handed to the OS. */
  write(bytes: Uint8Array): Promise<void>;
  /** Registers a listener for received bytes; returns its remover. */
  onData(listener: (chunk: Buffer) => void): () => void;
  /**
   * Registers a listener for the end of the link: the port vanished (USB adapter unplugged,
   * pty closed) or was closed. `err` is set when it was not our own close().
   */
  onClose(listener: (err?: Ups2MqttError) => void): () => void;
  /** Discards bytes received but not yet read (tcflush), when the port can. */
  flushInput?(): Promise<void>;
  /** Sets the modem-control lines, when the port has them. */
  setSignals?(signals: ModemSignals): Promise<void>;
  /** Closes the port; idempotent. */
  close(): Promise<void>;
}

/** Modem-control output lines. */
export interface ModemSignals {
  dtr: boolean;
  rts: boolean;
}

/**
 * The lines set right after open (docs/protocols/apcsmart.md#serial-line). A correct 3-wire smart cable
 * (940-0024B/C/G, 940-1524C, 940-0625A) ignores them. RTS low is what apcupsd does after
 * opening and what the 940-0095 cables need for smart mode; on those cables RTS high is the
 * kill-power line. DTR high matches NUT's 940-0095B mode (it powers the cable's interface)
 * and is the state the OS already left it in at open, so nothing changes on it.
 */
export const SMART_MODEM_SIGNALS: Readonly<ModemSignals> = { dtr: true, rts: false };

/** Opens the port at `path` (2400 8N1) and returns a transport over it. */
export type OpenSmartTransport = (path: string) => Promise<SmartTransport>;
