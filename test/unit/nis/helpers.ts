import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { NisRecord } from '../../../src/sources/nis/parse.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/nis/', import.meta.url));

/** A status capture as the lines the client returns (newline removed, trailing blanks kept). */
export function fixtureLines(name: string): string[] {
  const text = readFileSync(`${FIXTURES}${name}`, 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Home Assistant's MOCK_STATUS dict (already split into key and value) as records. */
export function homeAssistantRecords(): NisRecord[] {
  const dict = JSON.parse(
    readFileSync(`${FIXTURES}home-assistant-mock-status-back-ups-es-600.json`, 'utf8'),
  ) as Record<string, string>;
  return Object.entries(dict).map(([key, value]) => ({ key, value }));
}

/** One NIS frame: 2-byte big-endian length + payload. */
export function frame(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const head = Buffer.alloc(2);
  head.writeUInt16BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** A whole reply as apcupsd sends it: one frame per line with its `\n`, then `00 00`. */
export function encodeReply(lines: readonly string[]): Buffer {
  return Buffer.concat([...lines.map((l) => frame(`${l}\n`)), Buffer.from([0, 0])]);
}

/** Rejects when the promise does not settle in time, so a broken test fails instead of hanging. */
export function within<T>(promise: Promise<T>, ms = 2000, what = 'operation'): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/** One client connection as the fake server saw it. */
export interface FakeConnection {
  socket: Socket;
  /** Every byte the client sent so far. */
  received(): Buffer;
  /** Resolves with the client's first complete message (length prefix included). */
  command: Promise<Buffer>;
  /** Resolves when the connection is fully closed on the server side. */
  closed: Promise<void>;
}

/** What the fake does once a command arrived. */
export type FakeBehaviour = (conn: FakeConnection, command: Buffer) => void;

/** A scripted NIS peer on 127.0.0.1 with a free port. */
export interface FakeNisServer {
  port: number;
  connections: FakeConnection[];
  /** Resolves with the n-th connection (0-based) once it was accepted. */
  connection(n: number): Promise<FakeConnection>;
  close(): Promise<void>;
}

/** Starts a fake NIS server; `behaviour` answers (or not) each command. */
export async function startFakeNis(behaviour: FakeBehaviour): Promise<FakeNisServer> {
  const connections: FakeConnection[] = [];
  const waiters = new Map<number, (c: FakeConnection) => void>();
  const server: Server = createServer((socket) => {
    let buf = Buffer.alloc(0);
    let resolveCommand: (b: Buffer) => void = () => {};
    const command = new Promise<Buffer>((r) => {
      resolveCommand = r;
    });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    const conn: FakeConnection = { socket, received: () => buf, command, closed };
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (answered || buf.length < 2) return;
      const total = 2 + buf.readUInt16BE(0);
      if (buf.length < total) return;
      answered = true;
      const cmd = Buffer.from(buf.subarray(0, total));
      resolveCommand(cmd);
      behaviour(conn, cmd);
    });
    socket.on('error', () => {});
    connections.push(conn);
    waiters.get(connections.length - 1)?.(conn);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    connections,
    connection: (n) =>
      new Promise<FakeConnection>((resolve) => {
        const existing = connections[n];
        if (existing) resolve(existing);
        else waiters.set(n, resolve);
      }),
    close: async () => {
      for (const c of connections) c.socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A Duplex standing in for a socket: records writes and lets the test push reply bytes. */
export class FakeSocket extends Duplex {
  readonly writes: Buffer[] = [];
  connecting: boolean;
  onWrite: (chunk: Buffer) => void = () => {};

  constructor(connecting = false) {
    super();
    this.connecting = connecting;
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.writes.push(chunk);
    this.onWrite(chunk);
    cb();
  }
}
