// The bare Node floor of bench/side-by-side.ts: what any Node process that polls apcupsd's
// NIS once a second costs at least. A 1 s timer, one `status` request per tick on a new
// connection, the reply split into frames and counted; no MQTT, no parsing beyond framing.
// Plain JavaScript so it runs on bare `node` (no TypeScript loader in the measured process).
// usage: node bench/lib/nis-floor.mjs <nisPort> [intervalSeconds]
import { createConnection } from 'node:net';

const port = Number(process.argv[2]);
const intervalMs = Number(process.argv[3] ?? '1') * 1000;
let replies = 0;

function poll() {
  const socket = createConnection({ port, host: '127.0.0.1' });
  let buf = Buffer.alloc(0);
  let lines = 0;
  socket.setTimeout(5000, () => socket.destroy());
  socket.on('error', () => {});
  socket.once('connect', () => {
    const frame = Buffer.alloc(8);
    frame.writeUInt16BE(6, 0);
    frame.write('status', 2, 'latin1');
    socket.write(frame);
  });
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const size = buf.readUInt16BE(0);
      buf = buf.subarray(2 + size);
      if (size === 0) {
        replies += lines > 0 ? 1 : 0;
        socket.destroy();
        return;
      }
      lines += 1;
    }
  });
}

setInterval(poll, intervalMs);
process.on('SIGTERM', () => {
  process.stdout.write(`nis-floor: ${replies} replies\n`);
  process.exit(0);
});
