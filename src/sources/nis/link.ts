import type { NisSocket } from './client.ts';

/** Who is told what happens on a connection: the request in flight, or the pool while idle. */
export interface NisLinkSink {
  data(chunk: Buffer): void;
  /** The peer ended or closed the connection. */
  gone(): void;
  error(err: Error): void;
}

/**
 * The listeners of one NIS connection, installed once for its whole life. A kept connection
 * carries a request every poll and waits in the pool in between; adding and removing four
 * stream listeners at each of those hand-overs (eight `on`/`off` calls a poll, each walking
 * Readable's listener bookkeeping) was a visible share of a one-UPS bridge's CPU. Instead
 * the permanent listeners pass everything to the current {@link NisLinkSink}, and a hand-over
 * swaps that one field.
 *
 * Without a sink, events are dropped: the connection is then being destroyed (a late
 * `error` after `destroy()` must not crash the process, and this listener catches it).
 */
class NisLink {
  sink: NisLinkSink | undefined;

  constructor(socket: NisSocket) {
    socket.on('data', (chunk: Buffer) => this.sink?.data(chunk));
    socket.on('end', () => this.sink?.gone());
    socket.on('close', () => this.sink?.gone());
    socket.on('error', (err: Error) => this.sink?.error(err));
  }
}

const links = new WeakMap<NisSocket, NisLink>();

/**
 * Points `socket`'s events at `sink` (undefined: nobody listens, events are dropped). The
 * first call installs the connection's permanent listeners, including its `error` listener.
 */
export function listenOn(socket: NisSocket, sink: NisLinkSink | undefined): void {
  let link = links.get(socket);
  if (link === undefined) {
    if (sink === undefined) return;
    link = new NisLink(socket);
    links.set(socket, link);
  }
  link.sink = sink;
}
