/**
 * Preloaded into the bridge under test (`node --expose-gc --import tsx --import probe.ts`):
 * answers a snapshot request on the Node IPC channel with the heap after a full GC, the RSS
 * and the handles keeping the event loop alive (`process.getActiveResourcesInfo()`: one
 * `Timeout` per live timer, `TCPSocketWrap` per socket, ...).
 *
 * It changes nothing in the bridge: the channel is unreferenced, so it neither keeps the
 * process alive nor shows up among the resources it counts, and it only acts when asked.
 */

interface ProbeRequest {
  readonly type: 'ups2mqtt-probe';
  readonly id: number;
}

function isRequest(message: unknown): message is ProbeRequest {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'ups2mqtt-probe' &&
    typeof (message as { id?: unknown }).id === 'number'
  );
}

const send = process.send?.bind(process);
if (send !== undefined) {
  process.on('message', (message: unknown) => {
    if (!isRequest(message)) return;
    const gc = (globalThis as { gc?: () => void }).gc;
    // Twice: the first pass may only schedule finalizers whose memory the second frees.
    gc?.();
    gc?.();
    const memory = process.memoryUsage();
    send({
      type: 'ups2mqtt-probe-reply',
      id: message.id,
      gcAvailable: gc !== undefined,
      heapUsed: memory.heapUsed,
      rss: memory.rss,
      resources: process.getActiveResourcesInfo(),
    });
  });
  // Adding the listener referenced the channel again; the bridge must exit as it would alone.
  process.channel?.unref();
}
