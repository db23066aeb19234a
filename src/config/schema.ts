import convict from 'convict';
import { parseSourceUri } from '../sources/uri.ts';

/**
 * The configuration schema: the single source of truth for keys, docs, defaults, env names
 * and CLI flags. docs/configuration.md and the add-on options are checked against it.
 * Precedence (convict): defaults < config file < UPS2MQTT_* environment < command-line flags.
 */

/** One UPS entry of the `upses` list (config file only). */
export interface UpsEntry {
  id?: string;
  name?: string;
  source: string;
  poll_interval?: number;
}

export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

convict.addFormat({
  name: 'source-uri',
  validate(value: unknown) {
    if (value === '') return;
    if (typeof value !== 'string') throw new Error('must be a source URI string');
    parseSourceUri(value);
  },
});

convict.addFormat({
  name: 'optional-id',
  validate(value: unknown) {
    if (value === '') return;
    if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
      throw new Error('must be 1-64 of a-z, 0-9, "_" or "-", starting with a letter or digit');
    }
  },
});

convict.addFormat({
  name: 'seconds',
  coerce: (value: unknown) => (typeof value === 'string' ? Number(value) : value),
  validate(value: unknown) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new Error('must be a positive number of seconds');
    }
  },
});

convict.addFormat({
  name: 'mqtt-url',
  validate(value: unknown) {
    if (typeof value !== 'string') throw new Error('must be a URL string');
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new Error('must be a URL like mqtt://host:1883');
    }
    if (!['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:'].includes(url.protocol)) {
      throw new Error('scheme must be mqtt://, mqtts://, ws:// or wss://');
    }
  },
});

convict.addFormat({
  name: 'topic-prefix',
  validate(value: unknown) {
    if (
      typeof value !== 'string' ||
      value === '' ||
      /[#+\s]/.test(value) ||
      value.startsWith('/') ||
      value.endsWith('/')
    ) {
      throw new Error(
        'must be a non-empty MQTT topic without wildcards, spaces or leading/trailing "/"',
      );
    }
  },
});

/** NUT instant-command names that cut or risk the load (commands.allow may list only these). */
export const DESTRUCTIVE_COMMAND_NAMES = [
  'shutdown.return',
  'shutdown.stayoff',
  'shutdown.reboot',
  'shutdown.reboot.graceful',
  'load.off',
  'calibrate.start',
] as const;

convict.addFormat({
  name: 'command-list',
  coerce: (value: unknown) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== '')
      : value,
  validate(value: unknown) {
    if (!Array.isArray(value)) throw new Error('must be a list of command names');
    const bad = value.filter((v) => !(DESTRUCTIVE_COMMAND_NAMES as readonly unknown[]).includes(v));
    if (bad.length > 0) {
      throw new Error(
        `unknown or non-destructive command(s) ${bad.join(', ')}; allowed: ${DESTRUCTIVE_COMMAND_NAMES.join(', ')}`,
      );
    }
  },
});

convict.addFormat({
  name: 'ups-list',
  coerce: (value: unknown) => {
    if (typeof value !== 'string') return value;
    return value.trim() === '' ? [] : (JSON.parse(value) as unknown);
  },
  validate(value: unknown) {
    if (!Array.isArray(value))
      throw new Error('must be a list of { id, name, source, poll_interval }');
    const problems: string[] = [];
    value.forEach((item: unknown, i: number) => {
      if (typeof item !== 'object' || item === null) {
        problems.push(`[${i}] must be an object`);
        return;
      }
      const entry = item as Record<string, unknown>;
      for (const key of Object.keys(entry)) {
        if (!['id', 'name', 'source', 'poll_interval'].includes(key))
          problems.push(`[${i}].${key} is not a known key`);
      }
      if (typeof entry.source !== 'string' || entry.source === '') {
        problems.push(`[${i}].source is required`);
      } else {
        try {
          parseSourceUri(entry.source);
        } catch (err) {
          problems.push(`[${i}].source: ${describeError(err)}`);
        }
      }
      if (entry.id !== undefined && (typeof entry.id !== 'string' || !ID_PATTERN.test(entry.id))) {
        problems.push(`[${i}].id must be 1-64 of a-z, 0-9, "_" or "-"`);
      }
      if (entry.name !== undefined && typeof entry.name !== 'string')
        problems.push(`[${i}].name must be a string`);
      if (
        entry.poll_interval !== undefined &&
        (typeof entry.poll_interval !== 'number' || !(entry.poll_interval > 0))
      ) {
        problems.push(`[${i}].poll_interval must be a positive number of seconds`);
      }
    });
    if (problems.length > 0) throw new Error(problems.join('; '));
  },
});

