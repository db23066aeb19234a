/**
 * Fuzz targets of the configuration loader (src/config/load.ts with its formats and the
 * source URI parser): random environments and random config files. Every input gets a
 * LoadResult (its documented result type), never an exception; and no password given
 * anywhere (mqtt.url, UPS2MQTT_MQTT_PASSWORD, a nut:// source, a config file) appears in
 * the problems or the effective configuration — what `config check` and the start log print.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import YAML from 'yaml';
import { type AppConfig, envNames, type LoadResult, loadConfig } from '../../src/config/load.ts';
import { parseSourceUri } from '../../src/sources/uri.ts';
import { check, coded, type FuzzTarget, mutated, nastyText, note } from './harness.ts';

/** A password no other value can contain by chance. */
const secret = fc.stringMatching(/^[A-Za-z0-9]{10}$/).map((s) => `Pw${s}`);

/** Values that sit near what each key accepts, plus noise; with a password when given one. */
function valueFor(secretText: string | undefined): fc.Arbitrary<string> {
  const plain = fc.oneof(
    fc.constantFrom(
      '',
      '1',
      '0',
      '-1',
      '0.5',
      '1e309',
      'NaN',
      'true',
      'false',
      'yes',
      'sim://',
      'nis://127.0.0.1:3551',
      'nis://[::1]:99999',
      'hid://auto',
      'hid://051d:0002/%E0%A4%A',
      'apcsmart:///dev/ttyS0',
      'mqtt://localhost:1883',
      '[]',
      '[{"source":"sim://"}]',
      '{"a":1}',
      '[1,2',
      'load.off,shutdown.return',
      'trace',
      'ups2mqtt',
      '#',
      '/x/',
    ),
    nastyText(40),
  );
  if (secretText === undefined) return plain;
  return fc.oneof(
    plain,
    fc.constantFrom(
      `mqtt://user:${secretText}@127.0.0.1:1883`,
      `MQTT://user:${secretText}@host`,
      `mqtt://us@er:${secretText}@host`,
      `mqtt://user:${secretText}@@host:bad`,
      `mqtt://user:${secretText}/x@host`,
      `ws://user:${secretText}@host/mqtt`,
      `http://user:${secretText}@host`,
      `nut://monitor:${secretText}@127.0.0.1/ups`,
      `nut://monitor:${secretText}@127.0.0.1:99999/ups`,
      `nut://monitor:${secretText}@127.0.0.1`,
      `nut://monitor:${secretText}%ZZ@127.0.0.1/ups`,
      `[{"id":"a","source":"nut://u:${secretText}@h/ups"},{"id":"a","source":"nut://u:${secretText}@h:0/x"}]`,
      `[{"source":"nut://u:${secretText}@h/ups","bad":1}]`,
      `[{"source":"nut://u:${secretText}@h/ups"`,
      `\0nut://u:${secretText}@h/ups`,
      `u:${secretText}@h`,
    ),
  );
}

const ENV_NAMES = [...envNames().values()];
/** The settings that carry credentials; a password put anywhere else is the user's to keep. */
const SECRET_KEYS = ['UPS2MQTT_SOURCE', 'UPS2MQTT_UPSES', 'UPS2MQTT_MQTT_URL'];

/** Text of every problem and of the effective configuration: what the CLI prints. */
const CREDENTIAL_KEYS = new Set(['source', 'upses', 'mqtt.url', 'mqtt.password']);

function printed(result: LoadResult): string {
  return result.ok ? JSON.stringify(result.effective) : JSON.stringify(result.problems);
}

/**
 * The passwords an accepted configuration really holds: mqtt.password, the password inside
 * mqtt.url, and those of nut:// sources. (After a mutation the generated password may have
 * become part of a user name or a host, which is shown by design.)
 */
function configuredPasswords(config: AppConfig): string[] {
  const out = [config.mqtt.password];
  try {
    out.push(decodeURIComponent(new URL(config.mqtt.url).password));
  } catch {
    // A URL mqtt.js would refuse holds no password it sends.
  }
  for (const ups of config.upses) if (ups.spec.kind === 'nut') out.push(ups.spec.password ?? '');
  return out.filter((p) => p.length >= 4);
}

/**
 * The result is a LoadResult and what the CLI would print holds no password: for an accepted
 * configuration, none it really holds; for a refused one, not the generated password (only in
 * the problems about source, upses and mqtt when the input was mutated).
 */
