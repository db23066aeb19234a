/**
 * An NIS server on 127.0.0.1 whose manners a test switches at run time, for the fault
 * campaign: it answers like apcupsd (`good`), or accepts and never answers, answers a byte
 * at a time, or sends garbage. Switching back to `good` also finishes the replies it left
 * hanging (all of a silent one, the end marker of an unterminated one, the rest of a slow
 * one), as a stalled apcupsd that resumes would.
 */
import { createServer, type Server, type Socket } from 'node:net';
import {
  backUpsRecords,
  encodeNisFrame,
  encodeNisLines,
  formatNisStatus,
  NIS_END,
  withRecord,
} from '../helpers/fake-nis-master.ts';
import { LOOPBACK } from '../helpers/ports.ts';

export type PeerMode =
  /** Answers `status` with a Back-UPS reading (a new load each time), `events` with an empty log. */
  | 'good'
  /** Accepts, reads the request, never answers. */
  | 'silent'
  /** The real reply, one byte per write (a pause every 4 bytes): ~0.3 s per status. */
  | 'byte-at-a-time'
  /** The real reply, one byte every 5 ms: ~6 s per status, past any sensible timeout. */
  | 'byte-at-a-time-past-timeout'
  /** 2 KiB of (seeded) random bytes, connection kept open. */
  | 'random-bytes'
  /** A length prefix of 65,535, then some bytes. */
  | 'oversized-length'
  /** The whole status, every frame, but never the `00 00` end marker. */
  | 'no-end-marker';

export class MisbehavingNisPeer {
  mode: PeerMode = 'good';
  /** Requests received (any mode). */
  requests = 0;
  private readonly sockets = new Set<Socket>();
  /** Requests not (fully) answered, with the bytes still owed. */
  private readonly hanging = new Set<{ socket: Socket; owed: Buffer }>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<MisbehavingNisPeer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, LOOPBACK, () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const peer = new MisbehavingNisPeer(server, address.port);
    server.on('connection', (socket) => peer.accept(socket));
    return peer;
  }

  /** Changes the manners; `good` answers whatever was left hanging. */
  setMode(mode: PeerMode): void {
    this.mode = mode;
    if (mode !== 'good') return;
    for (const pending of this.hanging) {
      if (!pending.socket.destroyed) pending.socket.write(pending.owed);
    }
    this.hanging.clear();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('close', () => {
      this.sockets.delete(socket);
      for (const pending of this.hanging)
        if (pending.socket === socket) this.hanging.delete(pending);
    });
    let carry = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      carry = Buffer.concat([carry, chunk]);
      while (carry.length >= 2 && carry.length >= 2 + carry.readUInt16BE(0)) {
        const length = carry.readUInt16BE(0);
        const command = carry.subarray(2, 2 + length).toString('latin1');
        carry = carry.subarray(2 + length);
        this.requests++;
        this.answer(socket, command);
      }
    });
  }

  private answer(socket: Socket, command: string): void {
    switch (this.mode) {
      case 'good':
        socket.write(reply(command, this.requests));
        return;
      case 'silent':
        this.hanging.add({ socket, owed: reply(command, this.requests) });
        return;
      case 'byte-at-a-time':
        void this.trickle(socket, reply(command, this.requests), 4, 1);
        return;
      case 'byte-at-a-time-past-timeout':
        void this.trickle(socket, reply(command, this.requests), 1, 5);
        return;
      case 'random-bytes':
        socket.write(seededBytes(2048, 14));
        return;
      case 'oversized-length':
        socket.write(Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.alloc(100, 0x41)]));
        return;
      case 'no-end-marker': {
        const whole = reply(command, this.requests);
        socket.write(whole.subarray(0, whole.length - NIS_END.length));
        this.hanging.add({ socket, owed: NIS_END });
        return;
      }
    }
  }

  /**
   * Writes `bytes` one per write, pausing `pauseMs` after every `every` bytes; once the mode
   * is `good` again, the rest goes at once.
   */
  private async trickle(
    socket: Socket,
    bytes: Buffer,
    every: number,
    pauseMs: number,
  ): Promise<void> {
    for (let i = 0; i < bytes.length; i++) {
      if (socket.destroyed) return;
      if (this.mode === 'good') {
        socket.write(bytes.subarray(i));
        return;
      }
      socket.write(bytes.subarray(i, i + 1));
      if ((i + 1) % every === 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/**
 * The whole reply to `command` as apcupsd frames it; the load differs on each `status`
 * (`serial`), so each reading publishes a state.
 */
function reply(command: string, serial: number): Buffer {
  if (command === 'status') {
    const load = `${10 + (serial % 40)}.0 Percent`;
    return encodeNisLines(formatNisStatus(withRecord(backUpsRecords(new Date()), 'LOADPCT', load)));
  }
  if (command === 'events') return NIS_END;
  return Buffer.concat([encodeNisFrame('Invalid command\n\0'), NIS_END]);
}

/** `n` pseudo-random bytes from a fixed seed (a 32-bit LCG), the same on every run. */
function seededBytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
