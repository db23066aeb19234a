/** Shared set-up of the ApcSmartSource unit tests: the source on a fake port, the simulated SU420 behind it. */
import * as assert from 'node:assert/strict';
import { afterEach } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { createApcSmartSource } from '../../../src/sources/apcsmart/source.ts';
import { type SimTiming, SmartUpsModel } from '../../helpers/smart-ups-sim/model.ts';
import { captureLogger, drive, FakeTransport } from './fakes.ts';

const models: SmartUpsModel[] = [];
afterEach(() => {
  for (const m of models.splice(0)) m.stop();
});

/** The source on a fake port whose far end is the simulated SU420. */
export function setup(timing: Partial<SimTiming> = {}) {
  const clock = new ManualClock(1_000_000);
  const ports: FakeTransport[] = [];
  let openFailure: Error | undefined;
  const model = new SmartUpsModel(
    { send: (bytes) => ports.at(-1)?.feed(bytes), now: () => clock.now() },
    timing,
  );
  models.push(model);
  const { logger, lines } = captureLogger();
  const source = createApcSmartSource(
    { kind: 'apcsmart', path: '/dev/ttyS0' },
    {
      logger,
      clock,
      openTransport: async (path) => {
        assert.equal(path, '/dev/ttyS0');
        if (openFailure) throw openFailure;
        const port = new FakeTransport(clock);
        port.peer = (b) => {
          model.receive(Buffer.from(b, 'latin1'));
          return undefined;
        };
        ports.push(port);
        return port;
      },
    },
  );
  let wakes = 0;
  source.onWake(() => {
    wakes++;
  });
  const read = () => drive(clock, source.read(new AbortController().signal));
  const port = (): FakeTransport => {
    const p = ports.at(-1);
    assert.ok(p);
    return p;
  };
  return {
    clock,
    model,
    source,
    read,
    port,
    ports,
    logs: lines,
    wakes: () => wakes,
    failOpen: (err: Error | undefined) => {
      openFailure = err;
    },
  };
}

/** What the source sends at start-up (after the port opened) and on every poll, for the SU420. */
export const START_UP = 'Y\x01abnmxcgolueprqksE';
export const POLL = "QfjLOPBFMNGX~'8";