function checkResult(
  result: ReturnType<typeof coded<LoadResult>>,
  secretText: string,
  exact = true,
): void {
  check(result.ok, 'loadConfig threw');
  const r = result.value;
  note(r.ok ? 'accepted' : 'refused');
  if (!r.ok) {
    check(r.problems.length > 0, 'refused without a problem');
    for (const p of r.problems)
      check(typeof p.message === 'string' && p.message !== '', 'empty problem');
  }
  // A mutated file may have turned the password into anything (a key name, a user name, a
  // number): there, only the problems about the settings that carry credentials count.
  const text =
    r.ok || exact
      ? printed(r)
      : JSON.stringify(r.problems.filter((p) => CREDENTIAL_KEYS.has(p.key)));
  // Accepted: the passwords it holds that came from the generator (a short noise value such
  // as `true` would match other text); refused: the generated password itself.
  const secrets = r.ok
    ? configuredPasswords(r.config).filter((p) => p.includes(secretText))
    : [secretText];
  for (const s of secrets) {
    check(
      !text.includes(s),
      `the password shows in ${r.ok ? 'the effective config' : 'a problem'}: ${text.slice(0, 300)}`,
    );
  }
  if (r.ok && r.config.mqtt.password.startsWith(secretText))
    check(text.includes('***'), 'not masked');
}

let dir: string | undefined;

/** Writes `text` to a fresh file with extension `ext` under one private temp folder. */
export function tempFile(text: string, ext: string): string {
  dir ??= mkdtempSync(join(tmpdir(), 'ups2mqtt-fuzz-config-'));
  const file = join(dir, `config${ext}`);
  writeFileSync(file, text);
  return file;
}

/** Removes the temp folder (the test and the bench call it when done). */
export function cleanupConfigFiles(): void {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}

