import convict from 'convict';
import { parseSourceUri, showUri } from '../sources/uri.ts';

/**
 * The custom convict formats of the configuration schema. convict keeps formats in one
 * registry per process; registering them here, once, on import, keeps schema.ts to the
 * schema itself.
 */

/** One UPS entry of the `upses` list (config file only). */
export interface UpsEntry {
  id?: string;
  name?: string;
  source: string;
  poll_interval?: number;
  /** Port of the NIS server for this UPS (nis_server.enabled); the first UPS defaults to nis_server.port. */
  nis_port?: number;
  /** Real-power rating in W, for load_w when the UPS does not report one. */
  nominal_power_w?: number;
  /** The power policy of this UPS (same keys as the top-level `shutdown`). */
  shutdown?: ShutdownEntry;
}

/** `shutdown.*` as written in the config (file or environment). */
export interface ShutdownEntry {
  mode?: ShutdownMode;
  on_battery_for?: number | null;
  battery_charge_pct?: number | null;
  runtime_s?: number | null;
  secondaries_grace?: number;
  command?: string[];
  command_timeout?: number;
  grace?: number;
  ups_command?: string;
}

export const SHUTDOWN_MODES = ['off', 'notify', 'dry_run', 'act'] as const;
export type ShutdownMode = (typeof SHUTDOWN_MODES)[number];

/** What `shutdown.ups_command` may name: commands that cut the output, or `none`. */
export const POLICY_UPS_COMMANDS = [
  'shutdown.return',
  'shutdown.stayoff',
  'shutdown.reboot',
  'load.off',
  'none',
] as const;

const SHUTDOWN_KEYS = [
  'mode',
  'on_battery_for',
  'battery_charge_pct',
  'runtime_s',
  'secondaries_grace',
  'command',
  'command_timeout',
  'grace',
  'ups_command',
] as const;

const isPositive = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;
const isArgv = (v: unknown): boolean =>
  Array.isArray(v) && v.every((a) => typeof a === 'string') && (v.length === 0 || v[0] !== '');

/**
 * Problems of one `shutdown` object (per UPS entry), each prefixed with `where`; the
 * top-level keys are checked by the convict formats below with the same rules.
 */
export function shutdownProblems(value: unknown, where: string): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`${where} must be an object of shutdown settings`];
  const v = value as Record<string, unknown>;
  const out: string[] = [];
  for (const key of Object.keys(v)) {
    if (!(SHUTDOWN_KEYS as readonly string[]).includes(key))
      out.push(`${where}.${key} is not a known key (known: ${SHUTDOWN_KEYS.join(', ')})`);
  }
  if (v.mode !== undefined && !(SHUTDOWN_MODES as readonly unknown[]).includes(v.mode))
    out.push(`${where}.mode must be one of ${SHUTDOWN_MODES.join(', ')}`);
  for (const key of ['on_battery_for', 'runtime_s'] as const) {
    if (v[key] !== undefined && v[key] !== null && !isPositive(v[key]))
      out.push(`${where}.${key} must be a positive number of seconds (or absent)`);
  }
  const pct = v.battery_charge_pct;
  if (pct !== undefined && pct !== null && !(typeof pct === 'number' && pct >= 0 && pct <= 100))
    out.push(`${where}.battery_charge_pct must be a number from 0 to 100 (or absent)`);
  for (const key of ['secondaries_grace', 'command_timeout', 'grace'] as const) {
    if (v[key] !== undefined && !isPositive(v[key]))
      out.push(`${where}.${key} must be a positive number of seconds`);
  }
  if (v.command !== undefined && !isArgv(v.command))
    out.push(`${where}.command must be a list of strings (argv), e.g. ["systemctl", "poweroff"]`);
  if (
    v.ups_command !== undefined &&
    !(POLICY_UPS_COMMANDS as readonly unknown[]).includes(v.ups_command)
  )
    out.push(`${where}.ups_command must be one of ${POLICY_UPS_COMMANDS.join(', ')}`);
  return out;
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
  name: 'nonempty-string',
  validate(value: unknown) {
    if (typeof value !== 'string' || value.trim() === '') throw new Error('must not be empty');
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
  name: 'optional-watts',
  coerce: (value: unknown) => (typeof value === 'string' ? Number(value) : value),
  validate(value: unknown) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1_000_000) {
      throw new Error('must be a number of watts from 0 (not set) to 1000000');
    }
  },
});

/** A number from the environment or a flag; an empty string means "not used" (null). */
function emptyAsNull(value: unknown): unknown {
  return typeof value === 'string' ? (value.trim() === '' ? null : Number(value)) : value;
}

convict.addFormat({
  name: 'optional-seconds',
  coerce: emptyAsNull,
  validate(value: unknown) {
    if (value !== null && !isPositive(value))
      throw new Error('must be a positive number of seconds, or empty (not used)');
  },
});

convict.addFormat({
  name: 'optional-pct',
  coerce: emptyAsNull,
  validate(value: unknown) {
    if (value !== null && !(typeof value === 'number' && value >= 0 && value <= 100))
      throw new Error('must be a percentage from 0 to 100, or empty (not used)');
  },
});

