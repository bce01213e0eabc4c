import { SqlFamily } from './dialect';
import { createStatements, IndexDef, TableDef, Types, types } from './schema-ddl';
import { version10, version7, version9 } from './search-schema';
import { TableNames } from './table-names';

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
    case 9:
      return version9(family, t);
    case 10:
      return version10(family, t);
    default:
      throw new Error(`no migration step ${version}`);
  }
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

/** Version 2: signed-out tokens, so a logout on one instance is refused by every instance. */
function version2(family: SqlFamily, t: TableNames): { tables: TableDef[]; indexes: IndexDef[] } {
  const y = types(family);
  return {
    tables: [{ name: t.revokedTokens, columns: [`jti ${y.key(64)} NOT NULL`, `expires_at ${y.big} NOT NULL`], primaryKey: ['jti'] }],
    indexes: [{ name: `${t.revokedTokens}_expires`, table: t.revokedTokens, columns: ['expires_at'] }],
  };
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
