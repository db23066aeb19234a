import { cpSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** What `npm pack` builds the package from (prepack compiles src/ into dist/). */
const PACK_SOURCES = [
  'package.json',
  'package-lock.json',
  'README.md',
  'tsconfig.json',
  'tsconfig.build.json',
  'src',
  'docs',
  'schema',
] as const;

/**
 * Copies what the package is built from into `dest`, with node_modules linked, so a test can
 * run `npm pack` there and leave the checkout's dist/ alone.
 */
export function copyPackTree(root: string, dest: string): void {
  for (const entry of PACK_SOURCES)
    cpSync(join(root, entry), join(dest, entry), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dest, 'node_modules'), 'dir');
}
