import { Connection, Sql } from './connection';
import { SqlFamily } from './dialect';
import { typeormMessages } from './typeorm.messages';
import { backfillSearch, ensurePgTrigramIndexes, version7 } from './search-schema';

/**
 * Tables, DDL and migrations. Tables are created with explicit DDL (never TypeORM's
 * `synchronize`), so the backend works on a DataSource the user owns without registering
 * entities in it. `<prefix>meta` holds a `schema_version` row; `migrate()` runs every
 * step above the stored version under a cross-process lock, so a later version of the
 * package adds a step here and existing databases follow.
 */
export const SCHEMA_VERSION = 8;

export interface TableNames {
  meta: string;
  tasks: string;
  instances: string;
  leases: string;
  idempotency: string;
  audit: string;
  /** Row counts per (func_name, status): unfiltered and status/function totals. */
  counts: string;
  /** Duration histogram per (func_name, bucket): averages and percentiles. */
  durations: string;
  /** Signed-out token ids until their token's expiry (version 2). */
  revokedTokens: string;
  /** PostgreSQL: the NOTIFY channel of task changes (not a table). */
  changes: string;
  /** Paused function names (version 6). */
  paused: string;
  /** Concurrency slots and rate-limit rows of limited functions (version 6). */
  gateSlots: string;
  /** The substring-search index: SQLite FTS5 table, MySQL/MariaDB words per row (version 7; none on PostgreSQL). */
  search: string;
  /** SQLite: rows whose text the search index has yet to take in (version 7). */
  searchQueue: string;
}

export function tableNames(prefix: string): TableNames {
  if (!/^[A-Za-z0-9_]{0,40}$/.test(prefix)) throw new Error(typeormMessages.badPrefix(prefix));
  return {
    meta: `${prefix}meta`,
    tasks: `${prefix}tasks`,
    instances: `${prefix}instances`,
    leases: `${prefix}leases`,
    idempotency: `${prefix}idempotency`,
    audit: `${prefix}audit`,
    counts: `${prefix}counts`,
    durations: `${prefix}durations`,
    revokedTokens: `${prefix}revoked_tokens`,
    changes: `${prefix}changes`,
    paused: `${prefix}paused`,
    gateSlots: `${prefix}gate_slots`,
    search: `${prefix}search`,
    searchQueue: `${prefix}search_queue`,
  };
}

interface Types {
  /** Short identifiers (ids, names, statuses): sortable, indexable, byte-wise compared. */
  key: (length: number) => string;
  text: string;
  big: string;
  int: string;
  small: string;
  double: string;
}

function types(family: SqlFamily): Types {
  switch (family) {
    case 'postgres':
      return {
        key: (n) => `VARCHAR(${n}) COLLATE "C"`,
        text: 'TEXT',
        big: 'BIGINT',
        int: 'INTEGER',
        small: 'SMALLINT',
        double: 'DOUBLE PRECISION',
      };
    case 'mysql':
      // The table's binary collation makes comparisons exact and case-sensitive.
      return { key: (n) => `VARCHAR(${n})`, text: 'LONGTEXT', big: 'BIGINT', int: 'INT', small: 'SMALLINT', double: 'DOUBLE' };
    case 'sqlite':
      return { key: () => 'TEXT', text: 'TEXT', big: 'INTEGER', int: 'INTEGER', small: 'INTEGER', double: 'REAL' };
  }
}

interface TableDef {
  name: string;
  columns: string[];
  primaryKey: string[];
  /** MySQL only: extra inline keys (AUTO_INCREMENT needs one). */
  mysqlKeys?: string[];
}

interface IndexDef {
  name: string;
  table: string;
  columns: string[];
  /** PostgreSQL/SQLite: a partial index on the rows matching this condition. */
  where?: string;
  /** MySQL (no partial indexes): these columns instead. */
  mysqlColumns?: string[];
}

