/**
 * Entry point of the fake-NIS fleet process: hosts N {@link TimedNisMaster}s, each on its
 * own loopback port, and answers the driver over IPC. Running the fleet outside the bridge
 * keeps the bridge's CPU figure its own; running it outside the driver keeps the driver's
 * MQTT subscriber from delaying the replies. Exits when the driver goes away.
 */
import {
  type FleetCounts,
  type FleetReply,
  type FleetRequest,
  isFleetRequest,
} from './fleet-protocol.ts';
import { TimedNisMaster } from './timed-master.ts';

const masters: TimedNisMaster[] = [];

function send(reply: FleetReply): void {
  process.send?.(reply);
}

function counts(): FleetCounts {
  let status = 0;
  let events = 0;
  let total = 0;
  for (const m of masters) {
    status += m.requestCount('status');
    events += m.requestCount('events');
    total += m.requestCount();
  }
  return { status, events, total, statusPerServer: masters.map((m) => m.requestCount('status')) };
}

async function handle(request: FleetRequest): Promise<FleetReply> {
  switch (request.type) {
    case 'start': {
      const started: TimedNisMaster[] = [];
      for (let i = 0; i < request.count; i++) {
        // apcupsd's 15 s idle close (docs/protocols/nis.md#connections-and-timeouts), as the bridge may keep connections open.
        const master = new TimedNisMaster({
          stampLineV: request.stampLineV,
          stampEvery: request.stampEvery ?? 1,
          idleTimeoutMs: 15_000,
        });
        const records = master.records();
        if (!request.liveTimestamps && records !== undefined)
          master.setStatus(records, { liveTimestamps: false });
        started.push(master);
      }
      const ports: number[] = [];
      for (const m of started) ports.push(await m.start());
      masters.push(...started);
      return { id: request.id, type: 'started', ports };
    }
    case 'counts':
      return { id: request.id, type: 'counts', counts: counts() };
    case 'stop':
      await Promise.all(masters.map((m) => m.stop()));
      masters.length = 0;
      return { id: request.id, type: 'stopped' };
  }
}

process.on('message', (message: unknown) => {
  if (!isFleetRequest(message)) return;
  handle(message).then(send, (err: unknown) =>
    send({
      id: message.id,
      type: 'error',
      message: err instanceof Error ? err.message : String(err),
    }),
  );
});
// The driver died or closed the channel: nothing else would ever stop these servers.
process.on('disconnect', () => {
  void Promise.all(masters.map((m) => m.stop())).finally(() => process.exit(0));
});