/** A config object near the documented shape, with a password in several places. */
function configObject(secretText: string): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(
    {
      source: valueFor(secretText),
      poll_interval: fc.oneof(fc.double(), fc.constantFrom('1', -1, 0, null)),
      upses: fc.oneof(
        fc.constant([{ id: 'a', source: `nut://u:${secretText}@h/ups` }]),
        fc.array(
          fc.record(
            {
              id: fc.oneof(fc.constantFrom('a', 'b', 'A', ''), nastyText(8)),
              source: valueFor(secretText),
              poll_interval: fc.oneof(fc.double(), fc.constant('x')),
              name: fc.oneof(fc.string(), fc.integer()),
              extra: fc.jsonValue({ maxDepth: 1 }),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 3 },
        ),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      mqtt: fc.oneof(
        fc.record(
          {
            url: valueFor(secretText),
            password: fc.constant(secretText),
            username: fc.oneof(fc.string(), fc.integer()),
            protocol_version: fc.constantFrom(3, 4, 5, '5'),
            keepalive: fc.oneof(fc.double(), fc.string()),
          },
          { requiredKeys: [] },
        ),
        fc.jsonValue({ maxDepth: 1 }),
      ),
      commands: fc.record(
        { allow: fc.oneof(fc.array(fc.string()), fc.string()) },
        { requiredKeys: [] },
      ),
      unknown_key: fc.jsonValue({ maxDepth: 2 }),
      __proto__: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: [] },
  );
}

/**
 * Settings a bridge would accept, with a password in every place that carries one. Each
 * place gets its own (the generated one plus a letter), so that a mutation turning one into
 * a user name is not mistaken for another place's password being printed.
 */
function validSecretEnv(secretText: string): fc.Arbitrary<Record<string, string>> {
  return fc.record(
    {
      UPS2MQTT_SOURCE: fc.constantFrom('sim://', `nut://monitor:${secretText}s@127.0.0.1/ups`),
      UPS2MQTT_MQTT_URL: fc.constantFrom(
        `mqtt://user:${secretText}u@127.0.0.1:1883`,
        `MQTT://user:${secretText}u@host`,
        `mqtt://us@er:${secretText}u@host`,
        `mqtt://user:${secretText}u@@host`,
        `wss://user:${secretText}u@host:8884/mqtt`,
      ),
      UPS2MQTT_UPSES: fc.constantFrom(
        '',
        `[{"id":"a","source":"nut://u:${secretText}n@h/ups"},{"id":"b","source":"sim://"}]`,
      ),
    },
    { requiredKeys: ['UPS2MQTT_SOURCE'] },
  );
}

function validConfigObject(secretText: string): fc.Arbitrary<Record<string, unknown>> {
  return validSecretEnv(secretText).map((env) => ({
    source: env.UPS2MQTT_SOURCE,
    ...(env.UPS2MQTT_UPSES ? { upses: JSON.parse(env.UPS2MQTT_UPSES) as unknown } : {}),
    mqtt: { url: env.UPS2MQTT_MQTT_URL ?? 'mqtt://localhost', password: `${secretText}p` },
  }));
}

export const CONFIG_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'config/environment',
    runs: 150,
    property: () =>
      fc.property(
        secret.chain((s) =>
          fc.tuple(
            fc.constant(s),
            // Noise in a few keys (often none, so the accepting path runs too).
            fc.oneof(
              fc.constant({}),
              fc.dictionary(fc.constantFrom(...ENV_NAMES), valueFor(undefined), { maxKeys: 4 }),
            ),
            fc.oneof(
              validSecretEnv(s),
              fc.dictionary(fc.constantFrom(...SECRET_KEYS), valueFor(s), { maxKeys: 3 }),
            ),
            fc.boolean(),
          ),
        ),
        ([s, env, secretEnv, withPassword]) => {
          const full = {
            UPS2MQTT_SOURCE: 'sim://',
            ...env,
            ...secretEnv,
            ...(withPassword ? { UPS2MQTT_MQTT_PASSWORD: s } : {}),
          };
          checkResult(
            coded(() => loadConfig({ env: full, args: [] }), []),
            s,
          );
        },
      ),
  },
  {
    name: 'config/arguments',
    runs: 150,
    property: () =>
      fc.property(
        secret.chain((s) =>
          fc.tuple(
            fc.constant(s),
            fc.array(
              fc.oneof(
                fc.constantFrom('--source', '--mqtt-url', '--', '-x', '--source='),
                valueFor(s),
              ),
              { maxLength: 8 },
            ),
          ),
        ),
        ([s, args]) =>
          checkResult(
            coded(() => loadConfig({ env: {}, args }), []),
            s,
          ),
      ),
  },
  {
    name: 'config/file',
    runs: 80,
    property: () =>
      fc.property(
        secret.chain((s) =>
          fc.tuple(
            fc.constant(s),
            fc.oneof(validConfigObject(s), configObject(s)).chain((obj) =>
              fc.oneof(
                fc.constant({ text: JSON.stringify(obj), exact: true }),
                fc.constant({ text: YAML.stringify(obj), exact: true }),
                mutated(Buffer.from(YAML.stringify(obj)), 3).map((b) => ({
                  text: b.toString('utf8'),
                  exact: false,
                })),
                mutated(Buffer.from(JSON.stringify(obj)), 3).map((b) => ({
                  text: b.toString('utf8'),
                  exact: false,
                })),
              ),
            ),
            fc.constantFrom('.json', '.yaml', '.yml', '.conf'),
          ),
        ),
        ([s, { text, exact }, ext]) => {
          const file = tempFile(text, ext);
          checkResult(
            coded(() => loadConfig({ file, env: {}, args: [] }), []),
            s,
            exact,
          );
        },
      ),
  },
  {
    name: 'config/file-bytes',
    runs: 80,
    property: () =>
      fc.property(
        fc.oneof(
          nastyText(200),
          fc.constantFrom(
            '&a [*a, *a, *a]',
            'a: &x [1]\nb: [*x, *x, *x, *x]\n',
            '!!js/function "x"',
            '- 1\n- 2\n',
            '"just text"',
            'null',
            '{"__proto__": {"polluted": true}}',
            'mqtt: !!binary aGVsbG8=',
            `a: ${'['.repeat(200)}`,
          ),
        ),
        fc.constantFrom('.json', '.yaml'),
        (text, ext) => {
          const file = tempFile(text, ext);
          const r = coded(() => loadConfig({ file, env: {}, args: [] }), []);
          check(r.ok, 'threw');
          check(({} as Record<string, unknown>).polluted === undefined, 'prototype polluted');
        },
      ),
  },
  {
    name: 'config/source-uri',
    runs: 400,
    property: () =>
      fc.property(
        fc.oneof(
          nastyText(60),
          fc
            .tuple(
              fc.constantFrom('nis', 'sim', 'apcsmart', 'hid', 'hid-replay', 'nut', 'NUT', 'x-y'),
              nastyText(40),
            )
            .map(([scheme, rest]) => `${scheme}://${rest}`),
        ),
        (uri) => {
          coded(() => parseSourceUri(uri), ['SOURCE_URI_INVALID']);
        },
      ),
  },
];
