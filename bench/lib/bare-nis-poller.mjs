/**
 * The floor for "one NIS UPS polled every second" in Node: a 1 s timer, one `status` request
 * per tick over a new TCP connection, the reply read to its `00 00` end and thrown away
 * (nothing parsed, nothing published). Plain JavaScript on purpose: it runs as `node
 * bench/lib/bare-nis-poller.mjs PORT` with no loader, so its CPU and RSS are Node's own.
 *
 * Framing per docs/protocols/nis.md#framing: 2-byte big-endian length, then the bytes.
 */
import { connect } from 'node:net';

const port = Number(process.argv[2]);
const intervalMs = Number(process.argv[3] ?? 1000);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: node bare-nis-poller.mjs PORT [INTERVAL_MS]\n');
  process.exit(64);
}

const request = Buffer.from([0, 6, ...Buffer.from('status', 'latin1')]);
let replies = 0;

/** True when the bytes end with an empty message (`00 00`) at a frame boundary. */
function complete(bytes) {
  let at = 0;
  while (at + 2 <= bytes.length) {
    const length = bytes.readUInt16BE(at);
    if (length === 0) return true;
    at += 2 + length;
  }
  return false;
}

function poll() {
  const chunks = [];
  const socket = connect({ host: '127.0.0.1', port });
  socket.setTimeout(5000, () => socket.destroy());
  socket.on('connect', () => socket.write(request));
  socket.on('data', (chunk) => {
    chunks.push(chunk);
    if (complete(Buffer.concat(chunks))) {
      replies += 1;
      socket.end();
    }
  });
  socket.on('error', () => socket.destroy());
}

setInterval(poll, intervalMs);
process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ replies })}\n`);
  process.exit(0);
});
