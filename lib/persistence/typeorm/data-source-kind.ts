import type { DataSource, DataSourceOptions } from 'typeorm';
import { SqlFamily } from './dialect';
import { typeormMessages } from './typeorm.messages';

/** The SQL family of a DataSource `type` the backend supports; anything else is a startup error. */
export function familyOf(type: string): SqlFamily {
  switch (type) {
    case 'better-sqlite3':
      return 'sqlite';
    case 'postgres':
      return 'postgres';
    case 'mysql':
    case 'mariadb':
      return 'mysql';
    default:
      throw new Error(typeormMessages.unsupportedType(type));
  }
}

/** Duck-typed, so a DataSource from another copy of typeorm is recognised too. */
export function isDataSource(source: DataSourceOptions | DataSource): source is DataSource {
  const candidate = source as Partial<DataSource>;
  return typeof candidate.initialize === 'function' && typeof candidate.createQueryRunner === 'function';
}

/** typeorm is an optional peer: loaded only when a backend is built from options. */
export function loadTypeorm(): typeof import('typeorm') {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('typeorm') as typeof import('typeorm');
  } catch {
    throw new Error(typeormMessages.typeormMissing());
  }
}

/** The pg pool's size: TypeORM's `poolSize`, else the driver's `extra.max`, else pg's default of 10. */
export function pgPoolSize(options: DataSource['options']): number {
  const o = options as { poolSize?: unknown; extra?: { max?: unknown } };
  const size = Number(o.poolSize ?? o.extra?.max ?? 10);
  return Number.isFinite(size) ? size : 10;
}
