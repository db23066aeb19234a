/**
 * How UpsBridge runs state extensions: the UPS id reaches them, their sticky keys and the
 * keys they add are discovered, their events are published after the state's own, and
 * stop() lets them persist.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UpsBridge } from '../../../src/bridge/ups-bridge.ts';
import type { UpsEvent } from '../../../src/core/events.ts';
import type { ExtensionContext, StateExtension } from '../../../src/core/ports.ts';
import type { UpsData, UpsState } from '../../../src/core/state.ts';
import { Topics } from '../../../src/mqtt/topics.ts';
import { EnergyExtension } from '../../../src/policy/energy.ts';
import { OutageExtension } from '../../../src/policy/outages.ts';
import { captureLogger, ManualClock, RecordingPublisher, ScriptedSource, tick } from './fakes.ts';

const root = mkdtempSync(join(tmpdir(), 'ups2mqtt-ext-'));
after(() => rmSync(root, { recursive: true, force: true }));

const MAINS: UpsData = {
  serial_number: 'EXT0001',
  online: true,
  on_battery: false,
  battery_charge_pct: 100,
  load_w: 360,
};
const BATTERY: UpsData = { ...MAINS, online: false, on_battery: true, battery_charge_pct: 97 };

/** Records what the bridge hands it; a plain two-argument extension stays valid too. */
class Spy implements StateExtension {
  readonly contexts: (ExtensionContext | undefined)[] = [];
  stopped = 0;
  extend(_state: UpsState, _good: boolean, ctx?: ExtensionContext): void {
    this.contexts.push(ctx);
  }
  stop(): void {
    this.stopped++;
  }
}

describe('UpsBridge with state extensions', () => {
  it('discovers sticky and added keys, publishes outage events after power_lost, stops them', async () => {
    const clock = new ManualClock(Date.parse('2026-11-21T10:00:00Z'));
    const publisher = new RecordingPublisher();
    const { logger } = captureLogger();
    const source = new ScriptedSource();
    const spy = new Spy();
    const legacy: StateExtension = {
      extend: (s: UpsState) => {
        s.self_test_code = 'legacy';
      },
    };
    const discovered: string[][] = [];
    const dataDir = join(root, 'bridge');
    const bridge = new UpsBridge(
      { id: 'rack', pollIntervalMs: 1000, heartbeatIntervalMs: 60_000, maxDataAgeS: 180 },
      {
        source,
        publisher,
        topics: new Topics('ups2mqtt'),
        clock,
        logger,
        discovery: { update: async (_u, _s, keys) => void discovered.push([...keys]) },
        extensions: [
          spy,
          legacy,
          new OutageExtension({ dataDir, logger }),
          new EnergyExtension({ maxGapMs: 3000 }, { dataDir, logger }),
        ],
      },
    );
    source.next = { data: MAINS };
    await bridge.start();
    await tick(clock, 0);
    const first = new Set(discovered[0]);
    for (const key of ['outages_total', 'last_outage_duration_s', 'energy_kwh', 'self_test_code'])
      assert.ok(first.has(key), `${key} discovered with the first reading`);
    assert.deepEqual(spy.contexts[0], { upsId: 'rack' });
    const state0 = JSON.parse(publisher.last('ups2mqtt/rack/state')?.payload ?? '{}');
    assert.equal(state0.outages_total, 0);
    assert.equal(state0.energy_kwh, 0);

    source.next = { data: BATTERY };
    await tick(clock, 1000);
    const events = publisher
      .on('ups2mqtt/rack/event')
      .map((m) => JSON.parse(m.payload) as UpsEvent);
    assert.deepEqual(
      events.map((e) => e.event_type),
      ['power_lost', 'outage_started'],
    );
    const state1 = JSON.parse(publisher.last('ups2mqtt/rack/state')?.payload ?? '{}');
    assert.equal(state1.outages_total, 1);
    assert.equal(state1.last_outage_started_at, '2026-11-21T10:00:01.000Z');
    // The state that announces the outage is published before its event.
    const order = publisher.messages.map((m) => m.topic);
    assert.ok(
      order.lastIndexOf('ups2mqtt/rack/state') <
        order.findIndex(
          (t, i) =>
            t === 'ups2mqtt/rack/event' &&
            JSON.parse(publisher.messages[i]?.payload ?? '{}').event_type === 'outage_started',
        ),
    );

    source.next = { data: MAINS };
    await tick(clock, 1000);
    const ended = publisher
      .on('ups2mqtt/rack/event')
      .map((m) => JSON.parse(m.payload) as UpsEvent)
      .slice(2);
    assert.deepEqual(
      ended.map((e) => [e.event_type, e.duration_s, e.min_charge_pct]),
      [
        ['power_restored', undefined, undefined],
        ['outage_ended', 1, 97],
      ],
    );
    await bridge.stop();
    assert.equal(spy.stopped, 1);
  });
});
