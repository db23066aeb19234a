/**
 * Parses the parameters of a `sim://[model]?param=value` source URI (src/sources/uri.ts)
 * into the simulator's configuration. Pure; every mistake is a SOURCE_URI_INVALID error
 * that names the parameter and what it accepts.
 */

import { Ups2MqttError } from '../../core/errors.ts';
import { slugify } from '../../core/state.ts';
import type { SimInitial } from './model.ts';
import { type MainsSystem, SIM_PROFILES, type SimConfig, type SimProfile } from './physics.ts';
import { hashString } from './prng.ts';

/** The `sim` part of a parsed source URI. */
export interface SimSpec {
  model: string;
  params: Record<string, string>;
}

/** Everything a SimSource needs to build and run its model. */
export interface SimSettings {
  config: SimConfig;
  initial: SimInitial;
  /** Simulated ms per clock ms. */
  speed: number;
  /** Initial reachability; null when the `unreachable` parameter is absent (no comm commands). */
  unreachable: boolean | null;
}

/** Parameter names the simulator accepts (see SimSource for the table). */
export const SIM_PARAMS = [
  'serial',
  'nominal_w',
  'battery_wh',
  'load',
  'load_drift',
  'charge',
  'speed',
  'seed',
  'mains',
  'fail_at',
  'restore_at',
  'unreachable',
] as const;

const DEFAULT_PROFILE = 'smart_ups_1500';
const DEFAULT_LOAD_PCT = 18;
const DEFAULT_LOAD_DRIFT_PCT = 1.5;

function invalid(spec: SimSpec, why: string): never {
  throw new Ups2MqttError('SOURCE_URI_INVALID', `invalid source "sim://${spec.model}": ${why}`, {
    context: { model: spec.model },
  });
}

function num(spec: SimSpec, name: string, min: number, max: number): number | undefined {
  const text = spec.params[name];
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    invalid(spec, `parameter ${name}="${text}" must be a number from ${min} to ${max}`);
  }
  return value;
}

function flag(spec: SimSpec, name: string): boolean | null {
  const text = spec.params[name];
  if (text === undefined) return null;
  if (['1', 'true', 'yes', 'on'].includes(text.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(text.toLowerCase())) return false;
  return invalid(spec, `parameter ${name}="${text}" must be true or false`);
}

function mains(spec: SimSpec): MainsSystem {
  const text = spec.params.mains;
  if (text === undefined || text === '230') return 230;
  if (text === '120') return 120;
  return invalid(spec, `parameter mains="${text}" must be 230 or 120`);
}

/**
 * The profile for a model name: `default` (or empty) and known profile names pick a
 * profile; any other name runs the default hardware under that name, `<name> (simulated)`,
 * so several simulated units can be told apart.
 */
export function resolveProfile(modelName: string): SimProfile {
  const key = slugify(modelName);
  const fallback = SIM_PROFILES[DEFAULT_PROFILE] as SimProfile;
  if (key === '' || key === 'default') return fallback;
  const profile = SIM_PROFILES[key];
  if (profile !== undefined) return profile;
  return { ...fallback, model: `${modelName} (simulated)` };
}

/** `SIM` and nine digits derived from the model name: stable across runs, distinct per name. */
export function defaultSerial(model: string): string {
  return `SIM${String(hashString(model) % 1_000_000_000).padStart(9, '0')}`;
}

function decodePath(spec: SimSpec): string {
  try {
    return decodeURIComponent(spec.model);
  } catch {
    return invalid(spec, 'the model name is not valid percent-encoding');
  }
}

/** Validates the parameters and builds the simulator settings. */
export function parseSimParams(spec: SimSpec): SimSettings {
  for (const key of Object.keys(spec.params)) {
    if (!(SIM_PARAMS as readonly string[]).includes(key)) {
      invalid(spec, `unknown parameter "${key}"; expected one of ${SIM_PARAMS.join(', ')}`);
    }
  }
  const profile = resolveProfile(decodePath(spec));
  const serial = spec.params.serial ?? defaultSerial(profile.model);
  if (serial.trim() === '') invalid(spec, 'parameter serial must not be empty');
  const speed = num(spec, 'speed', 0.001, 10_000) ?? 1;
  const failAtS = num(spec, 'fail_at', 0, 1e9);
  const restoreAtS = num(spec, 'restore_at', 0, 1e9);
  if (restoreAtS !== undefined && (failAtS === undefined || restoreAtS <= failAtS)) {
    invalid(spec, 'parameter restore_at needs fail_at and must be later than it');
  }
  const seed = num(spec, 'seed', 0, 0xffffffff);
  if (seed !== undefined && !Number.isInteger(seed)) {
    invalid(spec, 'parameter seed must be a whole number');
  }
  const nominalW = num(spec, 'nominal_w', 1, 1_000_000);
  const config: SimConfig = {
    model: profile.model,
    serial,
    nominalPowerW: nominalW ?? profile.nominalPowerW,
    // A custom rating keeps the profile's VA/W ratio (1.5 for the Smart-UPS 1500).
    nominalApparentVa:
      nominalW === undefined
        ? profile.nominalApparentVa
        : Math.round((nominalW * profile.nominalApparentVa) / profile.nominalPowerW),
    batteryCapacityWh: num(spec, 'battery_wh', 1, 1_000_000) ?? profile.batteryCapacityWh,
    batteryNominalV: profile.batteryNominalV,
    mains: mains(spec),
    loadDriftPct: num(spec, 'load_drift', 0, 20) ?? DEFAULT_LOAD_DRIFT_PCT,
    // The script is given in clock seconds; the model counts simulated time.
    failAtMs: failAtS === undefined ? null : failAtS * 1000 * speed,
    restoreAtMs: restoreAtS === undefined ? null : restoreAtS * 1000 * speed,
  };
  return {
    config,
    initial: {
      chargePct: num(spec, 'charge', 0, 100) ?? 100,
      loadPct: num(spec, 'load', 0, 150) ?? DEFAULT_LOAD_PCT,
      seed: seed ?? hashString(serial),
    },
    speed,
    unreachable: flag(spec, 'unreachable'),
  };
}