/** Version 1: every table and index. */
function version1(family: SqlFamily, t: TableNames): { tables: TableDef[]; indexes: IndexDef[] } {
  const y = types(family);
  const tables: TableDef[] = [
    {
      name: t.tasks,
      columns: [
        `id ${y.key(128)} NOT NULL`,
        `func_name ${y.key(255)} NOT NULL`,
        `status ${y.key(16)} NOT NULL`,
        `created_at ${y.big} NOT NULL`,
        `start_time ${y.big} NULL`,
        `end_time ${y.big} NULL`,
        /** end_time - start_time when both are set (ms, never negative). */
        `duration_ms ${y.big} NULL`,
        /** COALESCE(end_time, created_at) for terminal rows, NULL otherwise: what retention filters on. */
        `prune_at ${y.big} NULL`,
        `retries_used ${y.int} NOT NULL`,
        `source ${y.key(16)} NOT NULL`,
        `priority ${y.double} NULL`,
        `progress ${y.double} NULL`,
        `durable ${y.small} NOT NULL`,
        `owner ${y.key(255)} NULL`,
        `version ${y.big} NOT NULL`,
        // Filtered-on text before the bulky columns: SQLite reads a row's payload in
        // column order, so a scan for `q` or tags skips the overflow pages of long logs.
        `tags ${y.text} NOT NULL`,
        /** lower(id + US + func_name + US + error): what `q` searches. */
        `search_text ${y.text} NOT NULL`,
        `idempotency_key ${y.text} NULL`,
        `error ${y.text} NULL`,
        `args_cipher ${y.text} NULL`,
        `args ${y.text} NOT NULL`,
        `stacktrace ${y.text} NULL`,
        `logs ${y.text} NOT NULL`,
      ],
      primaryKey: ['id'],
    },
    {
      name: t.instances,
      columns: [`id ${y.key(255)} NOT NULL`, `lease_until ${y.big} NOT NULL`],
      primaryKey: ['id'],
    },
    {
      name: t.leases,
      columns: [`name ${y.key(255)} NOT NULL`, `holder ${y.key(255)} NOT NULL`, `expires_at ${y.big} NOT NULL`],
      primaryKey: ['name'],
    },
    {
      name: t.idempotency,
      columns: [
        /** sha256 hex of the key: any length, exact comparison on every database. */
        `key_hash ${y.key(64)} NOT NULL`,
        `idem_key ${y.text} NOT NULL`,
        `task_id ${y.key(128)} NOT NULL`,
        `created_at ${y.big} NOT NULL`,
      ],
      primaryKey: ['key_hash'],
    },
    auditTable(family, t, y),
    {
      name: t.counts,
      columns: [`func_name ${y.key(255)} NOT NULL`, `status ${y.key(16)} NOT NULL`, `cnt ${y.big} NOT NULL`],
      primaryKey: ['func_name', 'status'],
    },
    {
      name: t.durations,
      columns: [
        `func_name ${y.key(255)} NOT NULL`,
        /** Duration bucket (see metrics.ts). */
        `bucket ${y.int} NOT NULL`,
        `cnt ${y.big} NOT NULL`,
        `sum_ms ${y.big} NOT NULL`,
      ],
      primaryKey: ['func_name', 'bucket'],
    },
  ];
  const indexes: IndexDef[] = [
    { name: `${t.tasks}_created`, table: t.tasks, columns: ['created_at', 'id'] },
    { name: `${t.tasks}_status`, table: t.tasks, columns: ['status', 'created_at', 'id'] },
    { name: `${t.tasks}_func`, table: t.tasks, columns: ['func_name', 'created_at', 'id'] },
    { name: `${t.tasks}_func_status`, table: t.tasks, columns: ['func_name', 'status', 'created_at', 'id'] },
    {
      // Only unfinished durable rows (a few, whatever the history size), in claim order.
      name: `${t.tasks}_claim`,
      table: t.tasks,
      columns: ['created_at', 'id'],
      where: `status IN ('pending', 'running') AND durable = 1`,
      mysqlColumns: ['status', 'durable', 'owner'],
    },
    { name: `${t.tasks}_prune`, table: t.tasks, columns: ['prune_at'] },
    { name: `${t.idempotency}_task`, table: t.idempotency, columns: ['task_id'] },
    { name: `${t.audit}_ts`, table: t.audit, columns: ['ts', 'seq'] },
  ];
  return { tables, indexes };
}

