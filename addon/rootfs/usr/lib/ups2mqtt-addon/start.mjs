#!/usr/bin/env node
/**
 * Home Assistant add-on entry point: turns the add-on options (/data/options.json) and the
 * Supervisor's MQTT service into ups2mqtt's UPS2MQTT_* settings, then runs `ups2mqtt` with
 * them and passes its exit status on. Plain Node (no dependencies) so the image needs
 * nothing else and the tests can run it as it is.
 *
 * Supervisor contract (developers.home-assistant.io, add-on communication): options are a
 * JSON object validated against `schema` in config.yaml, optional options that are not set
 * are absent; `GET http://supervisor/services/mqtt` with `Authorization: Bearer
 * $SUPERVISOR_TOKEN` answers `{"result":"ok","data":{host,port,ssl,username,password,
 * protocol}}` when `services: mqtt:need` is declared and a broker add-on provides it.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

/**
 * Add-on option → configuration key → environment variable. `kind` says how the value is
 * written: string and number as they are, `csv` a list joined with commas, `upses` the list
 * of UPS entries as the JSON array UPS2MQTT_UPSES takes. Options left empty are not set, so
 * the ups2mqtt default applies.
 */
export const OPTION_MAP = [
  { option: 'source', key: 'source', env: 'UPS2MQTT_SOURCE', kind: 'string' },
  { option: 'ups_id', key: 'ups_id', env: 'UPS2MQTT_UPS_ID', kind: 'string' },
  { option: 'ups_name', key: 'ups_name', env: 'UPS2MQTT_UPS_NAME', kind: 'string' },
  { option: 'upses', key: 'upses', env: 'UPS2MQTT_UPSES', kind: 'upses' },
  { option: 'poll_interval', key: 'poll_interval', env: 'UPS2MQTT_POLL_INTERVAL', kind: 'number' },
  {
    option: 'nominal_power_w',
    key: 'nominal_power_w',
    env: 'UPS2MQTT_NOMINAL_POWER_W',
    kind: 'number',
  },
  { option: 'commands_allow', key: 'commands.allow', env: 'UPS2MQTT_COMMANDS_ALLOW', kind: 'csv' },
  // The power policy of the single UPS; the host is shut down through the Supervisor.
  { option: 'shutdown_mode', key: 'shutdown.mode', env: 'UPS2MQTT_SHUTDOWN_MODE', kind: 'string' },
  {
    option: 'shutdown_on_battery_for',
    key: 'shutdown.on_battery_for',
    env: 'UPS2MQTT_SHUTDOWN_ON_BATTERY_FOR',
    kind: 'number',
  },
  {
    option: 'shutdown_battery_charge_pct',
    key: 'shutdown.battery_charge_pct',
    env: 'UPS2MQTT_SHUTDOWN_BATTERY_CHARGE_PCT',
    kind: 'number',
  },
  {
    option: 'shutdown_runtime_s',
    key: 'shutdown.runtime_s',
    env: 'UPS2MQTT_SHUTDOWN_RUNTIME_S',
    kind: 'number',
  },
  {
    option: 'shutdown_grace',
    key: 'shutdown.grace',
    env: 'UPS2MQTT_SHUTDOWN_GRACE',
    kind: 'number',
  },
  {
    option: 'shutdown_ups_command',
    key: 'shutdown.ups_command',
    env: 'UPS2MQTT_SHUTDOWN_UPS_COMMAND',
    kind: 'string',
  },
  { option: 'base_topic', key: 'mqtt.base_topic', env: 'UPS2MQTT_MQTT_BASE_TOPIC', kind: 'string' },
  {
    option: 'discovery_prefix',
    key: 'homeassistant.discovery_prefix',
    env: 'UPS2MQTT_HOMEASSISTANT_DISCOVERY_PREFIX',
    kind: 'string',
  },
  { option: 'log_level', key: 'log.level', env: 'UPS2MQTT_LOG_LEVEL', kind: 'string' },
  { option: 'mqtt_url', key: 'mqtt.url', env: 'UPS2MQTT_MQTT_URL', kind: 'string' },
  { option: 'mqtt_username', key: 'mqtt.username', env: 'UPS2MQTT_MQTT_USERNAME', kind: 'string' },
  { option: 'mqtt_password', key: 'mqtt.password', env: 'UPS2MQTT_MQTT_PASSWORD', kind: 'string' },
];