convict.addFormat({
  name: 'argv',
  coerce: (value: unknown) => {
    if (typeof value !== 'string') return value;
    if (value.trim() === '') return [];
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value; // validate() explains
    }
  },
  validate(value: unknown) {
    if (!isArgv(value))
      throw new Error(
        'must be a list of strings (argv, no shell), e.g. ["systemctl","poweroff"]; in the environment a JSON array',
      );
  },
});

convict.addFormat({
  name: 'ups-command',
  validate(value: unknown) {
    if (!(POLICY_UPS_COMMANDS as readonly unknown[]).includes(value))
      throw new Error(`must be one of ${POLICY_UPS_COMMANDS.join(', ')}`);
  },
});

convict.addFormat({
  name: 'mqtt-url',
  validate(value: unknown) {
    if (typeof value !== 'string') throw new Error('must be a URL string');
    // The key is sensitive (convict leaves the value out): shown here, password masked.
    const shown = showUri(value);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new Error(`must be a URL like mqtt://host:1883, not ${shown}`);
    }
    if (!['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:'].includes(url.protocol)) {
      throw new Error(`scheme must be mqtt://, mqtts://, ws:// or wss://, not ${shown}`);
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
    if (value.trim() === '') return [];
    // convict coerces while it builds the config, outside any validation: a throw here
    // escaped loadConfig. Text that is not JSON stays text and fails validation below.
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  },
  validate(value: unknown) {
    if (typeof value === 'string') {
      throw new Error(
        'must be a JSON array of { id, name, source, poll_interval, nis_port } (not valid JSON)',
      );
    }
    if (!Array.isArray(value))
      throw new Error(
        'must be a list of { id, name, source, poll_interval, nis_port, nominal_power_w, shutdown }',
      );
    const problems: string[] = [];
    value.forEach((item: unknown, i: number) => {
      if (typeof item !== 'object' || item === null) {
        problems.push(`[${i}] must be an object`);
        return;
      }
      const entry = item as Record<string, unknown>;
      for (const key of Object.keys(entry)) {
        if (
          ![
            'id',
            'name',
            'source',
            'poll_interval',
            'nis_port',
            'nominal_power_w',
            'shutdown',
          ].includes(key)
        )
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
      if (
        entry.nis_port !== undefined &&
        (typeof entry.nis_port !== 'number' ||
          !Number.isInteger(entry.nis_port) ||
          entry.nis_port < 1 ||
          entry.nis_port > 65535)
      ) {
        problems.push(`[${i}].nis_port must be a port number from 1 to 65535`);
      }
      const watts = entry.nominal_power_w;
      if (
        watts !== undefined &&
        (typeof watts !== 'number' || !Number.isFinite(watts) || !(watts > 0) || watts > 1_000_000)
      ) {
        problems.push(`[${i}].nominal_power_w must be a number of watts from 1 to 1000000`);
      }
      if (entry.shutdown !== undefined)
        problems.push(...shutdownProblems(entry.shutdown, `[${i}].shutdown`));
    });
    if (problems.length > 0) throw new Error(problems.join('; '));
  },
});

/** One NUT user of `nut_server.users` (config file only; upsd.users semantics). */
export interface NutUserEntry {
  name: string;
  password: string;
  /** Instant commands the user may run through INSTCMD; `all` for every one. */
  instcmds?: string[];
  /** upsmon role: `primary` may also raise FSD; `secondary` only logs in. */
  upsmon?: 'primary' | 'secondary';
}

const NUT_WORD = /^[!-~]+$/;

convict.addFormat({
  name: 'nut-users',
  validate(value: unknown) {
    if (!Array.isArray(value))
      throw new Error('must be a list of { name, password, instcmds, upsmon }');
    const problems: string[] = [];
    const names = new Set<string>();
    value.forEach((item: unknown, i: number) => {
      if (typeof item !== 'object' || item === null) {
        problems.push(`[${i}] must be an object`);
        return;
      }
      const entry = item as Record<string, unknown>;
      for (const key of Object.keys(entry)) {
        if (!['name', 'password', 'instcmds', 'upsmon'].includes(key))
          problems.push(`[${i}].${key} is not a known key`);
      }
      if (typeof entry.name !== 'string' || !NUT_WORD.test(entry.name)) {
        problems.push(`[${i}].name must be a non-empty word without spaces`);
      } else if (names.has(entry.name)) {
        problems.push(`[${i}].name "${entry.name}" is used twice`);
      } else {
        names.add(entry.name);
      }
      // Never echo the password itself: problems are logged.
      if (typeof entry.password !== 'string' || entry.password === '')
        problems.push(`[${i}].password is required`);
      if (
        entry.instcmds !== undefined &&
        (!Array.isArray(entry.instcmds) ||
          entry.instcmds.some((c) => typeof c !== 'string' || !NUT_WORD.test(c)))
      )
        problems.push(`[${i}].instcmds must be a list of command names (or ["all"])`);
      if (entry.upsmon !== undefined && entry.upsmon !== 'primary' && entry.upsmon !== 'secondary')
        problems.push(`[${i}].upsmon must be primary or secondary`);
    });
    if (problems.length > 0) throw new Error(problems.join('; '));
  },
});
