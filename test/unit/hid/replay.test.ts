import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplayDevice, ReplayEnumerator } from '../../../src/sources/hid/replay.ts';
import { ES850G2, loadCapture } from './helpers.ts';

/** Opens the replayed device and asks for its first Feature report `times` times, then writes it back once. */
async function exercise(device: ReplayDevice, times: number): Promise<number> {
  const enumerator = new ReplayEnumerator(device);
  const [info] = await enumerator.list();
  assert.ok(info, 'the replayed device is listed');
  const transport = await enumerator.open(info);
  const id = device.getFeature(0x0c) === undefined ? 0x06 : 0x0c;
  let bytes: Uint8Array = new Uint8Array();
  for (let i = 0; i < times; i++) bytes = await transport.getFeatureReport(id, 65);
  await transport.sendFeatureReport(bytes);
  await transport.close();
  return id;
}

describe('ReplayDevice record', () => {
  it('keeps no record of reads and writes by default: a long hid-replay:// run must not grow with every poll', async () => {
    const device = new ReplayDevice(loadCapture(ES850G2), 'replay:es');
    await exercise(device, 1000);
    assert.equal(device.recording, false);
    assert.deepEqual(
      [device.reads.length, device.readLengths.length, device.writes.length],
      [0, 0, 0],
    );
  });

  it('records every GET (id and length) and SET in order when asked, for tests', async () => {
    const device = new ReplayDevice(loadCapture(ES850G2), 'replay:es', { record: true });
    const id = await exercise(device, 3);
    assert.deepEqual(device.reads, [id, id, id]);
    assert.deepEqual(device.readLengths, [65, 65, 65]);
    assert.equal(device.writes.length, 1);
    assert.equal(device.writes[0]?.[0], id);
  });
});
