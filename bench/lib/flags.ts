/**
 * Command-line flags of the benchmark scripts: `--name value` pairs over node:util
 * parseArgs, with numbers and comma lists checked so a typo fails before anything starts.
 */
import { parseArgs } from 'node:util';
import { Ups2MqttError } from '../../src/core/errors.ts';

/** One flag: its default (as text, like on the command line) and what it means. */
export interface FlagSpec {
  readonly default: string;
  readonly help: string;
}

/** Parsed flags: raw strings plus typed readers. */
export interface Flags {
  readonly help: boolean;
  text(name: string): string;
  /** A finite number > 0 (or ≥ 0 with `allowZero`). */
  number(name: string, allowZero?: boolean): number;
  /** A comma-separated list of numbers > 0. */
  numbers(name: string): number[];
  /** A comma-separated list restricted to `allowed`. */
  choices<T extends string>(name: string, allowed: readonly T[]): T[];
}

/** Parses `argv` against `specs`; unknown flags are an error (CONFIG_INVALID). */
export function parseFlags(
  argv: readonly string[],
  specs: Readonly<Record<string, FlagSpec>>,
): Flags {
  const options: Record<string, { type: 'string' } | { type: 'boolean' }> = {
    help: { type: 'boolean' },
  };
  for (const name of Object.keys(specs)) options[name] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new Ups2MqttError('CONFIG_INVALID', err instanceof Error ? err.message : String(err));
  }
  const text = (name: string): string => {
    const spec = specs[name];
    if (spec === undefined) throw new Ups2MqttError('CONFIG_INVALID', `no flag --${name}`);
    const value = values[name];
    return typeof value === 'string' ? value : spec.default;
  };
  const bad = (name: string, why: string): Ups2MqttError =>
    new Ups2MqttError('CONFIG_INVALID', `--${name} ${JSON.stringify(text(name))}: ${why}`);
  const toNumber = (name: string, raw: string, allowZero: boolean): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || (n === 0 && !allowZero)) {
      throw bad(name, allowZero ? 'expected a number ≥ 0' : 'expected a number > 0');
    }
    return n;
  };
  return {
    help: values.help === true,
    text,
    number: (name, allowZero = false) => toNumber(name, text(name), allowZero),
    numbers: (name) =>
      text(name)
        .split(',')
        .map((part) => toNumber(name, part, false)),
    choices: <T extends string>(name: string, allowed: readonly T[]): T[] =>
      text(name)
        .split(',')
        .map((part) => {
          const hit = allowed.find((a) => a === part.trim());
          if (hit === undefined) throw bad(name, `expected some of ${allowed.join(', ')}`);
          return hit;
        }),
  };
}

/** The `--help` text: one line per flag with its default. */
export function flagHelp(
  script: string,
  summary: string,
  specs: Readonly<Record<string, FlagSpec>>,
): string {
  const lines = Object.entries(specs).map(
    ([name, spec]) => `  --${name.padEnd(14)} ${spec.help} (default ${spec.default})`,
  );
  return `node --import tsx bench/${script}.ts [flags]\n${summary}\n\n${lines.join('\n')}\n`;
}