/** The schema. Every key has doc, format, default and env. */
export const schemaDefinition = {
  source: {
    doc: 'Source URI of the UPS when only one is served (nis://host[:port], sim://, apcsmart:///dev/ttyS0, hid://auto, nut://[user:pass@]host[:port]/ups). Ignored when `upses` is set.',
    format: 'source-uri',
    default: '',
    env: 'UPS2MQTT_SOURCE',
    arg: 'source',
  },
  ups_id: {
    doc: 'Id of the single UPS, used in topics and entity ids. Empty: the slugified serial number.',
    format: 'optional-id',
    default: '',
    env: 'UPS2MQTT_UPS_ID',
    arg: 'ups-id',
  },
  ups_name: {
    doc: 'Display name of the single UPS in Home Assistant. Empty: the name stored in the UPS, else its model.',
    format: String,
    default: '',
    env: 'UPS2MQTT_UPS_NAME',
    arg: 'ups-name',
  },
  poll_interval: {
    doc: 'Seconds between two readings of each UPS (per-UPS `poll_interval` overrides it).',
    format: 'seconds',
    default: 1,
    env: 'UPS2MQTT_POLL_INTERVAL',
    arg: 'poll-interval',
  },
  upses: {
    doc: 'UPSes served by this process: a list of { id, name, source, poll_interval }. In the environment: a JSON array.',
    format: 'ups-list',
    default: [] as UpsEntry[],
    env: 'UPS2MQTT_UPSES',
  },
  state: {
    heartbeat_interval: {
      doc: 'Seconds after which the state is published again even when nothing changed.',
      format: 'seconds',
      default: 60,
      env: 'UPS2MQTT_STATE_HEARTBEAT_INTERVAL',
      arg: 'state-heartbeat-interval',
    },
    max_data_age: {
      doc: "Seconds after which a daemon's reading (NIS DATE) counts as stale and the UPS as unavailable. apcupsd polls a quiet UPS every 60 s.",
      format: 'seconds',
      default: 180,
      env: 'UPS2MQTT_STATE_MAX_DATA_AGE',
      arg: 'state-max-data-age',
    },
  },
  nis: {
    timeout: {
      doc: 'Seconds allowed to connect to apcupsd and to receive one whole reply.',
      format: 'seconds',
      default: 2,
      env: 'UPS2MQTT_NIS_TIMEOUT',
      arg: 'nis-timeout',
    },
    events_interval: {
      doc: "Seconds between two reads of apcupsd's event log when nothing changed (it is also read at once on every status change).",
      format: 'seconds',
      default: 30,
      env: 'UPS2MQTT_NIS_EVENTS_INTERVAL',
      arg: 'nis-events-interval',
    },
  },
  mqtt: {
    url: {
      doc: 'Broker URL: mqtt://, mqtts:// (TLS), ws:// or wss://.',
      format: 'mqtt-url',
      default: 'mqtt://localhost:1883',
      env: 'UPS2MQTT_MQTT_URL',
      arg: 'mqtt-url',
    },
    username: {
      doc: 'Broker user name (empty: anonymous).',
      format: String,
      default: '',
      env: 'UPS2MQTT_MQTT_USERNAME',
      arg: 'mqtt-username',
    },
    password: {
      doc: 'Broker password. Never logged.',
      format: String,
      default: '',
      sensitive: true,
      env: 'UPS2MQTT_MQTT_PASSWORD',
    },
    ca: {
      doc: 'Path of a PEM file with the CA certificate(s) to trust for mqtts:// and wss://.',
      format: String,
      default: '',
      env: 'UPS2MQTT_MQTT_CA',
      arg: 'mqtt-ca',
    },
    cert: {
      doc: 'Path of a PEM client certificate (mutual TLS).',
      format: String,
      default: '',
      env: 'UPS2MQTT_MQTT_CERT',
      arg: 'mqtt-cert',
    },
    key: {
      doc: 'Path of the PEM private key of the client certificate.',
      format: String,
      default: '',
      env: 'UPS2MQTT_MQTT_KEY',
      arg: 'mqtt-key',
    },
    reject_unauthorized: {
      doc: "Verify the broker's TLS certificate. Turn off only for testing.",
      format: Boolean,
      default: true,
      env: 'UPS2MQTT_MQTT_REJECT_UNAUTHORIZED',
      arg: 'mqtt-reject-unauthorized',
    },
    client_id: {
      doc: 'MQTT client id (empty: ups2mqtt_ plus random hex).',
      format: String,
      default: '',
      env: 'UPS2MQTT_MQTT_CLIENT_ID',
      arg: 'mqtt-client-id',
    },
    base_topic: {
      doc: 'Topic prefix of everything the bridge publishes.',
      format: 'topic-prefix',
      default: 'ups2mqtt',
      env: 'UPS2MQTT_MQTT_BASE_TOPIC',
      arg: 'mqtt-base-topic',
    },
    protocol_version: {
      doc: 'MQTT protocol version: 5, or 4 (3.1.1) for old brokers. With 5 the bridge can also tell a retained command published while it is connected (and refuse it); with 3.1.1 only retained commands replayed at connect are recognised.',
      format: [4, 5],
      default: 5,
      env: 'UPS2MQTT_MQTT_PROTOCOL_VERSION',
      arg: 'mqtt-protocol-version',
    },
    keepalive: {
      doc: 'Keepalive interval in seconds.',
      format: 'seconds',
      default: 30,
      env: 'UPS2MQTT_MQTT_KEEPALIVE',
      arg: 'mqtt-keepalive',
    },
    reconnect_period: {
      doc: 'Seconds between reconnect attempts when the broker is unreachable.',
      format: 'seconds',
      default: 5,
      env: 'UPS2MQTT_MQTT_RECONNECT_PERIOD',
      arg: 'mqtt-reconnect-period',
    },
  },
  homeassistant: {
    enabled: {
      doc: 'Publish Home Assistant MQTT discovery.',
      format: Boolean,
      default: true,
      env: 'UPS2MQTT_HOMEASSISTANT_ENABLED',
      arg: 'homeassistant-enabled',
    },
    discovery_prefix: {
      doc: "Home Assistant's discovery prefix (its MQTT integration option).",
      format: 'topic-prefix',
      default: 'homeassistant',
      env: 'UPS2MQTT_HOMEASSISTANT_DISCOVERY_PREFIX',
      arg: 'homeassistant-discovery-prefix',
    },
    status_topic: {
      doc: "Topic of Home Assistant's birth/last-will message; discovery and state are re-published when it says online.",
      format: 'topic-prefix',
      default: 'homeassistant/status',
      env: 'UPS2MQTT_HOMEASSISTANT_STATUS_TOPIC',
      arg: 'homeassistant-status-topic',
    },
  },
  commands: {
    allow: {
      doc: 'Destructive commands this bridge may execute (shutdown.return, shutdown.stayoff, shutdown.reboot, load.off, calibrate.start). Empty: none. Each still needs arming before it runs.',
      format: 'command-list',
      default: [] as string[],
      env: 'UPS2MQTT_COMMANDS_ALLOW',
      arg: 'commands-allow',
    },
    arm_window: {
      doc: 'Seconds an `arm` message keeps destructive commands of a UPS armed.',
      format: 'seconds',
      default: 30,
      env: 'UPS2MQTT_COMMANDS_ARM_WINDOW',
      arg: 'commands-arm-window',
    },
    rate_limit: {
      doc: 'Minimum seconds between two executions of the same command on the same UPS.',
      format: 'seconds',
      default: 5,
      env: 'UPS2MQTT_COMMANDS_RATE_LIMIT',
      arg: 'commands-rate-limit',
    },
    shutdown_delay: {
      doc: 'Default delay in seconds of shutdown.return / shutdown.stayoff when the command gives none.',
      format: 'seconds',
      default: 60,
      env: 'UPS2MQTT_COMMANDS_SHUTDOWN_DELAY',
      arg: 'commands-shutdown-delay',
    },
  },
  http: {
    enabled: {
      doc: 'Serve /healthz, /metrics and the status page.',
      format: Boolean,
      default: true,
      env: 'UPS2MQTT_HTTP_ENABLED',
      arg: 'http-enabled',
    },
    host: {
      doc: 'Address the HTTP endpoint binds to. Loopback unless you need it elsewhere (e.g. 0.0.0.0 in a container).',
      format: String,
      default: '127.0.0.1',
      env: 'UPS2MQTT_HTTP_HOST',
      arg: 'http-host',
    },
    port: {
      doc: 'Port of the HTTP endpoint (1551 by convention; 0 picks a free port).',
      format: 'port',
      default: 1551,
      env: 'UPS2MQTT_HTTP_PORT',
      arg: 'http-port',
    },
  },
  log: {
    level: {
      doc: 'Log level.',
      format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      env: 'UPS2MQTT_LOG_LEVEL',
      arg: 'log-level',
    },
    format: {
      doc: 'Log format: json, pretty, or auto (pretty on a terminal, JSON otherwise).',
      format: ['auto', 'json', 'pretty'],
      default: 'auto',
      env: 'UPS2MQTT_LOG_FORMAT',
      arg: 'log-format',
    },
  },
};

export type ConfigSchema = typeof schemaDefinition;
