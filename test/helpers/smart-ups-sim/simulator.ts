/**
 * The Smart-UPS simulator on a real pseudo-terminal: {@link SmartUpsModel} behind the `A` end
 * of a socat pair, so a client (our source, or a real apcupsd) opens `B` like a serial port.
 * Tests drive the model (values, mains, alerts) and read its log of received bytes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SerialPort } from 'serialport';
import type { ProcessRegistry } from '../process.ts';
import { type SimTiming, SmartUpsModel } from './model.ts';
import { type PtyPair, startPtyPair } from './pty.ts';

/** Options of {@link SmartUpsSimulator.start}. */
export interface SmartUpsSimulatorOptions {
  registry?: ProcessRegistry;
  timing?: Partial<SimTiming>;
}

export class SmartUpsSimulator {
  readonly model: SmartUpsModel;
  private pair: PtyPair | undefined;
  private port: SerialPort | undefined;
  private stopped = false;

  private constructor(
    readonly dir: string,
    private readonly options: SmartUpsSimulatorOptions,
  ) {
    this.model = new SmartUpsModel(
      { send: (bytes) => this.send(bytes), now: () => performance.now() },
      options.timing,
    );
  }

  /** Creates a private folder, the pty pair and the simulated unit behind `A`. */
  static async start(options: SmartUpsSimulatorOptions = {}): Promise<SmartUpsSimulator> {
    const dir = await mkdtemp(join(tmpdir(), 'ups2mqtt-smart-sim-'));
    const sim = new SmartUpsSimulator(dir, options);
    try {
      await sim.connectPty();
    } catch (err) {
      await sim.stop();
      throw err;
    }
    options.registry?.track(sim);
    return sim;
  }

  /** The path a client opens (the pty's `B` end). */
  get devicePath(): string {
    return join(this.dir, 'B');
  }

  /** socat's PID while the pair exists. */
  get socatPid(): number | undefined {
    return this.pair?.proc.pid;
  }

  /** Every byte the client sent, in order. */
  receivedBytes(): Buffer {
    return Buffer.from(this.model.received.map((r) => r.byte));
  }

  /** Received bytes as text with control bytes named (`^A`, `DEL`), for messages. */
  receivedText(): string {
    return [...this.receivedBytes()]
      .map((b) =>
        b === 0x7f
          ? '<DEL>'
          : b < 0x20
            ? `<^${String.fromCharCode(b + 0x40)}>`
            : String.fromCharCode(b),
      )
      .join('');
  }

  /** Forgets the byte log (and recorded violations). */
  clearLog(): void {
    this.model.received.length = 0;
    this.model.violations.length = 0;
  }

  /** The port vanishes: socat is stopped by its PID, both pty ends disappear. */
  async killPty(): Promise<void> {
    const pair = this.pair;
    this.pair = undefined;
    await this.closePort();
    await pair?.stop();
  }

  /** The port comes back: a new socat pair under the same link names. */
  async restorePty(): Promise<void> {
    await this.connectPty();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.model.stop();
    try {
      await this.killPty();
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  private async connectPty(): Promise<void> {
    this.pair = await startPtyPair(this.dir, this.options.registry);
    const port = new SerialPort({ path: this.pair.a, baudRate: 2400, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    port.on('data', (chunk: Buffer) => this.model.receive(chunk));
    port.on('error', () => {});
    this.port = port;
  }

  private closePort(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (port === undefined || !port.isOpen) return Promise.resolve();
    return new Promise((resolve) => port.close(() => resolve()));
  }

  private send(bytes: string): void {
    this.port?.write(Buffer.from(bytes, 'latin1'));
  }
}
