import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, resolve } from 'node:path';
import convict from 'convict';
import type { ShutdownSettings } from '../core/ports.ts';
import { maskUri, NUT_ALL_UPSES, parseSourceUri, type SourceSpec } from '../sources/uri.ts';
import type { ShutdownEntry } from './formats.ts';
import { type ConfigSchema, type NutUserEntry, schemaDefinition, type UpsEntry } from './schema.ts';

/** One configuration problem, worded for the person who has to fix it. */
export interface ConfigProblem {
  key: string;
  env?: string;
  message: string;
}

/** A UPS as the bridge serves it. */
export interface UpsConfig {
  /** Configured id; undefined means "the slugified serial number once it is known". */
  id?: string;
  name?: string;
  source: string;
  spec: SourceSpec;
  pollIntervalMs: number;
  /** Port this UPS is served on over NIS; undefined when it is not served (nis_server). */
  nisPort?: number;
  /** Configured real-power rating (W), for load_w when the UPS reports none. */
  nominalPowerW?: number;
  /** The power policy of this UPS (docs/power-policy.md). */
  shutdown: ShutdownSettings;
}

export type { ShutdownSettings };

export interface AppConfig {
  upses: UpsConfig[];
  mqtt: {
    url: string;
    username: string;
    password: string;
    caFile: string;
    certFile: string;
    keyFile: string;
    rejectUnauthorized: boolean;
    clientId: string;
    baseTopic: string;
    protocolVersion: 4 | 5;
    keepaliveS: number;
    reconnectPeriodMs: number;
  };
  homeassistant: { enabled: boolean; discoveryPrefix: string; statusTopic: string };
  state: { heartbeatIntervalMs: number; maxDataAgeS: number };
  /** Absolute path of `data_dir`. */
  dataDir: string;
  nis: { timeoutMs: number; eventsIntervalMs: number; reuseConnection: boolean };
  nisServer: { enabled: boolean; host: string; port: number };
  nut: { timeoutMs: number; caFile: string };
  log: { level: string; format: 'auto' | 'json' | 'pretty' };
  commands: { allow: string[]; armWindowMs: number; rateLimitMs: number; shutdownDelayS: number };
  http: { enabled: boolean; host: string; port: number };
  nutServer: {
    enabled: boolean;
    host: string;
    port: number;
    users: {
      name: string;
      password: string;
      instcmds: string[];
      upsmon?: 'primary' | 'secondary';
    }[];
  };
}

export type LoadResult =
  | { ok: true; config: AppConfig; effective: Record<string, unknown> }
  | { ok: false; problems: ConfigProblem[] };

export interface LoadOptions {
  file?: string;
  env: Record<string, string | undefined>;
  args: string[];
}

/** Exit code for invalid configuration (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;

/** The YAML parser, loaded on the first YAML file: a JSON or environment-only setup never needs it. */
let yamlModule: typeof import('yaml') | undefined;
function yaml(): typeof import('yaml') {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlModule;
}

convict.addParser([
  { extension: 'json', parse: JSON.parse },
  { extension: ['yml', 'yaml'], parse: (text: string) => yaml().parse(text) as unknown },
]);

/** Map of dotted key → env name, from the schema. */
export function envNames(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === 'object' && 'doc' in v) {
        const env = (v as { env?: string }).env;
        if (env) out.set(key, env);
      } else if (v && typeof v === 'object') {
        walk(v as Record<string, unknown>, key);
      }
    }
  };
  walk(schemaDefinition as unknown as Record<string, unknown>, '');
  return out;
}

function problem(key: string, message: string): ConfigProblem {
  const env = envNames().get(key);
  return env ? { key, env, message } : { key, message };
}

/** Splits convict's joined validation message into one problem per line. */
function convictProblems(message: string): ConfigProblem[] {
  return message
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const undeclared = /^configuration param '(.+)' not declared in the schema$/.exec(line);
      if (undeclared) return problem(undeclared[1] ?? '?', 'is not a known setting');
      const keyed = /^([A-Za-z0-9_.]+): (.*)$/.exec(line);
      if (keyed) return problem(keyed[1] ?? '?', keyed[2] ?? line);
      return problem('?', line);
    });
}

function readConfigFile(file: string): Record<string, unknown> {
  const text = readFileSync(file, 'utf8');
  const ext = extname(file).toLowerCase();
  const parsed: unknown = ext === '.json' ? parseJson(text) : parseYaml(text);
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('the top level must be a mapping of settings');
  }
  return parsed as Record<string, unknown>;
}

