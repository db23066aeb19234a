import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { register } from 'prom-client';
import { createMetricsRegistry } from '../../../src/http/metrics.ts';
import { FakeBridge, FakeUps, onlineState } from './fakes.ts';

function sampleLines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

function bridge(): FakeBridge {
  const office = new FakeUps({
    id: 'office',
    name: 'Office',
    currentAvailability: 'online',
    state: onlineState({
      status: 'on_battery',
      online: false,
      on_battery: true,
      input_voltage_v: 0,
    }),
    source: 'nis://10.0.0.2:3551',
  });
  Object.assign(office.stats, {
    polls: 120,
    pollErrors: 2,
    statePublishes: 40,
    events: 3,
    lastReadMs: 12,
    lastReadingAt: 1_800_000_000_500,
  });
  const b = new FakeBridge([office]);
  b.mqttStats = { publishes: 77, publishFailures: 1, dropped: 4, connects: 2 };
  return b;
}

describe('createMetricsRegistry', () => {
  it('exports per-UPS gauges, flags, status set and counters with their exact names', async () => {
    const text = await createMetricsRegistry(bridge(), { version: '1.2.3' }).metrics();
    const lines = sampleLines(text);
    for (const expected of [
      'ups2mqtt_build_info{version="1.2.3"} 1',
      'ups2mqtt_mqtt_connected 1',
      'ups2mqtt_mqtt_publishes_total 77',
      'ups2mqtt_mqtt_publish_failures_total 1',
      'ups2mqtt_mqtt_dropped_total 4',
      'ups2mqtt_mqtt_connects_total 2',
      'ups2mqtt_ups_info{ups="office",name="Office",model="Smart-UPS 1500",serial_number="AS1234567890",source="nis://10.0.0.2:3551"} 1',
      'ups2mqtt_ups_available{ups="office"} 1',
      'ups2mqtt_ups_status{ups="office",status="online"} 0',
      'ups2mqtt_ups_status{ups="office",status="on_battery"} 1',
      'ups2mqtt_ups_battery_charge_percent{ups="office"} 100',
      'ups2mqtt_ups_runtime_seconds{ups="office"} 3000',
      'ups2mqtt_ups_load_percent{ups="office"} 18',
      'ups2mqtt_ups_load_watts{ups="office"} 180',
      'ups2mqtt_ups_input_voltage_volts{ups="office"} 0',
      'ups2mqtt_ups_online{ups="office"} 0',
      'ups2mqtt_ups_on_battery{ups="office"} 1',
      'ups2mqtt_ups_polls_total{ups="office"} 120',
      'ups2mqtt_ups_poll_errors_total{ups="office"} 2',
      'ups2mqtt_ups_state_publishes_total{ups="office"} 40',
      'ups2mqtt_ups_events_total{ups="office"} 3',
      'ups2mqtt_ups_last_read_duration_seconds{ups="office"} 0.012',
      'ups2mqtt_ups_last_reading_timestamp_seconds{ups="office"} 1800000000.5',
    ]) {
      assert.ok(lines.includes(expected), `missing: ${expected}\n${text}`);
    }
    assert.match(text, /^# TYPE ups2mqtt_ups_polls_total counter$/m);
    assert.match(text, /^# TYPE ups2mqtt_ups_battery_charge_percent gauge$/m);
  });

  it('omits values the UPS does not report, and every measurement while unavailable', async () => {
    const b = bridge();
    const office = b.bridges[0] as FakeUps;
    // What UpsBridge publishes while unreachable: the reduced state, no measurements.
    office.state = { status: 'comm_lost', comm_lost: true, updated_at: '2026-11-21T10:00:00Z' };
    office.currentAvailability = 'offline';
    const lines = sampleLines(await createMetricsRegistry(b, { version: '1' }).metrics());
    assert.ok(lines.includes('ups2mqtt_ups_available{ups="office"} 0'));
    assert.ok(lines.includes('ups2mqtt_ups_status{ups="office",status="comm_lost"} 1'));
    assert.equal(lines.filter((l) => l.startsWith('ups2mqtt_ups_battery_charge')).length, 0);
    assert.equal(lines.filter((l) => l.startsWith('ups2mqtt_ups_online')).length, 0);
  });

  it('reads the bridge at every scrape', async () => {
    const b = bridge();
    const registry = createMetricsRegistry(b, { version: '1' });
    assert.ok(sampleLines(await registry.metrics()).includes('ups2mqtt_mqtt_connected 1'));
    b.mqttConnected = false;
    (b.bridges[0] as FakeUps).stats.polls = 121;
    const lines = sampleLines(await registry.metrics());
    assert.ok(lines.includes('ups2mqtt_mqtt_connected 0'));
    assert.ok(lines.includes('ups2mqtt_ups_polls_total{ups="office"} 121'));
  });

  it('uses its own registry: two bridges do not collide and the global one stays empty', async () => {
    const a = createMetricsRegistry(bridge(), { version: '1' });
    const b = createMetricsRegistry(bridge(), { version: '2' });
    assert.ok((await a.metrics()).includes('version="1"'));
    assert.ok((await b.metrics()).includes('version="2"'));
    assert.equal(await register.metrics(), '\n');
  });

  it('counts connections and requests per protocol server, labelled server and port', async () => {
    const b = bridge();
    const stats = { connections: 5, rejected: 1, requests: 12, active: 2 };
    Object.assign(b, {
      servers: [
        { protocol: 'nis', port: 3551, stats },
        {
          protocol: 'nis',
          port: 3552,
          stats: { connections: 0, rejected: 0, requests: 0, active: 0 },
        },
      ],
    });
    const registry = createMetricsRegistry(b, { version: '1' });
    const lines = sampleLines(await registry.metrics()).filter((l) =>
      l.startsWith('ups2mqtt_server_'),
    );
    assert.deepEqual(lines, [
      'ups2mqtt_server_connections_total{server="nis",port="3551"} 5',
      'ups2mqtt_server_connections_total{server="nis",port="3552"} 0',
      'ups2mqtt_server_rejected_connections_total{server="nis",port="3551"} 1',
      'ups2mqtt_server_rejected_connections_total{server="nis",port="3552"} 0',
      'ups2mqtt_server_requests_total{server="nis",port="3551"} 12',
      'ups2mqtt_server_requests_total{server="nis",port="3552"} 0',
      'ups2mqtt_server_clients{server="nis",port="3551"} 2',
      'ups2mqtt_server_clients{server="nis",port="3552"} 0',
    ]);
    // Read at scrape time: a new request shows up on the next scrape.
    stats.requests++;
    assert.ok(
      (await registry.metrics()).includes(
        'ups2mqtt_server_requests_total{server="nis",port="3551"} 13',
      ),
    );
  });

  it('has no server series when no protocol server runs', async () => {
    const text = await createMetricsRegistry(bridge(), { version: '1' }).metrics();
    assert.equal(sampleLines(text).filter((l) => l.startsWith('ups2mqtt_server_')).length, 0);
  });

  it('serves the Prometheus text content type', () => {
    const registry = createMetricsRegistry(bridge(), { version: '1' });
    assert.equal(registry.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  });
});