function auditTable(family: SqlFamily, t: TableNames, y: Types): TableDef {
  const rest = [
    `action ${y.key(32)} NOT NULL`,
    `task_id ${y.key(128)} NULL`,
    `actor ${y.text} NOT NULL`,
    `ts ${y.big} NOT NULL`,
    `detail ${y.text} NOT NULL`,
  ];
  // `seq` orders entries written in the same millisecond.
  switch (family) {
    case 'sqlite':
      return { name: t.audit, columns: ['seq INTEGER PRIMARY KEY', 'entry_id TEXT NOT NULL UNIQUE', ...rest], primaryKey: [] };
    case 'postgres':
      return { name: t.audit, columns: ['seq BIGSERIAL NOT NULL', `entry_id ${y.key(128)} NOT NULL`, ...rest], primaryKey: ['entry_id'] };
    case 'mysql':
      return {
        name: t.audit,
        columns: ['seq BIGINT NOT NULL AUTO_INCREMENT', `entry_id ${y.key(128)} NOT NULL`, ...rest],
        primaryKey: ['entry_id'],
        mysqlKeys: [`UNIQUE KEY \`${t.audit}_seq\` (seq)`],
      };
  }
}

function createTableSql(family: SqlFamily, table: TableDef, indexes: IndexDef[], collation: string | null): string {
  const q = (n: string) => (family === 'mysql' ? `\`${n}\`` : `"${n}"`);
  const parts = [...table.columns];
  if (table.primaryKey.length) parts.push(`PRIMARY KEY (${table.primaryKey.join(', ')})`);
  if (family === 'mysql') {
    parts.push(...(table.mysqlKeys ?? []));
    for (const index of indexes.filter((i) => i.table === table.name)) {
      parts.push(`KEY ${q(index.name)} (${(index.mysqlColumns ?? index.columns).join(', ')})`);
    }
    const collate = collation ? ` COLLATE=${collation}` : '';
    return `CREATE TABLE IF NOT EXISTS ${q(table.name)} (${parts.join(', ')}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4${collate}`;
  }
  return `CREATE TABLE IF NOT EXISTS ${q(table.name)} (${parts.join(', ')})`;
}

function createIndexSql(family: SqlFamily, index: IndexDef): string | null {
  if (family === 'mysql') return null; // inline in CREATE TABLE
  const where = index.where ? ` WHERE ${index.where}` : '';
  return `CREATE INDEX IF NOT EXISTS "${index.name}" ON "${index.table}" (${index.columns.join(', ')})${where}`;
}

/** Version 2: signed-out tokens, so a logout on one instance is refused by every instance. */
function version2(family: SqlFamily, t: TableNames): { tables: TableDef[]; indexes: IndexDef[] } {
  const y = types(family);
  return {
    tables: [{ name: t.revokedTokens, columns: [`jti ${y.key(64)} NOT NULL`, `expires_at ${y.big} NOT NULL`], primaryKey: ['jti'] }],
    indexes: [{ name: `${t.revokedTokens}_expires`, table: t.revokedTokens, columns: ['expires_at'] }],
  };
}

/** Statements of one migration step, in order. A released step never changes: databases made by it are upgraded by the next. */
export function migrationStep(version: number, family: SqlFamily, t: TableNames, collation: string | null): string[] {
  switch (version) {
    case 1:
      return createStatements(family, version1(family, t), collation);
    case 2:
      return createStatements(family, version2(family, t), collation);
    case 3:
      return version3(family, t);
    case 4:
      return version4(family, t);
    case 5:
      return version5(family, t);
    case 6:
      return createStatements(family, version6(family, t), collation);
    case 7:
      return version7(family, t, collation);
    case 8:
      return version8(family, t);
    default:
      throw new Error(`no migration step ${version}`);
  }
}

function createStatements(family: SqlFamily, step: { tables: TableDef[]; indexes: IndexDef[] }, collation: string | null): string[] {
  return [
    ...step.tables.map((table) => createTableSql(family, table, step.indexes, collation)),
    ...step.indexes.map((index) => createIndexSql(family, index)).filter((s): s is string => s !== null),
  ];
}

/**
 * Version 3: each task's return value (`result`, JSON), attempt history (`attempts`, JSON
 * array) and executor (`'worker'`, or null for the event loop).
 */
function version3(family: SqlFamily, t: TableNames): string[] {
  const y = types(family);
  const table = family === 'mysql' ? `\`${t.tasks}\`` : `"${t.tasks}"`;
  // One column per statement: SQLite's ALTER TABLE adds one at a time.
  return [
    `ALTER TABLE ${table} ADD COLUMN result ${y.text} NULL`,
    `ALTER TABLE ${table} ADD COLUMN attempts ${y.text} NULL`,
    `ALTER TABLE ${table} ADD COLUMN executor ${y.key(16)} NULL`,
  ];
}

