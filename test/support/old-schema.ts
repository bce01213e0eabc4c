import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { Dialect, SqlFamily } from '../../lib/persistence/typeorm/dialect';
import { migrationStep, tableNames } from '../../lib/persistence/typeorm/schema';
import { DatabaseTarget } from './databases';

/**
 * Creates a prefix's tables exactly as schema version `version` of the package left
 * them, its `schema_version` row included, so a test can open it with this version and
 * check the upgrade in place. `query` runs one statement (a DataSource's `query`).
 */
export async function seedSchemaVersion(query: (sql: string) => Promise<unknown>, family: SqlFamily, prefix: string, version: number): Promise<void> {
  const t = tableNames(prefix);
  const meta = new Dialect(family).id(t.meta);
  await query(`CREATE TABLE ${meta} (name VARCHAR(64) NOT NULL, value ${family === 'mysql' ? 'LONGTEXT' : 'TEXT'} NOT NULL, PRIMARY KEY (name))`);
  for (let step = 1; step <= version; step++) {
    for (const statement of migrationStep(step, family, t, family === 'mysql' ? 'utf8mb4_bin' : null)) await query(statement);
  }
  await query(`INSERT INTO ${meta} (name, value) VALUES ('schema_version', '${version}')`);
}

/**
 * The same on a DataSource of its own, opened and closed here; `more` runs further
 * statements before it closes (rows the upgrade must keep), `q` quoting a table name.
 */
export async function seedOldDatabase(
  target: DatabaseTarget,
  prefix: string,
  version: number,
  more?: (query: (sql: string) => Promise<unknown>, q: (table: string) => string) => Promise<unknown>,
): Promise<void> {
  const ds = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix }).source;
  await ds.initialize();
  try {
    const family = familyOf(target);
    const query = (statement: string) => ds.query(statement) as Promise<unknown>;
    await seedSchemaVersion(query, family, prefix, version);
    await more?.(query, (table) => new Dialect(family).id(table));
  } finally {
    await ds.destroy();
  }
}

export function familyOf(target: DatabaseTarget): SqlFamily {
  return target.name === 'sqlite' ? 'sqlite' : target.name;
}
