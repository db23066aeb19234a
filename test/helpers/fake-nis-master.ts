/**
 * A scripted apcupsd NIS server on 127.0.0.1. It is (a) the "UPS" that a real apcupsd in
 * `UPSTYPE net` mode polls (docs/protocols/nis.md#running-apcupsd-without-a-ups), and (b) a cheap
 * NIS endpoint for client tests and benchmarks (one net.Server per instance, replies cached).
 *
 * The wire format and text layout follow docs/protocols/nis.md#framing (2-byte big-endian length per
 * message, `00 00` ends a reply), docs/protocols/nis.md#the-header-record (header record) and docs/protocols/nis.md#records-and-parsing (record layout).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Ups2MqttError } from '../../src/core/errors.ts';
import { LOOPBACK } from './ports.ts';

/** One status record: key (≤ 9 characters) and value, exactly as sent (trailing blanks kept). */
export type NisRecord = readonly [key: string, value: string];

/** The `00 00` message that ends every reply (docs/protocols/nis.md#framing). */
export const NIS_END = Buffer.from([0, 0]);

/** Frames one message: 2-byte unsigned big-endian length, then the bytes (docs/protocols/nis.md#framing). */
export function encodeNisFrame(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  if (body.length > 0xffff) {
    throw new Ups2MqttError('FRAME_TOO_LARGE', `NIS message of ${body.length} bytes`);
  }
  const head = Buffer.alloc(2);
  head.writeUInt16BE(body.length);
  return Buffer.concat([head, body]);
}

/**
 * Splits a byte stream into NIS messages, carrying partial ones over between chunks.
 * `push()` returns the complete messages in the chunk; a `00 00` message is an empty Buffer.
 */
export class NisFrameReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    while (this.pending.length >= 2) {
      const length = this.pending.readUInt16BE(0);
      if (this.pending.length < 2 + length) break;
      frames.push(this.pending.subarray(2, 2 + length));
      this.pending = this.pending.subarray(2 + length);
    }
    return frames;
  }
}

/** `KEY      : value\n`: key left-justified in 9 characters, then `: ` (docs/protocols/nis.md#records-and-parsing). */
export function formatNisLine(key: string, value: string): string {
  return `${key.padEnd(9)}: ${value}\n`;
}

/**
 * The lines of a `status` reply: the `APC      : 001,NNN,BBBB` header (docs/protocols/nis.md#the-header-record: NNN records
 * follow, BBBB bytes including newlines), then one line per record.
 */
export function formatNisStatus(records: readonly NisRecord[]): string[] {
  const lines = records.map(([key, value]) => formatNisLine(key, value));
  const bytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line, 'latin1'), 0);
  const count = String(lines.length).padStart(3, '0');
  return [formatNisLine('APC', `001,${count},${String(bytes).padStart(4, '0')}`), ...lines];
}

/**
 * apcupsd's 3.14.8+ timestamp in the host's local zone, `YYYY-MM-DD HH:MM:SS +ZZZZ` plus the
 * two trailing spaces it always sends (docs/protocols/nis.md#records-and-parsing). An events line is this followed
 * directly by the message (docs/protocols/nis.md#event-log).
 */
export function formatNisTimestamp(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const zone = `${sign}${two(Math.floor(Math.abs(offset) / 60))}${two(Math.abs(offset) % 60)}`;
  const day = `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
  const time = `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
  return `${day} ${time} ${zone}  `;
}

/** STATUS words → STATFLAG bits (docs/protocols/nis.md#status-words-and-statflag-bits, docs/protocols/nis.md#status-words-and-statflag-bits). */
const STATUS_BITS: Readonly<Record<string, number>> = {
  CAL: 0x01,
  TRIM: 0x02,
  BOOST: 0x04,
  ONLINE: 0x08,
  ONBATT: 0x10,
  OVERLOAD: 0x20,
  LOWBATT: 0x40,
  REPLACEBATT: 0x80,
  COMMLOST: 0x100,
  SLAVE: 0x400,
  SLAVEDOWN: 0x800,
};
const PLUGGED = 0x01000000;
const BATTPRESENT = 0x04000000;

/**
 * The STATFLAG value apcupsd would show for these STATUS words: their bits plus `plugged`
 * and `battpresent` (cleared by `NOBATT`), formatted `0x%08X` (docs/protocols/nis.md#status-words-and-statflag-bits). A slave apcupsd takes
 * its state from this field, not from STATUS (apcupsd `drivers/net`), so they must agree.
 */