/**
 * Parse errors name the place, never the text around it: the line could hold a password, and
 * `config check` output ends up in bug reports. (yaml's pretty errors quote the line; V8's
 * JSON errors quote a snippet of the input.)
 */
function parseYaml(text: string): unknown {
  try {
    // logLevel 'error': yaml's warnings (unknown directive, unresolved tag) go straight to
    // process.emitWarning, quoting the file; the value still parses, as a plain string.
    return yaml().parse(text, { prettyErrors: false, logLevel: 'error' });
  } catch (err) {
    if (!(err instanceof yaml().YAMLError)) throw err;
    const at = err.linePos?.[0];
    throw new Error(
      `not valid YAML (${err.code}${at ? ` at line ${at.line}, column ${at.col}` : ''})`,
    );
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const position = /position (\d+)/.exec(err instanceof Error ? err.message : '')?.[1];
    throw new Error(`not valid JSON${position === undefined ? '' : ` (at character ${position})`}`);
  }
}

/**
 * Loads and validates the configuration. Every problem is reported at once; nothing is
 * started by the caller unless `ok` is true. Problems never carry a password: besides the
 * masking where values are shown, every key and message goes through maskUri() as a last
 * net (a typo such as `{source nut://u:pw@h/ups}` in YAML makes the URI a key name).
 */
export function loadConfig(opts: LoadOptions): LoadResult {
  const result = loadUnmasked(opts);
  if (result.ok) return result;
  return {
    ok: false,
    problems: result.problems.map((p) => ({
      ...p,
      key: maskUri(p.key),
      message: maskUri(p.message),
    })),
  };
}

function loadUnmasked(opts: LoadOptions): LoadResult {
  const problems: ConfigProblem[] = [];
  let cfg: convict.Config<ConfigSchema>;
  try {
    cfg = convict<ConfigSchema>(schemaDefinition, { env: opts.env, args: opts.args });
  } catch (err) {
    // convict coerces environment and arguments here; formats.ts keeps its coercions from
    // throwing, and this keeps any other surprise a reported problem, not a crash.
    const why = err instanceof Error ? err.name : 'error';
    return {
      ok: false,
      problems: [{ key: 'config', message: `environment or arguments cannot be read (${why})` }],
    };
  }
  if (opts.file) {
    try {
      cfg.load(readConfigFile(opts.file));
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return {
        ok: false,
        problems: [{ key: 'config', message: `cannot read ${opts.file}: ${why}` }],
      };
    }
  }
  try {
    cfg.validate({ allowed: 'strict' });
  } catch (err) {
    problems.push(...convictProblems(err instanceof Error ? err.message : String(err)));
  }
  if (problems.length > 0) return { ok: false, problems };

  const props = cfg.getProperties() as unknown as RawConfig;
  const upses = resolveUpses(props, problems);
  assignNisPorts(props, upses, problems);
  const mqtt = props.mqtt;
  if ((mqtt.cert === '') !== (mqtt.key === '')) {
    problems.push(
      problem(mqtt.cert === '' ? 'mqtt.cert' : 'mqtt.key', 'mqtt.cert and mqtt.key go together'),
    );
  }
  for (const [key, path] of [
    ['mqtt.ca', mqtt.ca],
    ['mqtt.cert', mqtt.cert],
    ['mqtt.key', mqtt.key],
    ['nut.ca', props.nut.ca],
  ] as const) {
    if (path !== '') {
      try {
        readFileSync(path);
      } catch {
        problems.push(problem(key, `cannot read file ${path}`));
      }
    }
  }
  if (problems.length > 0) return { ok: false, problems };

  const config: AppConfig = {
    upses,
    mqtt: {
      url: mqtt.url,
      username: mqtt.username,
      password: mqtt.password,
      caFile: mqtt.ca,
      certFile: mqtt.cert,
      keyFile: mqtt.key,
      rejectUnauthorized: mqtt.reject_unauthorized,
      clientId: mqtt.client_id,
      baseTopic: mqtt.base_topic,
      protocolVersion: mqtt.protocol_version === 5 ? 5 : 4,
      keepaliveS: mqtt.keepalive,
      reconnectPeriodMs: Math.round(mqtt.reconnect_period * 1000),
    },
    homeassistant: {
      enabled: props.homeassistant.enabled,
      discoveryPrefix: props.homeassistant.discovery_prefix,
      statusTopic: props.homeassistant.status_topic,
    },
    state: {
      heartbeatIntervalMs: Math.round(props.state.heartbeat_interval * 1000),
      maxDataAgeS: props.state.max_data_age,
    },
    dataDir: resolve(props.data_dir),
    nis: {
      timeoutMs: Math.round(props.nis.timeout * 1000),
      eventsIntervalMs: Math.round(props.nis.events_interval * 1000),
      reuseConnection: props.nis.reuse_connection,
    },
    nisServer: {
      enabled: props.nis_server.enabled,
      host: props.nis_server.host,
      port: props.nis_server.port,
    },
    nut: { timeoutMs: Math.round(props.nut.timeout * 1000), caFile: props.nut.ca },
    log: { level: props.log.level, format: props.log.format },
    commands: {
      allow: props.commands.allow,
      armWindowMs: Math.round(props.commands.arm_window * 1000),
      rateLimitMs: Math.round(props.commands.rate_limit * 1000),
      shutdownDelayS: Math.round(props.commands.shutdown_delay),
    },
    http: { enabled: props.http.enabled, host: props.http.host, port: props.http.port },
    nutServer: {
      enabled: props.nut_server.enabled,
      host: props.nut_server.host,
      port: props.nut_server.port,
      users: props.nut_server.users.map((u) => ({
        name: u.name,
        password: u.password,
        instcmds: u.instcmds ?? [],
        ...(u.upsmon ? { upsmon: u.upsmon } : {}),
      })),
    },
  };
  return { ok: true, config, effective: maskedEffective(props) };
}

