/**
 * Preloaded into a bridge under test that reads `hid-replay://` (BridgeUnderTest.start with
 * `preload: [this file]`): makes the replayed USB UPS fail the way node-hid reports a real
 * one failing, on request over the Node IPC channel. Test-only: it wraps the replay
 * adapter's prototypes (src/sources/hid/replay.ts, the same module instance the CLI loads),
 * so the CLI, the source and the bridge run unchanged.
 *
 * Faults (message `{ type: 'ups2mqtt-hid-fault', id, action }`):
 * - `unplug`: as a USB unplug seen by node-hid's read thread: every open handle gets an
 *   asynchronous error "could not read from HID device" (NodeHidTransport's onError makes it
 *   `gone`), the device leaves enumeration and cannot be opened;
 * - `unplug-quiet`: gone from enumeration, but no error event: the next GET_REPORT throws
 *   "could not get feature report from device" (`io`, as NodeHidTransport wraps it), as when
 *   the interrupt pipe is unused or has not noticed yet;
 * - `replug`: enumerated and openable again (old handles stay dead);
 * - `stall`: GET_REPORT never completes (the device still enumerates and opens);
 * - `resume`: transfers complete again, the held ones too (a stalled transfer that finishes).
 *
 * Each message is answered with `{ type: 'ups2mqtt-hid-fault-ack', id, action, at }` once in
 * effect (`at`: Date.now() in the bridge process).
 */
import { ReplayDevice, ReplayEnumerator, ReplayTransport } from '../../src/sources/hid/replay.ts';
import { type HidDeviceInfo, HidTransportError } from '../../src/sources/hid/transport.ts';

export type HidFaultAction = 'unplug' | 'unplug-quiet' | 'replug' | 'stall' | 'resume';

const open = new Set<ReplayTransport>();
const dead = new WeakSet<ReplayTransport>();
let gone = false;
let stalled = false;
let held: (() => void)[] = [];

const attach = ReplayDevice.prototype.attach;
ReplayDevice.prototype.attach = function (this: ReplayDevice, t: ReplayTransport): void {
  open.add(t);
  attach.call(this, t);
};
const detach = ReplayDevice.prototype.detach;
ReplayDevice.prototype.detach = function (this: ReplayDevice, t: ReplayTransport): void {
  open.delete(t);
  detach.call(this, t);
};

const list = ReplayEnumerator.prototype.list;
ReplayEnumerator.prototype.list = function (this: ReplayEnumerator): Promise<HidDeviceInfo[]> {
  return gone ? Promise.resolve([]) : list.call(this);
};
const openDevice = ReplayEnumerator.prototype.open;
ReplayEnumerator.prototype.open = function (this: ReplayEnumerator, info: HidDeviceInfo) {
  if (gone) return Promise.reject(new Error(`could not open HID device ${info.path}`));
  return openDevice.call(this, info);
};

const getFeature = ReplayTransport.prototype.getFeatureReport;
ReplayTransport.prototype.getFeatureReport = function (
  this: ReplayTransport,
  reportId: number,
  length: number,
): Promise<Uint8Array> {
  if (dead.has(this)) {
    return Promise.reject(new HidTransportError('io', 'could not get feature report from device'));
  }
  if (!stalled) return getFeature.call(this, reportId, length);
  return new Promise((resolve, reject) => {
    held.push(() => getFeature.call(this, reportId, length).then(resolve, reject));
  });
};

function apply(action: HidFaultAction): void {
  switch (action) {
    case 'unplug':
      gone = true;
      for (const t of [...open]) {
        dead.add(t);
        t.fail(new HidTransportError('gone', 'could not read from HID device'));
      }
      return;
    case 'unplug-quiet':
      gone = true;
      for (const t of open) dead.add(t);
      return;
    case 'replug':
      gone = false;
      return;
    case 'stall':
      stalled = true;
      return;
    case 'resume': {
      stalled = false;
      const waiting = held;
      held = [];
      for (const release of waiting) release();
      return;
    }
  }
}

interface FaultRequest {
  readonly type: 'ups2mqtt-hid-fault';
  readonly id: number;
  readonly action: HidFaultAction;
}

function isRequest(message: unknown): message is FaultRequest {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'ups2mqtt-hid-fault'
  );
}

const send = process.send?.bind(process);
if (send !== undefined) {
  process.on('message', (message: unknown) => {
    if (!isRequest(message)) return;
    apply(message.action);
    send({
      type: 'ups2mqtt-hid-fault-ack',
      id: message.id,
      action: message.action,
      at: Date.now(),
    });
  });
  // As the probe: the listener must not keep the bridge alive.
  process.channel?.unref();
}