export function statusFlagFor(words: string): string {
  let flag = PLUGGED | BATTPRESENT;
  for (const word of words.trim().split(/\s+/)) {
    if (word === 'NOBATT') flag &= ~BATTPRESENT;
    else flag |= STATUS_BITS[word] ?? 0;
  }
  return `0x${flag.toString(16).toUpperCase().padStart(8, '0')}`;
}

/**
 * A realistic master status in 3.14.14 layout (a USB Back-UPS, shape of the Back-UPS sample in test/fixtures/nis), with
 * timestamps from `now` and `startedAt`. Values are made up; the battery is full and the
 * runtime long so that a slave never decides to shut down.
 */
export function backUpsRecords(now: Date, startedAt: Date = now): NisRecord[] {
  return [
    ['DATE', formatNisTimestamp(now)],
    ['HOSTNAME', 'fake-master'],
    ['VERSION', '3.14.14 (31 May 2016) debian'],
    ['UPSNAME', 'fake-ups'],
    ['CABLE', 'USB Cable'],
    ['DRIVER', 'USB UPS Driver'],
    ['UPSMODE', 'Stand Alone'],
    ['STARTTIME', formatNisTimestamp(startedAt)],
    ['MODEL', 'Back-UPS XS 1400U '],
    ['STATUS', 'ONLINE '],
    ['LINEV', '230.0 Volts'],
    ['LOADPCT', '12.0 Percent'],
    ['BCHARGE', '100.0 Percent'],
    ['TIMELEFT', '38.4 Minutes'],
    ['MBATTCHG', '5 Percent'],
    ['MINTIMEL', '3 Minutes'],
    ['MAXTIME', '0 Seconds'],
    ['SENSE', 'Medium'],
    ['LOTRANS', '180.0 Volts'],
    ['HITRANS', '266.0 Volts'],
    ['ALARMDEL', '30 Seconds'],
    ['BATTV', '13.6 Volts'],
    ['LASTXFER', 'Low line voltage'],
    ['NUMXFERS', '0'],
    ['TONBATT', '0 Seconds'],
    ['CUMONBATT', '0 Seconds'],
    ['XOFFBATT', 'N/A'],
    ['SELFTEST', 'NO'],
    ['STATFLAG', statusFlagFor('ONLINE')],
    ['SERIALNO', '3B1234X56789  '],
    ['BATTDATE', '2023-05-04'],
    ['NOMINV', '230 Volts'],
    ['NOMBATTV', '12.0 Volts'],
    ['NOMPOWER', '865 Watts'],
    ['FIRMWARE', '926.T2 .I USB FW:T2'],
    ['END APC', formatNisTimestamp(now)],
  ];
}

/** Replaces the value of `key`, or inserts the record before `END APC` (else at the end). */
export function withRecord(records: readonly NisRecord[], key: string, value: string): NisRecord[] {
  const out = [...records];
  const at = out.findIndex(([k]) => k === key);
  if (at >= 0) {
    out[at] = [key, value];
    return out;
  }
  const end = out.findIndex(([k]) => k === 'END APC');
  out.splice(end >= 0 ? end : out.length, 0, [key, value]);
  return out;
}

/** Error payloads apcupsd sends, NUL included (docs/protocols/nis.md#framing). */
export const NIS_INVALID_COMMAND = 'Invalid command\n\0';
export const NIS_NOT_AVAILABLE = 'Not available\n\0';

/** Builds the complete `events` reply body: each line framed with its `\n`, then `00 00`. */
export function encodeNisLines(lines: readonly string[]): Buffer {
  return Buffer.concat([...lines.map((line) => encodeNisFrame(line)), NIS_END]);
}

/**
 * How the master treats a request:
 * - `normal`: answers like apcupsd;
 * - `paused`: accepts and reads, never answers (a hung apcupsd);
 * - `close-mid-reply`: sends the first `midReplyFrames` messages of a reply, then closes;
 * - `close-on-accept`: closes every new connection at once.
 */
export type MasterMode = 'normal' | 'paused' | 'close-mid-reply' | 'close-on-accept';

/**
 * `single-write` sends a reply in one write (cheap, for benchmarks); `per-frame` writes each
 * message separately, as apcupsd does (docs/protocols/nis.md#connections-and-timeouts notes its many small writes), so clients meet
 * replies split across TCP segments.
 */
