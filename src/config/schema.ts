import './formats.ts';
import type { NutUserEntry, UpsEntry } from './formats.ts';

export {
  DESTRUCTIVE_COMMAND_NAMES,
  ID_PATTERN,
  type NutUserEntry,
  type UpsEntry,
} from './formats.ts';

/**
 * The configuration schema: the single source of truth for keys, docs, defaults, env names
 * and CLI flags. docs/configuration.md and the add-on options are checked against it.
 * Precedence (convict): defaults < config file < UPS2MQTT_* environment < command-line flags.
 */

/** The schema. Every key has doc, format, default and env. */
export const schemaDefinition = {
  source: {
    doc: 'Source URI of the UPS when only one is served (nis://host[:port], sim://, apcsmart:///dev/ttyS0, hid://auto, nut://[user:pass@]host[:port]/ups). Ignored when `upses` is set.',
    format: 'source-uri',
    default: '',
    // May carry a password (nut://user:pass@...): convict then leaves the value out of its
    // error messages; our own messages show it through showUri() (password masked).
    sensitive: true,
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
    doc: 'UPSes served by this process: a list of { id, name, source, poll_interval, nis_port, nominal_power_w, shutdown }. In the environment: a JSON array.',
    format: 'ups-list',
    default: [] as UpsEntry[],
    sensitive: true, // its sources may carry passwords
    env: 'UPS2MQTT_UPSES',
  },
  nominal_power_w: {
    doc: "Real-power rating of the single UPS in watts, for `load_w` (and so `energy_kwh`) when the UPS reports a load in percent but not its rating. 0: not set. The UPS's own rating wins when it reports one. With `upses`, set it per entry instead.",
    format: 'optional-watts',
    default: 0,
    env: 'UPS2MQTT_NOMINAL_POWER_W',
    arg: 'nominal-power-w',
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
  data_dir: {
    doc: 'Folder for what must survive a restart (outage counters, energy, the power policy during an outage), relative to the working directory unless absolute. The add-on uses /data.',
    format: 'nonempty-string',
    default: './data',
    env: 'UPS2MQTT_DATA_DIR',
    arg: 'data-dir',
  },
  shutdown: {
    mode: {
      doc: 'Power policy of the single UPS (docs/power-policy.md; several UPSes: `shutdown` under each `upses` entry): off; notify (state and events only); dry_run (logs every step it would take, runs nothing); act (FSD to NUT clients, the host shutdown, then the UPS command).',
      format: ['off', 'notify', 'dry_run', 'act'],
      default: 'off',
      env: 'UPS2MQTT_SHUTDOWN_MODE',
      arg: 'shutdown-mode',
    },
    on_battery_for: {
      doc: 'Trigger: seconds on battery (at or above). Empty: not used.',
      format: 'optional-seconds',
      default: null as number | null,
      env: 'UPS2MQTT_SHUTDOWN_ON_BATTERY_FOR',
      arg: 'shutdown-on-battery-for',
    },
    battery_charge_pct: {
      doc: 'Trigger: battery charge in percent, on battery (at or below). Empty: not used.',
      format: 'optional-pct',
      default: null as number | null,
      env: 'UPS2MQTT_SHUTDOWN_BATTERY_CHARGE_PCT',
      arg: 'shutdown-battery-charge-pct',
    },
    runtime_s: {
      doc: "Trigger: runtime left in seconds, on battery (at or below). Empty: not used. Low battery and the UPS's own shutdown always trigger.",
      format: 'optional-seconds',
      default: null as number | null,
      env: 'UPS2MQTT_SHUTDOWN_RUNTIME_S',
      arg: 'shutdown-runtime-s',
    },
    secondaries_grace: {
      doc: 'Seconds to wait, after raising FSD, for NUT secondaries to log out before this host shuts down.',
      format: 'seconds',
      default: 30,
      env: 'UPS2MQTT_SHUTDOWN_SECONDARIES_GRACE',
      arg: 'shutdown-secondaries-grace',
    },
    command: {
      doc: 'Local host shutdown command as an argv list, run without a shell, e.g. ["systemctl","poweroff"]. In the environment: a JSON array. Empty: no local command (the add-on uses the Supervisor instead).',
      format: 'argv',
      default: [] as string[],
      env: 'UPS2MQTT_SHUTDOWN_COMMAND',
    },
    command_timeout: {
      doc: 'Seconds the host shutdown command (or the Supervisor request) may take before it is killed and counted as failed.',
      format: 'seconds',
      default: 30,
      env: 'UPS2MQTT_SHUTDOWN_COMMAND_TIMEOUT',
      arg: 'shutdown-command-timeout',
    },
    grace: {
      doc: 'Seconds between the host shutdown and the UPS command.',
      format: 'seconds',
      default: 60,
      env: 'UPS2MQTT_SHUTDOWN_GRACE',
      arg: 'shutdown-grace',
    },
    ups_command: {
      doc: 'UPS command sent after the grace, through the command framework: the setting is its permission (no commands.allow, no arming). shutdown.return cuts the output and brings it back when mains returns; none on every other bridge watching the same UPS.',
      format: 'ups-command',
      default: 'shutdown.return',
      env: 'UPS2MQTT_SHUTDOWN_UPS_COMMAND',
      arg: 'shutdown-ups-command',
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
    reuse_connection: {
      doc: "Keep one connection per UPS open between polls (closed after 10 s idle, before apcupsd's 15 s limit) instead of connecting for every request as apcaccess does. Saves a TCP connect and close per poll; turn off for a daemon or proxy that allows one request per connection.",
      format: Boolean,
      default: true,
      env: 'UPS2MQTT_NIS_REUSE_CONNECTION',
      arg: 'nis-reuse-connection',
    },
  },
  nis_server: {
    enabled: {
      doc: "Answer apcupsd's NIS protocol (apcaccess, Home Assistant's apcupsd integration, NAS boxes, apcupsd slaves) from the UPSes this process reads. NIS has no authentication: see docs/security.md.",
      format: Boolean,
      default: false,
      env: 'UPS2MQTT_NIS_SERVER_ENABLED',
      arg: 'nis-server-enabled',
    },
    host: {
      doc: 'Address the NIS server binds to. Any address other than loopback lets everyone who reaches it read the UPS (a warning is logged).',
      format: String,
      default: '127.0.0.1',
      env: 'UPS2MQTT_NIS_SERVER_HOST',
      arg: 'nis-server-host',
    },
    port: {
      doc: 'Port on which the first UPS is served (apcupsd serves one UPS per port; other UPSes are served on their `upses[].nis_port`). 0 picks a free port.',
      format: 'port',
      default: 3551,
      env: 'UPS2MQTT_NIS_SERVER_PORT',
      arg: 'nis-server-port',
    },
  },
  nut: {
    timeout: {
      doc: 'Seconds allowed for connecting to upsd and for each of its replies (nut:// sources).',
      format: 'seconds',
      default: 3,
      env: 'UPS2MQTT_NUT_TIMEOUT',
      arg: 'nut-timeout',
    },
    ca: {
      doc: "Path of a PEM file with the CA certificate(s) that sign upsd's certificate, for nut://…?tls=require|prefer. Empty: the system's trusted CAs.",
      format: String,
      default: '',
      env: 'UPS2MQTT_NUT_CA',
      arg: 'nut-ca',
    },
  },
  mqtt: {
    url: {
      doc: 'Broker URL: mqtt://, mqtts:// (TLS), ws:// or wss://.',
      format: 'mqtt-url',
      default: 'mqtt://localhost:1883',
      sensitive: true, // mqtt://user:pass@host
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
  nut_server: {
    enabled: {
      doc: "Serve every UPS to NUT clients (upsc, upsmon, Home Assistant's NUT integration) as NUT's upsd does, under its ups id. See docs/security.md.",
      format: Boolean,
      default: false,
      env: 'UPS2MQTT_NUT_SERVER_ENABLED',
      arg: 'nut-server-enabled',
    },
    host: {
      doc: 'Address the NUT server binds to. Loopback by default: NUT sends passwords in clear text; another address logs a warning.',
      format: String,
      default: '127.0.0.1',
      env: 'UPS2MQTT_NUT_SERVER_HOST',
      arg: 'nut-server-host',
    },
    port: {
      doc: "Port of the NUT server (3493 is NUT's; 0 picks a free port).",
      format: 'port',
      default: 3493,
      env: 'UPS2MQTT_NUT_SERVER_PORT',
      arg: 'nut-server-port',
    },
    users: {
      doc: 'NUT users, as in upsd.users (config file only): a list of { name, password, instcmds: [command names] or ["all"], upsmon: primary | secondary }. Passwords are masked in logs.',
      format: 'nut-users',
      default: [] as NutUserEntry[],
      // convict then leaves the value (passwords) out of its error messages.
      sensitive: true,
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