interface RawConfig {
  source: string;
  ups_id: string;
  ups_name: string;
  poll_interval: number;
  upses: UpsEntry[];
  nominal_power_w: number;
  state: { heartbeat_interval: number; max_data_age: number };
  data_dir: string;
  shutdown: Required<ShutdownEntry>;
  nis: { timeout: number; events_interval: number; reuse_connection: boolean };
  nis_server: { enabled: boolean; host: string; port: number };
  nut: { timeout: number; ca: string };
  mqtt: {
    url: string;
    username: string;
    password: string;
    ca: string;
    cert: string;
    key: string;
    reject_unauthorized: boolean;
    client_id: string;
    base_topic: string;
    protocol_version: number;
    keepalive: number;
    reconnect_period: number;
  };
  homeassistant: { enabled: boolean; discovery_prefix: string; status_topic: string };
  log: { level: string; format: 'auto' | 'json' | 'pretty' };
  commands: { allow: string[]; arm_window: number; rate_limit: number; shutdown_delay: number };
  http: { enabled: boolean; host: string; port: number };
  nut_server: { enabled: boolean; host: string; port: number; users: NutUserEntry[] };
}

function resolveUpses(props: RawConfig, problems: ConfigProblem[]): UpsConfig[] {
  const entries: UpsEntry[] =
    props.upses.length > 0
      ? props.upses
      : props.source !== ''
        ? [
            {
              source: props.source,
              ...(props.ups_id ? { id: props.ups_id } : {}),
              ...(props.ups_name ? { name: props.ups_name } : {}),
              ...(props.nominal_power_w > 0 ? { nominal_power_w: props.nominal_power_w } : {}),
            },
          ]
        : [];
  if (entries.length === 0) {
    problems.push(
      problem(
        'source',
        'no UPS configured: set UPS2MQTT_SOURCE (or --source), or list `upses` in a config file',
      ),
    );
    return [];
  }
  if (
    props.upses.length > 0 &&
    JSON.stringify(props.shutdown) !== JSON.stringify(shutdownDefaults())
  ) {
    problems.push(
      problem(
        'shutdown',
        'the top-level shutdown settings apply to a single UPS (source); with `upses`, put `shutdown` under each entry',
      ),
    );
  }
  const seen = new Set<string>();
  const out: UpsConfig[] = [];
  entries.forEach((entry, i) => {
    if (entry.id !== undefined) {
      if (seen.has(entry.id))
        problems.push(problem('upses', `[${i}].id "${entry.id}" is used twice`));
      seen.add(entry.id);
    }
    const ups: UpsConfig = {
      source: entry.source,
      spec: parseSourceUri(entry.source),
      pollIntervalMs: Math.round((entry.poll_interval ?? props.poll_interval) * 1000),
      // A single UPS takes the top-level `shutdown`; list entries their own (defaults else).
      shutdown: resolveShutdown(
        props.upses.length > 0 ? { ...shutdownDefaults(), ...entry.shutdown } : props.shutdown,
      ),
    };
    if (entry.id !== undefined) ups.id = entry.id;
    if (entry.name !== undefined && entry.name !== '') ups.name = entry.name;
    if (entry.nominal_power_w !== undefined) ups.nominalPowerW = entry.nominal_power_w;
    out.push(ups);
  });
  // `nut://host` names every UPS of upsd: each gets its upsd name as id at start-up.
  const named = out.filter((u) => !isNutWildcard(u.spec));
  if (out.length > 1 && named.some((u) => u.id === undefined)) {
    // Without ids, two UPSes of one process could only be told apart by serial, which is
    // not known until they answer; ids make topics predictable (docs/configuration.md#upses).
    problems.push(problem('upses', 'every entry needs an `id` when more than one UPS is listed'));
  }
  return out;
}

