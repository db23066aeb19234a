import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { expandNutWildcards } from '../../../src/cli/expand-nut.ts';
import type { ShutdownSettings, UpsConfig } from '../../../src/config/load.ts';
import { ManualClock } from '../../../src/core/clock.ts';
import { Ups2MqttError } from '../../../src/core/errors.ts';
import { parseSourceUri } from '../../../src/sources/uri.ts';

const logger = pino({ level: 'silent' });
const OFF: ShutdownSettings = {
  mode: 'off',
  onBatteryForMs: null,
  batteryChargePct: null,
  runtimeS: null,
  secondariesGraceMs: 0,
  command: [],
  commandTimeoutMs: 0,
  graceMs: 0,
  upsCommand: null,
};
const ups = (source: string, extra: Partial<UpsConfig> = {}): UpsConfig => ({
  source,
  spec: parseSourceUri(source),
  pollIntervalMs: 1000,
  shutdown: OFF,
  ...extra,
});

describe('nut://host expansion', () => {
  it('one UPS per LIST UPS entry, ids from upsd names, explicit entries win', async () => {
    const asked: string[] = [];
    const out = await expandNutWildcards(
      [
        ups('nut://mon:pw@nas', { pollIntervalMs: 2000 }),
        ups('nut://nas/Rack-2', { id: 'rack' }),
        ups('nut://other/*', { id: 'o', name: 'Other' }),
        ups('sim://'),
      ],
      {
        list: async (spec) => {
          asked.push(spec.kind === 'nut' ? spec.host : '?');
          return spec.kind === 'nut' && spec.host === 'nas'
            ? [
                { name: 'ups1', description: 'Desk' },
                { name: 'Rack-2', description: '' },
              ]
            : [{ name: 'a.b', description: '' }];
        },
        logger,
        clock: new ManualClock(),
        retry: false,
      },
    );
    assert.deepEqual(asked, ['nas', 'other']);
    assert.deepEqual(
      out.map((u) => [u.id, u.name, u.source, u.pollIntervalMs]),
      [
        ['ups1', 'ups1', 'nut://mon@nas:3493/ups1', 2000],
        ['rack', undefined, 'nut://nas/Rack-2', 1000],
        ['o_a_b', 'Other a.b', 'nut://other:3493/a.b', 1000],
        [undefined, undefined, 'sim://', 1000],
      ],
    );
    assert.equal(out[0]?.shutdown, OFF, "the entry's other settings apply to each UPS");
    const first = out[0]?.spec;
    assert.ok(first?.kind === 'nut');
    assert.equal(first.password, 'pw');
    assert.equal(first.ups, 'ups1');
  });

  it('the NIS port of a wildcard entry goes to its first UPS only', async () => {
    const out = await expandNutWildcards([ups('nut://h', { nisPort: 3551 })], {
      list: async () => [
        { name: 'a', description: '' },
        { name: 'b', description: '' },
      ],
      logger,
      clock: new ManualClock(),
      retry: false,
    });
    assert.deepEqual(
      out.map((u) => [u.id, u.nisPort]),
      [
        ['a', 3551],
        ['b', undefined],
      ],
    );
  });

  it('a name that would reuse an id is left out; no retry fails at once', async () => {
    const out = await expandNutWildcards([ups('nut://h', {}), ups('sim://', { id: 'ups1' })], {
      list: async () => [{ name: 'UPS1', description: '' }],
      logger,
      clock: new ManualClock(),
      retry: false,
    });
    assert.deepEqual(
      out.map((u) => u.id),
      ['ups1'],
    );
    await assert.rejects(
      expandNutWildcards([ups('nut://h')], {
        list: async () => {
          throw new Ups2MqttError('CONNECT_FAILED', 'down');
        },
        logger,
        clock: new ManualClock(),
        retry: false,
      }),
      /down/,
    );
  });

  it('with retry, keeps asking an unreachable upsd with a growing wait', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const done = expandNutWildcards([ups('nut://h')], {
      list: async () => {
        calls++;
        if (calls < 3) throw new Ups2MqttError('CONNECT_FAILED', 'down');
        return [{ name: 'u', description: '' }];
      },
      logger,
      clock,
      retry: true,
      retryBaseMs: 100,
    });
    const tick = () => new Promise((r) => setImmediate(r));
    await tick();
    assert.equal(calls, 1);
    clock.advance(99);
    await tick();
    assert.equal(calls, 1);
    clock.advance(1);
    await tick();
    assert.equal(calls, 2);
    clock.advance(199);
    await tick();
    assert.equal(calls, 2);
    clock.advance(1);
    assert.deepEqual(
      (await done).map((u) => u.id),
      ['u'],
    );
  });
});
