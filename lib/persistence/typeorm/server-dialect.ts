import type { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { BackendKind, Dialect, SqlFamily } from './dialect';
import { typeormMessages } from './typeorm.messages';

/**
 * The dialect of the server behind the DataSource: MySQL and MariaDB differ in which
 * versions have SKIP LOCKED and window functions, so their kind and version are read at open().
 */
export async function detectDialect(dataSource: DataSource, family: SqlFamily, logger: Logger): Promise<{ dialect: Dialect; kind?: BackendKind }> {
  if (family !== 'mysql') return { dialect: new Dialect(family) };
  const rows = (await dataSource.query('SELECT VERSION() AS v')) as { v?: unknown }[];
  const version = String(rows?.[0]?.v ?? '');
  const [major, minor] = version.split(/[.-]/).map((p) => Number(p) || 0);
  const mariadb = /mariadb/i.test(version);
  const kind: BackendKind = mariadb ? 'mariadb' : 'mysql';
  const atLeast = (M: number, m: number) => major > M || (major === M && minor >= m);
  const skipLocked = mariadb ? atLeast(10, 6) : atLeast(8, 0);
  const windowFunctions = mariadb ? atLeast(10, 2) : atLeast(8, 0);
  if (!skipLocked) {
    logger.warn(typeormMessages.noSkipLocked(version));
  }
  return { dialect: new Dialect('mysql', { skipLocked, windowFunctions }), kind };
}
