// The library's version, from its package.json (found above this module, in src/ or in dist/src/).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'affinity' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here: look one directory up
    }
  }
  return 'unknown';
}

/** This build's version (package.json). */
export const VERSION = findVersion();
