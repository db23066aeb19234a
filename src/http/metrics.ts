/**
 * `GET /metrics`: Prometheus text format through prom-client, with one Registry per server
 * (never the library's global default, so two bridges in one process or one test file do not
 * share series). Every value is read from the bridge at scrape time; nothing is cached.
 *
 * Naming follows the Prometheus conventions (base units, `_total` for counters, `_info`
 * for constant-1 label carriers). A state key the UPS does not report has no sample, the
 * same rule the MQTT state follows; while a UPS is unavailable its state carries no
 * measurements, so its gauges vanish instead of repeating old values.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { UPS_STATUSES, type UpsState } from '../core/state.ts';
import { type BridgeView, type UpsView, upsKey } from './view.ts';

/** Numeric state keys exported as per-UPS gauges. */
export const UPS_GAUGES = [
  {
    key: 'battery_charge_pct',
    name: 'ups2mqtt_ups_battery_charge_percent',
    help: 'Battery charge (%).',
  },
  {
    key: 'runtime_s',
    name: 'ups2mqtt_ups_runtime_seconds',
    help: 'Estimated runtime on battery (s).',
  },
  {
    key: 'load_pct',
    name: 'ups2mqtt_ups_load_percent',
    help: 'Load, % of the nominal real power.',
  },
  {
    key: 'load_w',
    name: 'ups2mqtt_ups_load_watts',
    help: 'Load (W), derived from load % and nominal power.',
  },
  {
    key: 'input_voltage_v',
    name: 'ups2mqtt_ups_input_voltage_volts',
    help: 'Input (mains) voltage (V).',
  },
  {
    key: 'input_frequency_hz',
    name: 'ups2mqtt_ups_input_frequency_hertz',
    help: 'Input frequency (Hz).',
  },
  {
    key: 'output_voltage_v',
    name: 'ups2mqtt_ups_output_voltage_volts',
    help: 'Output voltage (V).',
  },
  {
    key: 'battery_voltage_v',
    name: 'ups2mqtt_ups_battery_voltage_volts',
    help: 'Battery voltage (V).',
  },
  {
    key: 'internal_temp_c',
    name: 'ups2mqtt_ups_internal_temperature_celsius',
    help: 'Internal temperature (°C).',
  },
  {
    key: 'time_on_battery_s',
    name: 'ups2mqtt_ups_time_on_battery_seconds',
    help: 'Time on battery since the last transfer (s).',
  },
] as const satisfies readonly { key: keyof UpsState; name: string; help: string }[];

/** Boolean state flags exported as 0/1 gauges. */
export const UPS_FLAG_GAUGES = [
  { key: 'online', name: 'ups2mqtt_ups_online', help: '1 when the UPS runs on mains power.' },
  { key: 'on_battery', name: 'ups2mqtt_ups_on_battery', help: '1 when the UPS runs on battery.' },
  { key: 'low_battery', name: 'ups2mqtt_ups_low_battery', help: '1 when the battery is low.' },
  {
    key: 'replace_battery',
    name: 'ups2mqtt_ups_replace_battery',
    help: '1 when the battery needs replacing.',
  },
  { key: 'overload', name: 'ups2mqtt_ups_overload', help: '1 when the UPS is overloaded.' },
] as const satisfies readonly { key: keyof UpsState; name: string; help: string }[];

/** The bridge's own per-UPS counters (UpsBridge.stats). */
const UPS_COUNTERS = [
  { stat: 'polls', name: 'ups2mqtt_ups_polls_total', help: 'Readings attempted.' },
  { stat: 'pollErrors', name: 'ups2mqtt_ups_poll_errors_total', help: 'Readings that failed.' },
  {
    stat: 'statePublishes',
    name: 'ups2mqtt_ups_state_publishes_total',
    help: 'State messages published.',
  },
  { stat: 'events', name: 'ups2mqtt_ups_events_total', help: 'Event messages published.' },
] as const;

/** The MQTT gateway's counters (MqttGateway.stats). */
const MQTT_COUNTERS = [
  {
    stat: 'publishes',
    name: 'ups2mqtt_mqtt_publishes_total',
    help: 'Messages published to the broker.',
  },
  {
    stat: 'publishFailures',
    name: 'ups2mqtt_mqtt_publish_failures_total',
    help: 'Publishes the broker or client refused.',
  },
  {
    stat: 'dropped',
    name: 'ups2mqtt_mqtt_dropped_total',
    help: 'Messages dropped while disconnected.',
  },
  {
    stat: 'connects',
    name: 'ups2mqtt_mqtt_connects_total',
    help: 'Successful (re)connections to the broker.',
  },
] as const;

/** Counters of the protocol servers (NIS, NUT), labelled `server` (protocol) and `port`. */
const SERVER_COUNTERS = [
  {
    stat: 'connections',
    name: 'ups2mqtt_server_connections_total',
    help: 'Client connections accepted by a protocol server (NIS, NUT).',
  },
  {
    stat: 'rejected',
    name: 'ups2mqtt_server_rejected_connections_total',
    help: 'Client connections closed at once because the server had its maximum of clients.',
  },
  {
    stat: 'requests',
    name: 'ups2mqtt_server_requests_total',
    help: 'Requests answered by a protocol server.',
  },
] as const;