/**
 * Version 4 (several instances as one cluster): each instance's start and last heartbeat
 * (`GET {path}/instances`), an index for listing one instance's tasks, and on MySQL/MariaDB
 * and SQLite the change sequence other instances poll (`change_seq`, one number per write
 * transaction, from the `change_seq` row of the meta table; see change-feed.ts).
 * PostgreSQL needs no sequence: its writes NOTIFY the ids they changed.
 */
function version4(family: SqlFamily, t: TableNames): string[] {
  const y = types(family);
  const q = (name: string) => (family === 'mysql' ? `\`${name}\`` : `"${name}"`);
  const index = (name: string, columns: string) =>
    family === 'mysql'
      ? `ALTER TABLE ${q(t.tasks)} ADD INDEX ${q(name)} (${columns})`
      : `CREATE INDEX IF NOT EXISTS ${q(name)} ON ${q(t.tasks)} (${columns})`;
  const statements = [
    `ALTER TABLE ${q(t.instances)} ADD COLUMN started_at ${y.big} NULL`,
    `ALTER TABLE ${q(t.instances)} ADD COLUMN last_heartbeat ${y.big} NULL`,
    index(`${t.tasks}_owner`, 'owner, created_at, id'),
  ];
  if (family === 'postgres') return statements;
  return [
    ...statements,
    `ALTER TABLE ${q(t.tasks)} ADD COLUMN change_seq ${y.big} NULL`,
    index(`${t.tasks}_changes`, 'change_seq, id'),
    `INSERT INTO ${q(t.meta)} (name, value) VALUES ('change_seq', '0')`,
  ];
}

/**
 * Version 5: `run_at`, when a task added with a delay is due (epoch ms; null for one
 * added without). Its one reader in SQL, the shared pool's claim, runs on the claim
 * index of version 1 (pending durable rows), so it needs no index of its own.
 */
function version5(family: SqlFamily, t: TableNames): string[] {
  const table = family === 'mysql' ? `\`${t.tasks}\`` : `"${t.tasks}"`;
  return [`ALTER TABLE ${table} ADD COLUMN run_at ${types(family).big} NULL`];
}

/**
 * Version 6: flow control. `paused` holds the paused functions (every instance reads it);
 * `gate_slots` the rows that limit a function across instances: `gate` is a hash naming the
 * function's concurrency, or one key of its rate limit, and `slot` one unit of that limit
 * (see gates.ts for what `holder`, `held` and `free_at` mean for each).
 */
function version6(family: SqlFamily, t: TableNames): { tables: TableDef[]; indexes: IndexDef[] } {
  const y = types(family);
  return {
    tables: [
      { name: t.paused, columns: [`func_name ${y.key(255)} NOT NULL`, `paused_at ${y.big} NOT NULL`], primaryKey: ['func_name'] },
      {
        name: t.gateSlots,
        columns: [
          `gate ${y.key(64)} NOT NULL`,
          `slot ${y.int} NOT NULL`,
          `func_name ${y.key(255)} NOT NULL`,
          `holder ${y.key(255)} NULL`,
          `held ${y.small} NOT NULL`,
          `free_at ${y.big} NOT NULL`,
        ],
        primaryKey: ['gate', 'slot'],
      },
    ],
    indexes: [{ name: `${t.gateSlots}_free`, table: t.gateSlots, columns: ['free_at'] }],
  };
}

/**
 * Version 8: the cancelled rows by owner and end (PostgreSQL, SQLite: a partial index,
 * so a successful or failed row touches no entry of it). The owner's poll for its tasks
 * cancelled through another instance (cancelledSince, every 500 ms) walked the prune
 * index over every row that ended in the last minute: in the SQLite burst profile 26
 * polls took 3.5 s of the main thread and found nothing. MySQL/MariaDB have no partial
 * indexes; a full one would add a B-tree to every row written, so they keep the plan.
 */
function version8(family: SqlFamily, t: TableNames): string[] {
  if (family === 'mysql') return [];
  return [`CREATE INDEX IF NOT EXISTS "${t.tasks}_cancelled" ON "${t.tasks}" (owner, prune_at) WHERE status = 'cancelled'`];
}

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
