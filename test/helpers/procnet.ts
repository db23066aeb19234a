/**
 * TCP sockets as the kernel lists them in /proc/net/tcp (IPv4): lets a test see which
 * connections exist to a port without touching the processes that own them.
 */
import { readFileSync } from 'node:fs';

/** One IPv4 TCP socket. */
export interface TcpSocketEntry {
  readonly localPort: number;
  readonly remotePort: number;
  /** The kernel's state name: ESTABLISHED, TIME_WAIT, LISTEN, ... */
  readonly state: string;
}

const STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

/** Every IPv4 TCP socket of this network namespace. */
export function tcpSockets(): TcpSocketEntry[] {
  const lines = readFileSync('/proc/net/tcp', 'latin1').split('\n').slice(1);
  const entries: TcpSocketEntry[] = [];
  for (const line of lines) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const remote = fields[2];
    const state = fields[3];
    if (local === undefined || remote === undefined || state === undefined) continue;
    entries.push({
      localPort: Number.parseInt(local.split(':')[1] ?? '', 16),
      remotePort: Number.parseInt(remote.split(':')[1] ?? '', 16),
      state: STATES[state.toUpperCase()] ?? state,
    });
  }
  return entries;
}

/** Local ports of the client sockets connected to `serverPort` right now. */
export function establishedClientPorts(serverPort: number): number[] {
  return tcpSockets()
    .filter((s) => s.remotePort === serverPort && s.state === 'ESTABLISHED')
    .map((s) => s.localPort);
}