export type MasterChunking = 'single-write' | 'per-frame';

/** Options of {@link FakeNisMaster}. */
export interface FakeNisMasterOptions {
  /** Port to listen on; default 0 (the kernel picks one; read `port` after `start()`). */
  port?: number;
  chunking?: MasterChunking;
  /** Closes a connection idle this long, like apcupsd's 15 s select (docs/protocols/nis.md#connections-and-timeouts); 0 = never. */
  idleTimeoutMs?: number;
  /** Time source for live `DATE`/`END APC`; default the system time. */
  now?: () => Date;
}

/** One request the master received. */
export interface MasterRequest {
  /** The payload as latin1 text (`status`, `events`, anything else verbatim). */
  readonly command: string;
  readonly at: number;
}

/** Status content: records (header computed) or verbatim lines (header as given). */
type StatusContent =
  | { kind: 'records'; records: readonly NisRecord[]; liveTimestamps: boolean }
  | { kind: 'lines'; lines: readonly string[] };

/** A scripted NIS server. Construct, `start()`, script it, `stop()`. */
export class FakeNisMaster {
  private server: Server | undefined;
  private boundPort: number;
  private readonly sockets = new Set<Socket>();
  private status: StatusContent;
  private events: readonly string[] | undefined = [];
  private mode: MasterMode = 'normal';
  private midReplyFrames = 3;
  private cachedStatus: Buffer | undefined;
  private readonly counts = new Map<string, number>();
  private readonly waiters = new Set<(r: MasterRequest) => void>();
  private accepted = 0;
  private readonly now: () => Date;

  constructor(private readonly options: FakeNisMasterOptions = {}) {
    this.boundPort = options.port ?? 0;
    this.now = options.now ?? (() => new Date());
    this.status = { kind: 'records', records: backUpsRecords(this.now()), liveTimestamps: true };
  }

  /** The listening port (after `start()`); kept across `stop()`/`start()`. */
  get port(): number {
    return this.boundPort;
  }

