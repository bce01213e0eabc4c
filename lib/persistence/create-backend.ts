import type { ResolvedTaskOptions } from '../options/resolve-options';
import { TaskBackend } from './task-backend';

/**
 * The backend the options ask for, or null for memory only. TypeORM and the
 * drivers are optional peers, loaded only here, when a database is configured.
 */
export function createBackend(options: ResolvedTaskOptions): TaskBackend | null {
  if (!options.database && !options.snapshotDb) return null;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { TypeOrmTaskBackend, sqliteOptions } = require('./typeorm') as typeof import('./typeorm');
  return new TypeOrmTaskBackend(options.database ?? sqliteOptions(options.snapshotDb!), { tablePrefix: options.tablePrefix });
}
