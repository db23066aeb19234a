import { readFileSync } from 'node:fs';

interface PackageInfo {
  name: string;
  version: string;
  homepage: string;
}

let cached: PackageInfo | undefined;

/** Name, version and homepage from package.json (two levels up from src/cli and dist/cli). */
export function packageInfo(): PackageInfo {
  if (!cached) {
    const raw = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as Partial<PackageInfo>;
    cached = {
      name: raw.name ?? 'ups2mqtt',
      version: raw.version ?? '0.0.0',
      homepage: raw.homepage ?? 'https://github.com/ups2mqtt/ups2mqtt',
    };
  }
  return cached;
}
