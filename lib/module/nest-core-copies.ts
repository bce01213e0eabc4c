import { sep } from 'node:path';
import { messages } from '../errors/messages';

const CORE_FOLDER = `${sep}node_modules${sep}@nestjs${sep}core${sep}`;

/** The folders of the copies of @nestjs/core loaded into this process through require (each a separate set of Nest's classes). */
export function loadedNestCoreCopies(cache: NodeJS.Dict<NodeModule> = require.cache): string[] {
  const copies = new Set<string>();
  for (const file of Object.keys(cache)) {
    const at = file.lastIndexOf(CORE_FOLDER);
    if (at >= 0) copies.add(file.slice(0, at + CORE_FOLDER.length - 1));
  }
  return [...copies];
}

/** The folder of the copy of @nestjs/core this package loads. */
function ownNestCore(): string | null {
  let file: string;
  try {
    file = require.resolve('@nestjs/core');
  } catch {
    // Not resolvable through require (a bundle, an ES-module-only layout): nothing to compare with.
    return null;
  }
  const at = file.lastIndexOf(CORE_FOLDER);
  return at >= 0 ? file.slice(0, at + CORE_FOLDER.length - 1) : null;
}

/**
 * Refuses to start with two copies of @nestjs/core loaded, which happens when the package is
 * installed from a folder that has its own node_modules (npm install ../nestjs-taskflow): its
 * ModuleRef, Reflector and DiscoveryService are then other classes than the app's, and Nest
 * fails later with "Nest can't resolve dependencies of the TaskExplorer (..., ?, ...)". Copies
 * loaded as ES modules are not seen here.
 */
export function assertOneNestCore(cache: NodeJS.Dict<NodeModule> = require.cache, own: string | null = ownNestCore()): void {
  const copies = loadedNestCoreCopies(cache);
  if (copies.length < 2 || own === null) return;
  throw new Error(
    messages.duplicateNestCore(
      own,
      copies.filter((copy) => copy !== own),
    ),
  );
}
