import type { DataSource } from 'typeorm';

/**
 * SQLite's LOWER() folds ASCII letters only, so `search` missed tags and arguments whose
 * non-ASCII letters differ in case from the needle's ('Émile' for 'émile', 'ÜBER' for
 * 'über'), although the memory store, PostgreSQL and MariaDB found them. The package
 * registers this function on its SQLite handle: JavaScript's toLowerCase, as the memory
 * store and the stored search_text fold.
 */
export const SQLITE_FOLD = 'taskflow_fold';

interface FunctionHandle {
  function(name: string, options: { deterministic: boolean }, fn: (value: unknown) => unknown): unknown;
}

const registered = new WeakSet<object>();

/** Registers SQLITE_FOLD on the better-sqlite3 handle under `dataSource` (once per handle). */
export function registerSqliteFold(dataSource: DataSource): void {
  const handle = (dataSource.driver as unknown as { databaseConnection?: Partial<FunctionHandle> }).databaseConnection;
  if (!handle || typeof handle.function !== 'function' || registered.has(handle)) return;
  handle.function(SQLITE_FOLD, { deterministic: true }, (value) => (typeof value === 'string' ? value.toLowerCase() : value));
  registered.add(handle);
}

/**
 * The column's text folded for a LIKE against `needle` (already lowercased). An ASCII
 * needle keeps the built-in LOWER(), which folds the letters it can match (all but the
 * Kelvin sign and the dotted İ, which JavaScript folds to ASCII); only a needle with other
 * characters pays a call into JavaScript per row it reads.
 */
export function sqliteFolded(column: string, needle: string): string {
  // eslint-disable-next-line no-control-regex -- ASCII is the range tested
  return /^[\u0000-\u007f]*$/.test(needle) ? `LOWER(${column})` : `${SQLITE_FOLD}(${column})`;
}
