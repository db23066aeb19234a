import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateHealth, type HealthReasonCode } from '../../../src/http/health.ts';
import { FakeBridge, FakeUps, onlineState } from './fakes.ts';

const NOW = 1_800_000_000_000;
const OPTS = { staleAfterMs: 10_000 };

function ups(
  availability: 'online' | 'offline' | undefined,
  lastReadingAgeMs: number | null,
  id: string | null = 'office',
): FakeUps {
  const u = new FakeUps({
    id: id ?? undefined,
    currentAvailability: availability,
    state: onlineState(),
  });
  u.stats.lastReadingAt = lastReadingAgeMs === null ? 0 : NOW - lastReadingAgeMs;
  return u;
}

describe('evaluateHealth', () => {
  const cases: {
    name: string;
    mqtt: boolean;
    upses: FakeUps[];
    codes: HealthReasonCode[];
  }[] = [
    { name: 'connected and every UPS fresh', mqtt: true, upses: [ups('online', 900)], codes: [] },
    {
      name: 'broker disconnected',
      mqtt: false,
      upses: [ups('online', 900)],
      codes: ['mqtt_disconnected'],
    },
    { name: 'no UPS at all', mqtt: true, upses: [], codes: ['no_ups'] },
    {
      name: 'UPS never read (id not known yet: listed by position)',
      mqtt: true,
      upses: [ups(undefined, null, null)],
      codes: ['ups_not_read_yet'],
    },
    {
      name: 'UPS marked unavailable by the bridge',
      mqtt: true,
      upses: [ups('offline', 2000)],
      codes: ['ups_unavailable'],
    },
    {
      name: 'online but the last reading is older than staleAfterMs',
      mqtt: true,
      upses: [ups('online', 10_001)],
      codes: ['ups_stale'],
    },
    {
      name: 'exactly staleAfterMs old is still fresh',
      mqtt: true,
      upses: [ups('online', 10_000)],
      codes: [],
    },
    {
      name: 'every problem is listed, in order',
      mqtt: false,
      upses: [ups('online', 1), ups('offline', 5000, 'rack'), ups('online', 60_000, 'garage')],
      codes: ['mqtt_disconnected', 'ups_unavailable', 'ups_stale'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const view = new FakeBridge(c.upses);
      view.mqttConnected = c.mqtt;
      const report = evaluateHealth(view, NOW, OPTS);
      assert.deepEqual(
        report.reasons.map((r) => r.code),
        c.codes,
      );
      assert.equal(report.status, c.codes.length === 0 ? 'ok' : 'unhealthy');
      assert.deepEqual(report.mqtt, { connected: c.mqtt });
    });
  }

  it('reports each UPS with its key, availability and reading age, and names it in reasons', () => {
    const view = new FakeBridge([ups('online', 1234), ups(undefined, null, null)]);
    const report = evaluateHealth(view, NOW, OPTS);
    assert.deepEqual(report, {
      status: 'unhealthy',
      mqtt: { connected: true },
      upses: [
        { ups: 'office', availability: 'online', last_reading_age_s: 1.2 },
        { ups: 'ups2', availability: 'unknown', last_reading_age_s: null },
      ],
      reasons: [{ code: 'ups_not_read_yet', ups: 'ups2', message: 'ups2: not read yet' }],
    });
  });
});
