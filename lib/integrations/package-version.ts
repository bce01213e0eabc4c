import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The version of this package, from its package.json (found upwards from this file, in lib/ or dist/lib/). */
export function packageVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'nestjs-taskflow' && manifest.version) return manifest.version;
    } catch {
      // no package.json here: go up
    }
  }
  return '0.0.0';
}