  /** Listens on 127.0.0.1 (the same port again after a `stop()`); resolves with the port. */
  start(): Promise<number> {
    if (this.server !== undefined) return Promise.resolve(this.boundPort);
    const server = createServer((socket) => this.accept(socket));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.boundPort, host: LOOPBACK }, () => {
        server.off('error', reject);
        const address = server.address();
        if (typeof address === 'object' && address !== null) this.boundPort = address.port;
        this.server = server;
        resolve(this.boundPort);
      });
    });
  }

  /** Stops listening and drops every open connection (peers then see refused/reset). */
  stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  listening(): boolean {
    return this.server !== undefined;
  }

  /**
   * Serves these records after a computed header. With `liveTimestamps` (default) `DATE`
   * and `END APC` are re-stamped on every reply, like a healthy apcupsd polling its UPS.
   */
  setStatus(records: readonly NisRecord[], options: { liveTimestamps?: boolean } = {}): void {
    this.status = { kind: 'records', records, liveTimestamps: options.liveTimestamps ?? true };
    this.cachedStatus = undefined;
  }

  /**
   * Serves a text block verbatim, one message per line, header included as written (so a
   * published fixture with a stale `APC` header is replayed as published).
   */
  setStatusText(text: string): void {
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    this.status = { kind: 'lines', lines: lines.map((line) => `${line}\n`) };
    this.cachedStatus = undefined;
  }

  /** Sets one record (see {@link withRecord}); only for record-based status. */
  setRecord(key: string, value: string): void {
    if (this.status.kind !== 'records') {
      throw new Ups2MqttError('PROTOCOL_ERROR', 'setRecord needs a record-based status');
    }
    this.setStatus(withRecord(this.status.records, key, value), {
      liveTimestamps: this.status.liveTimestamps,
    });
  }

  /** Sets STATUS (`words` plus apcupsd's trailing space) and the matching STATFLAG. */
  setUpsStatus(words: string): void {
    this.setRecord('STATUS', `${words.trim()} `);
    this.setRecord('STATFLAG', statusFlagFor(words));
  }

  /** The current records (record-based status only; undefined otherwise). */
  records(): readonly NisRecord[] | undefined {
    return this.status.kind === 'records' ? this.status.records : undefined;
  }

  /** Lines for `events` (without `\n`); `undefined` answers `Not available` (docs/protocols/nis.md#framing). */
  setEvents(lines: readonly string[] | undefined): void {
    this.events = lines;
  }

  setMode(mode: MasterMode, midReplyFrames = 3): void {
    this.mode = mode;
    this.midReplyFrames = midReplyFrames;
  }

  /** Requests received, of one command or of all. */
  requestCount(command?: string): number {
    if (command !== undefined) return this.counts.get(command) ?? 0;
    let total = 0;
    for (const n of this.counts.values()) total += n;
    return total;
  }

  /** Connections accepted since construction. */
  connectionCount(): number {
    return this.accepted;
  }

  /** Closes every open connection (the server keeps listening), as a restarting daemon would. */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /** Connections open right now (closed ones leave once their close is seen). */
  openConnections(): number {
    return this.sockets.size;
  }

  /** The next request (after this call) for `command`, or any when omitted. */
  nextRequest(command: string | undefined, timeoutMs: number): Promise<MasterRequest> {
    return new Promise((resolve, reject) => {
      const waiter = (r: MasterRequest): void => {
        if (command !== undefined && r.command !== command) return;
        done();
        resolve(r);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Ups2MqttError('READ_TIMEOUT', `no ${command ?? 'request'} in ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
    });
  }

  /** The exact bytes of the next `status` reply (header and `00 00` included). */
  statusReply(): Buffer {
    if (this.cachedStatus !== undefined) return this.cachedStatus;
    const reply = encodeNisLines(this.statusLines());
    const live = this.status.kind === 'records' && this.status.liveTimestamps;
    if (!live) this.cachedStatus = reply;
    return reply;
  }

  private statusLines(): string[] {
    if (this.status.kind === 'lines') return [...this.status.lines];
    let records = this.status.records;
    if (this.status.liveTimestamps) {
      const stamp = formatNisTimestamp(this.now());
      records = records.map(
        ([k, v]): NisRecord => (k === 'DATE' || k === 'END APC' ? [k, stamp] : [k, v]),
      );
    }
    return formatNisStatus(records);
  }

  private accept(socket: Socket): void {
    this.accepted += 1;
    if (this.mode === 'close-on-accept') {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const idle = this.options.idleTimeoutMs ?? 15_000;
    if (idle > 0) socket.setTimeout(idle, () => socket.destroy());
    const reader = new NisFrameReader();
    socket.on('data', (chunk: Buffer) => {
      for (const frame of reader.push(chunk)) this.answer(socket, frame.toString('latin1'));
    });
  }

  private answer(socket: Socket, command: string): void {
    this.counts.set(command, (this.counts.get(command) ?? 0) + 1);
    const request = { command, at: Date.now() };
    for (const waiter of [...this.waiters]) waiter(request);
    if (socket.destroyed) return;
    if (this.mode === 'paused') {
      // A hung server: apcupsd's 15 s idle close (docs/protocols/nis.md#connections-and-timeouts) applies between commands, never
      // while a reply is owed, so a paused connection stays open until stop().
      socket.setTimeout(0);
      return;
    }
    const reply = this.replyFor(command);
    if (this.mode === 'close-mid-reply') {
      socket.end(firstFrames(reply, this.midReplyFrames));
      return;
    }
    if ((this.options.chunking ?? 'single-write') === 'single-write') {
      socket.write(reply);
      return;
    }
    for (const frame of splitFrames(reply)) socket.write(frame);
  }

  private replyFor(command: string): Buffer {
    if (command === 'status') return this.statusReply();
    if (command === 'events') {
      if (this.events === undefined) return encodeNisLines([NIS_NOT_AVAILABLE]);
      // apcupsd answers with the last 50 lines of its events file (docs/protocols/nis.md#event-log).
      return encodeNisLines(this.events.slice(-50).map((line) => `${line}\n`));
    }
    return encodeNisLines([NIS_INVALID_COMMAND]);
  }
}

/** Splits an encoded reply back into its framed messages. */
function splitFrames(reply: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let at = 0;
  while (at + 2 <= reply.length) {
    const end = at + 2 + reply.readUInt16BE(at);
    frames.push(reply.subarray(at, end));
    at = end;
  }
  return frames;
}

function firstFrames(reply: Buffer, count: number): Buffer {
  return Buffer.concat(splitFrames(reply).slice(0, count));
}
