/**
 * The Supervisor takes every file named config.json, config.yaml or config.yml in the
 * repository (outside dot-folders and rootfs) for an add-on (docs/homeassistant.md#add-on-packaging):
 * addon/config.yaml must be the only one.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const ADDON_DEFINITION = /^config\.(json|ya?ml)$/;

function findDefinitions(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules' || entry.name === 'rootfs') {
      continue;
    }
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findDefinitions(path));
    else if (ADDON_DEFINITION.test(entry.name)) found.push(relative(root, path));
  }
  return found;
}

describe('repository layout for the Supervisor', () => {
  it('addon/config.yaml is the only file the Supervisor could take for an add-on', () => {
    assert.deepEqual(findDefinitions(root), ['addon/config.yaml']);
  });
});
