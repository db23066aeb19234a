/**
 * Shared machinery of the fuzz targets (test/fuzz/*.test.ts and bench/fuzz.ts).
 *
 * A target is a fast-check property over one parser. The contract every target checks
 * (issue 14, "Fuzzing"): each input gets a value or a coded error (an Ups2MqttError with a
 * code, or the module's documented result type), never another exception; each run ends
 * within a time bound; outputs stay bounded relative to the input.
 *
 * The test command runs every target with a fixed seed and a small number of runs; a failure
 * message carries the seed and the shrunk counterexample (fast-check prints both), and
 * `UPS2MQTT_FUZZ_SEED` / `UPS2MQTT_FUZZ_RUNS` replay or widen a run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { type ErrorCode, isUps2MqttError } from '../../src/core/errors.ts';

/** A fuzz target: a named property factory and the number of runs the test command uses. */
export interface FuzzTarget {
  /** `area/what`, e.g. `nis/framing-split`. */
  readonly name: string;
  /** Runs in the test command (kept small: all targets together stay well under 15 s). */
  readonly runs: number;
  /** Builds a fresh property (fast-check properties keep no state between asserts). */
  property(): fc.IRawProperty<unknown[], boolean>;
}

/** The seed of the test command; fixed so a failure reproduces. */
export const DEFAULT_SEED = 20_261_403;

/** Seed from `UPS2MQTT_FUZZ_SEED`, else {@link DEFAULT_SEED}. */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.UPS2MQTT_FUZZ_SEED;
  const n = raw === undefined ? Number.NaN : Number(raw);
  return Number.isInteger(n) ? n : DEFAULT_SEED;
}

/** Runs multiplier from `UPS2MQTT_FUZZ_RUNS_FACTOR` (default 1). */
export function runsFactor(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.UPS2MQTT_FUZZ_RUNS_FACTOR ?? '1');
  return Number.isFinite(n) && n > 0 ? n : 1;
}

/** Longest time one input may take before it counts as a hang, in ms. */
export const RUN_BUDGET_MS = 2000;

/** Runs `target` as the test command does; throws fast-check's report (seed included). */
export async function assertTarget(target: FuzzTarget): Promise<void> {
  const seed = fuzzSeed();
  await fc.assert(target.property(), {
    seed,
    numRuns: Math.max(1, Math.round(target.runs * runsFactor())),
    endOnFailure: false,
    verbose: 1,
    // Not a hang guard for synchronous code (nothing can interrupt it): that is what the
    // per-run elapsed check in `coded` and node:test's timeout are for.
    timeout: RUN_BUDGET_MS,
  });
}

/** What one input produced: a value, or a coded error. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: ErrorCode };

/**
 * Calls `fn` and classifies the result. An exception that is not an Ups2MqttError with one
 * of `codes` fails the property (rethrown, so fast-check shrinks and reports it), and so does
 * a run that takes longer than {@link RUN_BUDGET_MS}.
 */
export function coded<T>(fn: () => T, codes: readonly ErrorCode[]): Outcome<T> {
  const started = performance.now();
  let outcome: Outcome<T>;
  try {
    outcome = { ok: true, value: fn() };
  } catch (err) {
    if (!isUps2MqttError(err) || !codes.includes(err.code)) throw err;
    outcome = { ok: false, code: err.code };
  }
  withinBudget(started);
  return count(outcome);
}

/**
 * Outcomes seen by {@link coded} and {@link codedAsync} since the last {@link resetTally}:
 * `value` or the error code. The bench prints it per target, to show that the inputs reach
 * both the accepting and the refusing paths.
 */
export const tally = new Map<string, number>();

export function resetTally(): void {
  tally.clear();
}

/** Counts a named outcome that is not an exception (`accepted`, `refused`…). */
export function note(key: string): void {
  tally.set(key, (tally.get(key) ?? 0) + 1);
}

function count<T>(outcome: Outcome<T>): Outcome<T> {
  const key = outcome.ok ? 'value' : outcome.code;
  tally.set(key, (tally.get(key) ?? 0) + 1);
  return outcome;
}

function withinBudget(started: number): void {
  const took = performance.now() - started;
  if (took > RUN_BUDGET_MS) throw new Error(`one input took ${Math.round(took)} ms`);
}

