import { constants, type FSWatcher, watch } from 'node:fs';
import { access } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { Ups2MqttError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { type ModemSignals, SMART_MODEM_SIGNALS, type SmartTransport } from './transport.ts';

/**
 * The production {@link SmartTransport}: a thin adapter over `serialport` (loaded on first
 * use, so a run without a serial UPS never loads native code). 2400 baud 8N1, no flow
 * control (docs/protocols/apcsmart.md#serial-line); the modem lines are set explicitly right after open.
 */

/** Options of {@link openSerialPortTransport}. */
export interface SerialPortTransportOptions {
  logger: Logger;
  /** Lines set after open (default {@link SMART_MODEM_SIGNALS}). */
  signals?: ModemSignals;
}

type Port = import('serialport').SerialPort;

/**
 * Opens `path`. Rejects with CONNECT_FAILED and a reason a person can act on: missing device
 * (unplugged; USB adapters re-enumerate), permission denied, or port in use (apcupsd or NUT
 * still running). A port whose modem lines cannot be set (a pseudo-terminal) is still used.
 */
export async function openSerialPortTransport(
  path: string,
  opts: SerialPortTransportOptions,
): Promise<SmartTransport> {
  try {
    // serialport's errors carry no errno code; access() gives ENOENT/EACCES reliably.
    await access(path, constants.R_OK | constants.W_OK);
  } catch (err) {
    throw openError(path, err);
  }
  const { SerialPort } = await import('serialport');
  const port: Port = new SerialPort({
    path,
    baudRate: 2400,
    dataBits: 8,
    parity: 'none',
    stopBits: 1,
    rtscts: false,
    xon: false,
    xoff: false,
    autoOpen: false,
  });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => (err ? reject(openError(path, err)) : resolve()));
  });
  const signals = opts.signals ?? SMART_MODEM_SIGNALS;
  try {
    await setLines(port, signals);
  } catch (err) {
    opts.logger.debug({ err, path }, 'port has no modem-control lines (pseudo-terminal?)');
  }
  return new SerialPortTransport(port, path);
}

function setLines(port: Port, signals: ModemSignals): Promise<void> {
  return new Promise((resolve, reject) => {
    // set() writes every line at once; unnamed ones would go to their defaults (RTS high).
    port.set({ dtr: signals.dtr, rts: signals.rts, brk: false }, (err) =>
      err ? reject(err) : resolve(),
    );
  });
}

class SerialPortTransport implements SmartTransport {
  private closing = false;
  /** Set when the device node vanished and we closed the port because of it. */
  private gone: Ups2MqttError | undefined;
  private readonly watcher: FSWatcher | undefined;

  constructor(
    private readonly port: Port,
    private readonly path: string,
  ) {
    // Errors also arrive as 'close' with a disconnect error; this listener only keeps an
    // unhandled 'error' from crashing the process.
    port.on('error', () => {});
    // serialport notices a vanished device only when a pending read fails, and that read can
    // stay silent after a hang-up. An unplugged USB adapter (or an ended pty) also removes
    // its device node: watching the node's folder reports that at once.
    try {
      this.watcher = watch(dirname(path), (_event, name) => {
        if (name === basename(path)) void this.checkPresent();
      });
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      this.watcher = undefined; // a folder that cannot be watched: serialport's own detection
    }
    port.once('close', () => this.watcher?.close());
  }

  private async checkPresent(): Promise<void> {
    try {
      await access(this.path);
    } catch {
      if (this.closing || this.gone !== undefined || !this.port.isOpen) return;
      this.gone = new Ups2MqttError('PEER_CLOSED', `serial port ${this.path} disappeared`, {
        context: { path: this.path },
      });
      this.port.close(() => {});
    }
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.port.write(Buffer.from(bytes), (err) =>
        err
          ? reject(
              new Ups2MqttError('PEER_CLOSED', `cannot write to ${this.path}: ${err.message}`, {
                cause: err,
                context: { path: this.path },
              }),
            )
          : resolve(),
      );
    });
  }

  onData(listener: (chunk: Buffer) => void): () => void {
    this.port.on('data', listener);
    return () => this.port.off('data', listener);
  }

  onClose(listener: (err?: Ups2MqttError) => void): () => void {
    const handler = (err?: Error | null): void => {
      if (this.gone !== undefined) {
        listener(this.gone);
        return;
      }
      if (this.closing) {
        listener();
        return;
      }
      listener(
        new Ups2MqttError('PEER_CLOSED', `serial port ${this.path} disappeared`, {
          cause: err ?? undefined,
          context: { path: this.path },
        }),
      );
    };
    this.port.on('close', handler);
    return () => this.port.off('close', handler);
  }

  flushInput(): Promise<void> {
    return new Promise((resolve) => this.port.flush(() => resolve()));
  }

  setSignals(signals: ModemSignals): Promise<void> {
    return setLines(this.port, signals);
  }

  close(): Promise<void> {
    this.watcher?.close();
    if (this.closing || !this.port.isOpen) return Promise.resolve();
    this.closing = true;
    return new Promise((resolve) => this.port.close(() => resolve()));
  }
}

/** Maps an open failure to CONNECT_FAILED with the cause in words. */
function openError(path: string, err: unknown): Ups2MqttError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  let why: string;
  // serialport reports a held lock only in its message text (no code): an adapter edge.
  if (code === 'ENOENT')
    why = 'no such device (unplugged, or a USB adapter re-enumerated under another name)';
  else if (code === 'EACCES' || code === 'EPERM')
    why = 'permission denied (add the user to the dialout group)';
  else if (code === 'EBUSY' || /lock|busy/i.test(message))
    why = 'port in use by another program (apcupsd or a NUT driver?)';
  else why = message;
  return new Ups2MqttError('CONNECT_FAILED', `cannot open serial port ${path}: ${why}`, {
    cause: err,
    context: { path, errno: code ?? null },
  });
}
