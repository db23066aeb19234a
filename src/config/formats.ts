import convict from 'convict';
import { parseSourceUri } from '../sources/uri.ts';

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
      throw new Error(
        'must be a list of { id, name, source, poll_interval, nis_port, nominal_power_w }',
      );
    const problems: string[] = [];
    value.forEach((item: unknown, i: number) => {
      if (typeof item !== 'object' || item === null) {
        problems.push(`[${i}] must be an object`);
        return;
      }
      const entry = item as Record<string, unknown>;
      for (const key of Object.keys(entry)) {
        if (!['id', 'name', 'source', 'poll_interval', 'nis_port', 'nominal_power_w'].includes(key))
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
