import * as assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { BoundedListener, isLoopbackHost } from '../../../src/servers/listener.ts';
import { captureLogger } from '../bridge/fakes.ts';

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

function closed(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed || s.readableEnded) resolve();
    else s.once('close', () => resolve());
  });
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

const base = { name: 'nis', host: '127.0.0.1', port: 0, maxPendingWriteBytes: 1024 };

describe('BoundedListener', () => {
  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost'])
      assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['0.0.0.0', '::', '192.168.1.2', '10.0.0.1'])
      assert.equal(isLoopbackHost(h), false, h);
  });

  it('closes the connection over maxClients and counts it', async () => {
    const { logger, lines } = captureLogger();
    const server = new BoundedListener(
      { ...base, maxClients: 2, idleTimeoutMs: 10_000 },
      () => {},
      logger,
    );
    const port = await server.start();
    const a = await open(port);
    const b = await open(port);
    const c = await open(port);
    await closed(c);
    assert.deepEqual({ ...server.stats }, { connections: 2, rejected: 1, requests: 0, active: 2 });
    assert.ok(lines.some((l) => l.msg === 'too many clients: connection closed'));
    await server.stop();
    await Promise.all([closed(a), closed(b)]);
    assert.equal(server.stats.active, 0);
  });

  it('disconnects an idle client', async () => {
    const { logger } = captureLogger();
    const server = new BoundedListener(
      { ...base, maxClients: 4, idleTimeoutMs: 100 },
      () => {},
      logger,
    );
    const port = await server.start();
    const a = await open(port);
    await closed(a);
    await until(() => server.stats.active === 0);
    assert.equal(server.stats.connections, 1);
    await server.stop();
  });

  it('disconnects a client that does not read its replies', async () => {
    const { logger, lines } = captureLogger();
    let sent = 0;
    const server = new BoundedListener(
      { ...base, maxClients: 4, idleTimeoutMs: 10_000 },
      (socket) => {
        const big = Buffer.alloc(64 * 1024, 0x41);
        const pump = (): void => {
          while (server.send(socket, big)) {
            sent++;
            if (sent > 10_000) return;
          }
        };
        pump();
      },
      logger,
    );
    const port = await server.start();
    const a = await open(port);
    a.pause();
    await until(() => server.stats.active === 0);
    a.destroy();
    assert.ok(sent < 10_000, `stopped after ${sent} writes`);
    assert.ok(lines.some((l) => l.msg === 'client does not read its replies: disconnected'));
    await server.stop();
  });

  it('warns when bound to a non-loopback address', async () => {
    const { logger, lines } = captureLogger();
    const server = new BoundedListener(
      { ...base, name: 'nut', host: '0.0.0.0', maxClients: 1, idleTimeoutMs: 1000 },
      () => {},
      logger,
    );
    await server.start();
    await server.stop();
    const warn = lines.find((l) => l.level === 'warn');
    assert.match(String(warn?.msg), /NUT server listens on a non-loopback address.*in clear/);
  });

  it('a throwing protocol handler closes that connection only', async () => {
    const { logger } = captureLogger();
    const server = new BoundedListener(
      { ...base, maxClients: 4, idleTimeoutMs: 10_000 },
      () => {
        throw new Error('boom');
      },
      logger,
    );
    const port = await server.start();
    const a = await open(port);
    await closed(a);
    const b = await open(port);
    await closed(b);
    assert.equal(server.stats.connections, 2);
    await server.stop();
  });
});
