/**
 * Dependencies run one way: the modules around the bridge (commands, Home Assistant
 * discovery, the HTTP endpoint, the protocol servers, the power policy) depend on `core/`,
 * `mqtt/` and `util/` only; `bridge/` and `cli/` wire them. A change that imports
 * against the direction fails here with the offending file and import.
 */
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { describe, it } from 'node:test';

const SRC = join(import.meta.dirname, '../../../src');

/** Top-level folder of src/ → the top-level folders it may import from (itself always). */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  util: ['core'],
  mqtt: ['core', 'util'],
  sources: ['core', 'util'],
  commands: ['core', 'mqtt', 'util', 'ha'],
  ha: ['core', 'mqtt', 'util'],
  http: ['core', 'mqtt', 'util'],
  servers: ['core', 'mqtt', 'util', 'commands'],
  policy: ['core', 'mqtt', 'util', 'commands'],
  config: ['core', 'util', 'sources'],
  demo: ['core', 'util'],
  bridge: ['core', 'mqtt', 'util', 'commands', 'ha', 'sources'],
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(text: string): string[] {
  const out: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const spec = m[1] ?? m[2];
    if (spec) out.push(spec);
  }
  return out;
}

const files = walk(SRC).map((path) => ({
  path,
  rel: relative(SRC, path).split('\\').join('/'),
  text: readFileSync(path, 'utf8'),
}));

describe('import direction', () => {
  it('finds the source files and their imports', () => {
    assert.ok(files.length > 50);
    const router = files.find((f) => f.rel === 'commands/router.ts');
    assert.ok(router && importsOf(router.text).includes('../core/ports.ts'));
  });

  it('each folder imports only from the folders below it', () => {
    const wrong: string[] = [];
    for (const f of files) {
      const top = f.rel.split('/')[0] ?? '';
      if (top === 'cli' || !f.rel.includes('/')) continue;
      const allowed = ALLOWED[top];
      if (!allowed) {
        if (top !== 'cli') wrong.push(`${f.rel}: folder src/${top} has no rule in this test`);
        continue;
      }
      for (const spec of importsOf(f.text)) {
        if (!spec.startsWith('.')) continue;
        const target = posix.normalize(posix.join(posix.dirname(f.rel), spec));
        const targetTop = target.split('/')[0] ?? '';
        if (targetTop === top || allowed.includes(targetTop)) continue;
        wrong.push(`${f.rel} imports ${spec}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('only the gateway (and the demo broker) talk MQTT', () => {
    const users = files
      .filter((f) => importsOf(f.text).some((s) => s === 'mqtt' || s.startsWith('mqtt/')))
      .map((f) => f.rel);
    assert.deepEqual(users, ['mqtt/gateway.ts']);
  });

  it('every MQTT topic of the contract is built in mqtt/topics.ts', () => {
    const handBuilt =
      /`[^`]*\$\{[^}]*\}\/(?:state|availability|event|command\/|shutdown_delay|bridge\/|device\/)/;
    const wrong = files
      .filter((f) => f.rel !== 'mqtt/topics.ts' && !f.rel.startsWith('http/page/'))
      .filter((f) =>
        f.text.split('\n').some((line) => handBuilt.test(line) && !/mosquitto_/.test(line)),
      )
      .map((f) => f.rel);
    assert.deepEqual(wrong, []);
  });
});
