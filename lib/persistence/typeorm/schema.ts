import { Connection, Sql } from './connection';
import { createTableSql, TableDef, types } from './schema-ddl';
import { migrationStep } from './schema-steps';
import { backfillSearch, ensurePgTrigramIndexes } from './search-schema';
import { TableNames } from './table-names';
import { typeormMessages } from './typeorm.messages';

// Re-exported: the modules and specs that name tables, or build an old schema, import them from here.
export { TableNames, tableNames } from './table-names';
export { migrationStep } from './schema-steps';

/**
 * Migrations (the steps' DDL is in schema-steps.ts). Tables are created with explicit DDL (never TypeORM's
 * `synchronize`), so the backend works on a DataSource the user owns without registering
 * entities in it. `<prefix>meta` holds a `schema_version` row; `migrate()` runs every
 * step above the stored version under a cross-process lock, so a later version of the
 * package adds a step there and existing databases follow.
 */
export const SCHEMA_VERSION = 10;

/** Creates or upgrades the tables; safe to run from several instances at once. */
export async function migrate(connection: Connection, t: TableNames): Promise<void> {
  const family = connection.dialect.family;
  await connection.migrationLock(`migrate:${t.meta}`, async (sql) => {
    const collation = family === 'mysql' ? ((await tableCollation(sql, t.tasks)) ?? (await binaryCollation(sql))) : null;
    const metaTable: TableDef = {
      name: t.meta,
      columns: [`name ${types(family).key(64)} NOT NULL`, `value ${types(family).text} NOT NULL`],
      primaryKey: ['name'],
    };
    await sql.run(createTableSql(family, metaTable, [], collation));
    const q = connection.dialect.id(t.meta);
    const found = await sql.run(`SELECT value FROM ${q} WHERE name = ?`, ['schema_version']);
    const current = found.rows.length ? Number(found.rows[0].value) || 0 : 0;
    if (current > SCHEMA_VERSION) throw new Error(typeormMessages.schemaTooNew(current, SCHEMA_VERSION, t.meta));
    for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
      for (const statement of migrationStep(version, family, t, collation)) await sql.run(statement);
      if (version === 7 && family === 'mysql') await backfillSearch(sql, t);
      if (version === 1) {
        await sql.run(`INSERT INTO ${q} (name, value) VALUES (?, ?)`, ['schema_version', String(version)]);
      } else {
        await sql.run(`UPDATE ${q} SET value = ? WHERE name = ?`, [String(version), 'schema_version']);
      }
    }
    // Optional (pg_trgm may be missing), so not a step: retried at every start until built.
    if (family === 'postgres') await ensurePgTrigramIndexes(sql, t);
  });
}

export async function dropTables(connection: Connection, t: TableNames): Promise<void> {
  await connection.migrationLock(`migrate:${t.meta}`, async (sql) => {
    for (const table of [
      t.tasks,
      t.instances,
      t.leases,
      t.idempotency,
      t.audit,
      t.counts,
      t.durations,
      t.revokedTokens,
      t.paused,
      t.gateSlots,
      t.search,
      t.searchQueue,
      t.meta,
    ]) {
      await sql.run(`DROP TABLE IF EXISTS ${sql.dialect.id(table)}`);
    }
  });
}

/**
 * The collation of an existing table (MySQL), so tables a later step adds compare with it:
 * joining columns of two collations fails ("Illegal mix of collations").
 */
async function tableCollation(sql: Sql, table: string): Promise<string | null> {
  const found = await sql.run(`SELECT TABLE_COLLATION AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`, [
    table,
  ]);
  const name = found.rows[0]?.name;
  return typeof name === 'string' && /^[A-Za-z0-9_]+$/.test(name) ? name : null;
}

/**
 * A binary, NO PAD collation when the server has one (MySQL 8: utf8mb4_0900_bin,
 * MariaDB 10.2+: utf8mb4_nopad_bin), else utf8mb4_bin: exact, case-sensitive
 * comparisons for names, tags and keys.
 */
async function binaryCollation(sql: Sql): Promise<string> {
  const wanted = ['utf8mb4_0900_bin', 'utf8mb4_nopad_bin', 'utf8mb4_bin'];
  const found = await sql.run(`SELECT COLLATION_NAME AS name FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN (?, ?, ?)`, wanted);
  const names = new Set(found.rows.map((r) => String(r.name)));
  return wanted.find((w) => names.has(w)) ?? 'utf8mb4_bin';
}