/**
 * Settings the add-on always uses. The HTTP endpoint listens on all interfaces of the
 * container because ingress reaches it from the Supervisor (172.30.32.2) on `ingress_port`;
 * the host sees the port only if the user maps it in the Network section.
 */
export const FIXED_ENV = {
  UPS2MQTT_HTTP_ENABLED: 'true',
  UPS2MQTT_HTTP_HOST: '0.0.0.0',
  UPS2MQTT_HTTP_PORT: '1551',
  UPS2MQTT_LOG_FORMAT: 'pretty',
  // The add-on's persistent folder (outage counters, energy, the power policy's state).
  UPS2MQTT_DATA_DIR: '/data',
};

/** Keys of one `upses` entry (the config schema's UpsEntry). */
const UPS_ENTRY_KEYS = ['id', 'name', 'source', 'poll_interval', 'nominal_power_w'];

/** Exit status for a configuration problem (sysexits EX_CONFIG, as ups2mqtt uses). */
export const EXIT_CONFIG = 78;

/** A problem the user has to fix in the add-on configuration or the Supervisor. */
export class AddonSetupError extends Error {
  constructor(message) {
    super(message);
    this.name = 'AddonSetupError';
  }
}

const isEmpty = (value) =>
  value === undefined ||
  value === null ||
  value === '' ||
  (Array.isArray(value) && value.length === 0);

function writeValue(entry, value) {
  switch (entry.kind) {
    case 'csv':
      if (!Array.isArray(value)) throw new AddonSetupError(`option ${entry.option} must be a list`);
      return value.map(String).join(',');
    case 'upses':
      if (!Array.isArray(value)) throw new AddonSetupError(`option ${entry.option} must be a list`);
      return JSON.stringify(
        value.map((ups) =>
          Object.fromEntries(
            UPS_ENTRY_KEYS.filter((k) => !isEmpty(ups?.[k])).map((k) => [k, ups[k]]),
          ),
        ),
      );
    default:
      return String(value);
  }
}

/** The UPS2MQTT_* variables for the options (no broker discovery, no fixed settings). */
export function optionsToEnv(options) {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new AddonSetupError('the add-on options are not a JSON object');
  }
  const env = {};
  for (const entry of OPTION_MAP) {
    const value = options[entry.option];
    if (!isEmpty(value)) env[entry.env] = writeValue(entry, value);
  }
  return env;
}

/** `mqtt[s]://host:port` from the Supervisor's service data (IPv6 hosts in brackets). */
export function brokerUrl(service) {
  const host = String(service.host);
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `${service.ssl === true ? 'mqtts' : 'mqtt'}://${hostPart}:${Number(service.port)}`;
}

/**
 * Asks the Supervisor for the MQTT service. Rejects with AddonSetupError, worded for the
 * user, when there is none (no broker add-on: "Service not enabled"; not declared: 403).
 */