/** Constant facts exported with the metrics. */
export interface MetricsInfo {
  /** The package version, exported as ups2mqtt_build_info{version}. */
  version: string;
}

/** Each UPS with the key its series are labelled with. */
function keyed(view: BridgeView): [string, UpsView][] {
  return view.bridges.map((u, i) => [upsKey(u, i), u]);
}

function flag(value: boolean | undefined): number {
  return value === true ? 1 : 0;
}

/** Builds a fresh registry whose metrics read `view` on every scrape. */
export function createMetricsRegistry(view: BridgeView, info: MetricsInfo): Registry {
  const registry = new Registry();
  const registers = [registry];

  new Gauge({
    name: 'ups2mqtt_build_info',
    help: 'Always 1; the version label names the running ups2mqtt.',
    labelNames: ['version'],
    registers,
    collect() {
      this.reset();
      this.set({ version: info.version }, 1);
    },
  });
  new Gauge({
    name: 'ups2mqtt_mqtt_connected',
    help: '1 while the bridge is connected to the MQTT broker.',
    registers,
    collect() {
      this.set(view.mqttConnected ? 1 : 0);
    },
  });
  for (const c of MQTT_COUNTERS) {
    new Counter({
      name: c.name,
      help: c.help,
      registers,
      collect() {
        this.reset();
        this.inc(view.mqttStats[c.stat]);
      },
    });
  }

  for (const c of SERVER_COUNTERS) {
    new Counter({
      name: c.name,
      help: c.help,
      labelNames: ['server', 'port'],
      registers,
      collect() {
        this.reset();
        for (const srv of view.servers ?? []) {
          this.inc({ server: srv.protocol, port: String(srv.port) }, srv.stats[c.stat]);
        }
      },
    });
  }
  new Gauge({
    name: 'ups2mqtt_server_clients',
    help: 'Clients connected to a protocol server now.',
    labelNames: ['server', 'port'],
    registers,
    collect() {
      this.reset();
      for (const srv of view.servers ?? []) {
        this.set({ server: srv.protocol, port: String(srv.port) }, srv.stats.active);
      }
    },
  });

  new Gauge({
    name: 'ups2mqtt_ups_info',
    help: 'Always 1; labels carry the name, model, serial number and source of each UPS.',
    labelNames: ['ups', 'name', 'model', 'serial_number', 'source'],
    registers,
    collect() {
      this.reset();
      for (const [ups, u] of keyed(view)) {
        this.set(
          {
            ups,
            name: u.name ?? '',
            model: u.state?.model ?? '',
            serial_number: u.state?.serial_number ?? '',
            source: u.sourceDescription,
          },
          1,
        );
      }
    },
  });
  new Gauge({
    name: 'ups2mqtt_ups_available',
    help: '1 when the UPS is read and its data fresh (its availability topic says online).',
    labelNames: ['ups'],
    registers,
    collect() {
      this.reset();
      for (const [ups, u] of keyed(view)) {
        this.set({ ups }, u.currentAvailability === 'online' ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'ups2mqtt_ups_status',
    help: 'One series per status value; 1 for the current status of the UPS (enum as a state set).',
    labelNames: ['ups', 'status'],
    registers,
    collect() {
      this.reset();
      for (const [ups, u] of keyed(view)) {
        if (!u.state) continue;
        for (const status of UPS_STATUSES) {
          this.set({ ups, status }, u.state.status === status ? 1 : 0);
        }
      }
    },
  });
  for (const g of UPS_GAUGES) {
    new Gauge({
      name: g.name,
      help: g.help,
      labelNames: ['ups'],
      registers,
      collect() {
        this.reset();
        for (const [ups, u] of keyed(view)) {
          const value = u.state?.[g.key];
          if (typeof value === 'number' && Number.isFinite(value)) this.set({ ups }, value);
        }
      },
    });
  }
  for (const f of UPS_FLAG_GAUGES) {
    new Gauge({
      name: f.name,
      help: f.help,
      labelNames: ['ups'],
      registers,
      collect() {
        this.reset();
        for (const [ups, u] of keyed(view)) {
          const value = u.state?.[f.key];
          if (typeof value === 'boolean') this.set({ ups }, flag(value));
        }
      },
    });
  }
  for (const c of UPS_COUNTERS) {
    new Counter({
      name: c.name,
      help: c.help,
      labelNames: ['ups'],
      registers,
      collect() {
        this.reset();
        for (const [ups, u] of keyed(view)) this.inc({ ups }, u.stats[c.stat]);
      },
    });
  }
  new Gauge({
    name: 'ups2mqtt_ups_last_read_duration_seconds',
    help: 'How long the last successful reading took (s).',
    labelNames: ['ups'],
    registers,
    collect() {
      this.reset();
      for (const [ups, u] of keyed(view)) {
        if (u.stats.lastReadingAt > 0) this.set({ ups }, u.stats.lastReadMs / 1000);
      }
    },
  });
  new Gauge({
    name: 'ups2mqtt_ups_last_reading_timestamp_seconds',
    help: 'Unix time of the last successful reading (s).',
    labelNames: ['ups'],
    registers,
    collect() {
      this.reset();
      for (const [ups, u] of keyed(view)) {
        if (u.stats.lastReadingAt > 0) this.set({ ups }, u.stats.lastReadingAt / 1000);
      }
    },
  });
  return registry;
}