/** Async form of {@link coded}. */
export async function codedAsync<T>(
  fn: () => Promise<T>,
  codes: readonly ErrorCode[],
): Promise<Outcome<T>> {
  const started = performance.now();
  let outcome: Outcome<T>;
  try {
    outcome = { ok: true, value: await fn() };
  } catch (err) {
    if (!isUps2MqttError(err) || !codes.includes(err.code)) throw err;
    outcome = { ok: false, code: err.code };
  }
  withinBudget(started);
  return count(outcome);
}

/** Fails the property with `message` unless `cond` holds. */
export function check(cond: boolean, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

/** Bytes of any value, up to `maxLength`. */
export function bytes(maxLength = 512): fc.Arbitrary<Buffer> {
  // `size: 'max'` spreads lengths over the whole range (the default keeps them tiny).
  return fc.uint8Array({ maxLength, size: 'max' }).map((a) => Buffer.from(a));
}

/**
 * Cut points for splitting a buffer into chunks (the way TCP or a serial port may deliver
 * it): sorted offsets inside the buffer, duplicates giving empty chunks.
 */
export function splitPoints(maxCuts = 12): fc.Arbitrary<number[]> {
  return fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: maxCuts });
}

/** `buf` cut at the fractional positions `cuts`. */
export function cut(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const offsets = cuts.map((f) => Math.floor(f * buf.length)).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const at of offsets) {
    out.push(buf.subarray(from, at));
    from = at;
  }
  out.push(buf.subarray(from));
  return out;
}

/** Text with the characters parsers trip over: controls, NUL, quotes, colons, non-ASCII. */
export function nastyText(maxLength = 120): fc.Arbitrary<string> {
  const special = fc.constantFrom(
    '\0',
    '\n',
    '\r',
    '\t',
    ' ',
    ':',
    '"',
    '\\',
    '%',
    '@',
    '/',
    '.',
    '-',
    '0',
    '9',
    'x',
    'N/A',
    '\u00e9',
    '\ud83d\ude00',
    '\ud800',
    '\uffff',
  );
  return fc
    .array(fc.oneof(special, fc.string({ maxLength: 4, unit: 'binary' })), {
      maxLength,
      size: 'medium',
    })
    .map((parts) => parts.join('').slice(0, maxLength * 4));
}

/** Mutations of a valid byte string: flips, truncation, insertion, deletion, duplication. */
export function mutated(base: Buffer, maxOps = 4): fc.Arbitrary<Buffer> {
  const op = fc.oneof(
    fc.record({
      kind: fc.constant('flip' as const),
      at: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      data: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    }),
    fc.record({
      kind: fc.constant('delete' as const),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: 8 }),
    }),
    fc.record({
      kind: fc.constant('repeat' as const),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: 16 }),
    }),
  );
  return fc.array(op, { minLength: 1, maxLength: maxOps }).map((ops) => {
    let buf = Buffer.from(base);
    for (const o of ops) {
      const at = buf.length === 0 ? 0 : o.at % (buf.length + 1);
      switch (o.kind) {
        case 'flip':
          if (buf.length > 0) buf[at % buf.length] = o.value;
          break;
        case 'truncate':
          buf = buf.subarray(0, at);
          break;
        case 'insert':
          buf = Buffer.concat([buf.subarray(0, at), Buffer.from(o.data), buf.subarray(at)]);
          break;
        case 'delete':
          buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + o.length)]);
          break;
        case 'repeat':
          buf = Buffer.concat([buf.subarray(0, at + o.length), buf.subarray(at)]);
          break;
      }
    }
    return buf;
  });
}

const FUZZ_FIXTURES = fileURLToPath(new URL('../fixtures/fuzz/', import.meta.url));

/** One kept crashing input (test/fixtures/fuzz/<area>/*.json). */
export interface FuzzFixture {
  /** File name, for the test title. */
  file: string;
  /** What broke and which commit fixed it. */
  found: string;
  /** The input, in the target's own shape (see each area's test). */
  input: unknown;
  /** The whole file (areas keep more fields: the expected outcome, the secret to look for). */
  data: Record<string, unknown>;
}

/** The kept inputs of one area, sorted by file name. */
export function fuzzFixtures(area: string): FuzzFixture[] {
  const dir = `${FUZZ_FIXTURES}${area}/`;
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    return [];
  }
  return files.map((file) => {
    const data = JSON.parse(readFileSync(`${dir}${file}`, 'utf8')) as Record<string, unknown>;
    return { file, found: String(data.found), input: data.input, data };
  });
}

/** Reads fixture bytes written as lower-case hex (`"05 84 09"` or `"058409"`). */
export function hexInput(text: unknown): Buffer {
  if (typeof text !== 'string') throw new Error('fixture input must be hex text');
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}