/**
 * The NIS port of each UPS while nis_server is enabled: apcupsd serves one UPS per port, so
 * the first UPS is served on its `nis_port` or else `nis_server.port`, every other UPS only
 * when its entry sets `nis_port`. Two UPSes on one port, or a UPS on the HTTP endpoint's
 * port, is a problem (0, "pick a free port", never collides).
 */
function assignNisPorts(props: RawConfig, upses: UpsConfig[], problems: ConfigProblem[]): void {
  if (!props.nis_server.enabled) return;
  const entries = props.upses.length > 0 ? props.upses : [{ nis_port: undefined }];
  const owner = new Map<number, string>();
  upses.forEach((ups, i) => {
    const port = entries[i]?.nis_port ?? (i === 0 ? props.nis_server.port : undefined);
    if (port === undefined) return;
    const name = `upses[${i}]${ups.id ? ` ("${ups.id}")` : ''}`;
    const key = entries[i]?.nis_port === undefined ? 'nis_server.port' : 'upses';
    if (port !== 0) {
      const other = owner.get(port);
      if (other !== undefined) {
        problems.push(problem(key, `NIS port ${port} of ${name} is already used by ${other}`));
        return;
      }
      if (props.http.enabled && props.http.port === port) {
        problems.push(problem(key, `NIS port ${port} of ${name} is the HTTP endpoint's port`));
        return;
      }
      owner.set(port, name);
    }
    ups.nisPort = port;
  });
}

/** The schema's defaults of `shutdown.*`. */
function shutdownDefaults(): Required<ShutdownEntry> {
  const d = schemaDefinition.shutdown;
  return {
    mode: d.mode.default as Required<ShutdownEntry>['mode'],
    on_battery_for: d.on_battery_for.default,
    battery_charge_pct: d.battery_charge_pct.default,
    runtime_s: d.runtime_s.default,
    secondaries_grace: d.secondaries_grace.default,
    command: [...d.command.default],
    command_timeout: d.command_timeout.default,
    grace: d.grace.default,
    ups_command: d.ups_command.default,
  };
}

function resolveShutdown(e: Required<ShutdownEntry>): ShutdownSettings {
  const ms = (s: number): number => Math.round(s * 1000);
  return {
    mode: e.mode,
    onBatteryForMs: e.on_battery_for === null ? null : ms(e.on_battery_for),
    batteryChargePct: e.battery_charge_pct,
    runtimeS: e.runtime_s,
    secondariesGraceMs: ms(e.secondaries_grace),
    command: [...e.command],
    commandTimeoutMs: ms(e.command_timeout),
    graceMs: ms(e.grace),
    upsCommand: e.ups_command === 'none' ? null : e.ups_command,
  };
}

function isNutWildcard(spec: SourceSpec): boolean {
  return spec.kind === 'nut' && spec.ups === NUT_ALL_UPSES;
}

/** The effective configuration with secrets masked, for `config check` and the start log. */
function maskedEffective(props: RawConfig): Record<string, unknown> {
  const copy = structuredClone(props) as unknown as Record<string, unknown>;
  const mqtt = copy.mqtt as Record<string, unknown>;
  if (mqtt.password !== '') mqtt.password = '***';
  const nut = copy.nut_server as { users: Record<string, unknown>[] };
  nut.users = nut.users.map((u) => ({ ...u, password: '***' }));
  // A password can also ride in the broker URL (mqtt://user:secret@host).
  mqtt.url = maskUri(props.mqtt.url);
  copy.source = maskUri(props.source);
  copy.upses = props.upses.map((u) => ({ ...u, source: maskUri(u.source) }));
  return copy;
}

/** Renders problems as lines: `key (ENV_NAME): message`. */
export function formatProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => `  - ${p.key}${p.env ? ` (${p.env})` : ''}: ${p.message}`).join('\n');
}