export async function fetchMqttService({ supervisorUrl, token, fetchImpl = fetch }) {
  const advice =
    'Install and start the Mosquitto broker add-on (or another add-on that provides MQTT), ' +
    'or set mqtt_url (and mqtt_username / mqtt_password) in the add-on configuration.';
  if (!token) {
    throw new AddonSetupError(`no SUPERVISOR_TOKEN: cannot ask the Supervisor for MQTT. ${advice}`);
  }
  let response;
  try {
    response = await fetchImpl(`${supervisorUrl}/services/mqtt`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new AddonSetupError(`cannot reach the Supervisor (${err?.message ?? err}). ${advice}`);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const data = body?.data;
  if (!response.ok || body?.result !== 'ok' || typeof data?.host !== 'string' || !data.port) {
    const why = body?.message ? `"${body.message}"` : `HTTP ${response.status}`;
    throw new AddonSetupError(
      `the Supervisor has no MQTT service for this add-on (${why}). ${advice}`,
    );
  }
  return data;
}

/**
 * Everything ups2mqtt needs: option settings, then the broker (the mqtt_url option when set,
 * else the Supervisor's MQTT service, whose credentials mqtt_username / mqtt_password
 * replace when given), then the fixed settings. `broker` says where the broker came from.
 */
export async function buildSettings({ options, supervisorUrl, token, fetchImpl }) {
  const env = { ...optionsToEnv(options) };
  let broker = 'options';
  if (!env.UPS2MQTT_MQTT_URL) {
    const service = await fetchMqttService({ supervisorUrl, token, fetchImpl });
    broker = 'supervisor';
    env.UPS2MQTT_MQTT_URL = brokerUrl(service);
    if (!env.UPS2MQTT_MQTT_USERNAME) {
      if (service.username) env.UPS2MQTT_MQTT_USERNAME = String(service.username);
      if (service.password) env.UPS2MQTT_MQTT_PASSWORD = String(service.password);
    }
    // The broker add-on speaks 3.1.1 (protocol "3.1.1"); ups2mqtt's 4 is MQTT 3.1.1.
    env.UPS2MQTT_MQTT_PROTOCOL_VERSION = String(service.protocol).startsWith('5') ? '5' : '4';
  }
  return { env: { ...env, ...FIXED_ENV }, broker };
}

/** Reads and parses the options file. */
export async function readOptions(path) {
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new AddonSetupError(`cannot read the add-on options ${path} (${err?.code ?? err})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new AddonSetupError(`the add-on options ${path} are not valid JSON`);
  }
}

/** Runs `command`, forwarding SIGTERM/SIGINT, and resolves with the exit status to use. */
function run(command, env) {
  return new Promise((resolve) => {
    const child = spawn(command, ['run'], { env, stdio: 'inherit' });
    const forward = (signal) => child.kill(signal);
    process.on('SIGTERM', forward);
    process.on('SIGINT', forward);
    child.on('error', (err) => {
      process.stderr.write(`ups2mqtt add-on: cannot start ${command}: ${err.message}\n`);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGTERM' ? 143 : 130)));
  });
}

/**
 * The entry point. Paths can be moved for tests through ADDON_OPTIONS_FILE,
 * ADDON_SUPERVISOR_URL and ADDON_EXEC; in the add-on they keep their defaults.
 */
export async function main(env = process.env) {
  const optionsPath = env.ADDON_OPTIONS_FILE ?? '/data/options.json';
  const supervisorUrl = env.ADDON_SUPERVISOR_URL ?? 'http://supervisor';
  const command = env.ADDON_EXEC ?? 'ups2mqtt';
  let settings;
  try {
    const options = await readOptions(optionsPath);
    settings = await buildSettings({
      options,
      supervisorUrl,
      token: env.SUPERVISOR_TOKEN ?? env.HASSIO_TOKEN,
    });
  } catch (err) {
    if (!(err instanceof AddonSetupError)) throw err;
    process.stderr.write(`ups2mqtt add-on: ${err.message}\n`);
    return EXIT_CONFIG;
  }
  const url = settings.env.UPS2MQTT_MQTT_URL.replace(/\/\/[^@/]*@/, '//');
  process.stderr.write(
    `ups2mqtt add-on: broker ${url} (from ${settings.broker === 'supervisor' ? "the Supervisor's MQTT service" : 'the add-on options'})\n`,
  );
  return run(command, { ...env, ...settings.env });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`ups2mqtt add-on: fatal: ${err?.stack ?? err}\n`);
      process.exitCode = 70;
    },
  );
}
