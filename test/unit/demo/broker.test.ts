import * as assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { connectAsync, type IPublishPacket, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { isUps2MqttError } from '../../../src/core/errors.ts';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../../src/demo/broker.ts';

const logger = pino({ level: 'silent' });

/** Rejects when `promise` takes longer than `ms` (no test waits forever). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function connect(url: string): Promise<MqttClient> {
  return within(
    connectAsync(url, { reconnectPeriod: 0, connectTimeout: 2000 }),
    3000,
    `connect to ${url}`,
  );
}

/** Listens on port 0 of loopback and reports the port (a plain TCP server, not MQTT). */
async function occupyPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  assert.ok(addr !== null && typeof addr === 'object');
  return { server, port: addr.port };
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('embedded demo broker', () => {
  it('binds to loopback on a free port and reports it', async () => {
    const broker = await startEmbeddedBroker({ port: 0, logger });
    try {
      assert.equal(broker.host, '127.0.0.1');
      assert.ok(broker.port > 0);
      assert.equal(broker.url, `mqtt://127.0.0.1:${broker.port}`);
    } finally {
      await broker.close();
    }
  });

  it('delivers a retained publish to a later subscriber, retain flag set', async () => {
    const broker = await startEmbeddedBroker({ port: 0, logger });
    const pub = await connect(broker.url);
    const sub = await connect(broker.url);
    try {
      await pub.publishAsync('ups2mqtt/sim/state', '{"status":"online"}', { qos: 1, retain: true });
      const got = new Promise<IPublishPacket>((resolve) => {
        sub.on('message', (_topic, _payload, packet) => resolve(packet));
      });
      await sub.subscribeAsync('ups2mqtt/+/state', { qos: 1 });
      const packet = await within(got, 3000, 'retained message');
      assert.equal(packet.topic, 'ups2mqtt/sim/state');
      assert.equal(packet.payload.toString(), '{"status":"online"}');
      assert.equal(packet.retain, true);
    } finally {
      await pub.endAsync();
      await sub.endAsync();
      await broker.close();
    }
  });

  it('falls back to another port when the requested one is taken', async () => {
    const first = await startEmbeddedBroker({ port: 0, logger });
    let second: EmbeddedBroker | undefined;
    try {
      second = await startEmbeddedBroker({ port: first.port, logger });
      assert.notEqual(second.port, first.port);
      assert.ok(second.port > 0);
      const client = await connect(second.url);
      await client.endAsync();
    } finally {
      await second?.close();
      await first.close();
    }
  });

  it('without fallback, a taken port is a clear CONFIG_INVALID error', async () => {
    const taken = await occupyPort();
    try {
      await assert.rejects(
        startEmbeddedBroker({ port: taken.port, fallbackToFreePort: false, logger }),
        (err) => {
          assert.ok(isUps2MqttError(err, 'CONFIG_INVALID'), String(err));
          assert.equal(
            err.message,
            `demo broker: 127.0.0.1:${taken.port} is already in use (another MQTT broker?); choose another port or allow the fallback to a free port`,
          );
          assert.deepEqual(err.context, {
            host: '127.0.0.1',
            port: taken.port,
            code: 'EADDRINUSE',
          });
          return true;
        },
      );
    } finally {
      await closeServer(taken.server);
    }
  });

  it('refuses MQTT 5 clients (aedes 1.x speaks 3.1/3.1.1): the demo must connect with v4', async () => {
    const broker = await startEmbeddedBroker({ port: 0, logger });
    try {
      await assert.rejects(
        within(
          connectAsync(broker.url, {
            protocolVersion: 5,
            reconnectPeriod: 0,
            connectTimeout: 2000,
          }),
          3000,
          'v5 connect',
        ),
        /Unacceptable protocol version/,
      );
    } finally {
      await broker.close();
    }
  });

  it('close disconnects clients and releases the port', async () => {
    const broker = await startEmbeddedBroker({ port: 0, logger });
    const client = await connect(broker.url);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    await within(broker.close(), 3000, 'broker close');
    await within(closed, 3000, 'client sees the close');
    await broker.close(); // idempotent
    const again = await startEmbeddedBroker({
      port: broker.port,
      fallbackToFreePort: false,
      logger,
    });
    assert.equal(again.port, broker.port);
    await again.close();
    client.end(true);
  });

  it('close also drops a socket that never sent CONNECT', async () => {
    const broker = await startEmbeddedBroker({ port: 0, logger });
    const { connect: tcpConnect } = await import('node:net');
    const socket = tcpConnect(broker.port, '127.0.0.1');
    await once(socket, 'connect');
    const closed = once(socket, 'close');
    await within(broker.close(), 3000, 'broker close with an idle socket');
    await within(closed, 3000, 'idle socket closed');
  });
});
