/**
 * The few places where SQLite, PostgreSQL and MySQL/MariaDB disagree: identifier
 * quoting, placeholders, upsert syntax, row locking and which errors are worth a retry.
 * Every statement of this backend is written with `?` placeholders and unquoted,
 * non-reserved column names; only table names (which carry the user's prefix) are quoted.
 */
export type SqlFamily = 'sqlite' | 'postgres' | 'mysql';

export type BackendKind = 'sqlite' | 'postgres' | 'mysql' | 'mariadb';

export interface DialectFeatures {
  /** `FOR UPDATE SKIP LOCKED` (PG 9.5+, MySQL 8.0.1+, MariaDB 10.6+). */
  skipLocked: boolean;
  /** Window functions (SQLite 3.25+, PG, MySQL 8.0+, MariaDB 10.2+). */
  windowFunctions: boolean;
}

/** Column references in an upsert's assignments: the stored row's and the incoming one's. */
export interface UpsertRefs {
  old: (c: string) => string;
  new: (c: string) => string;
}

export class Dialect {
  readonly skipLocked: boolean;
  readonly windowFunctions: boolean;

  constructor(
    readonly family: SqlFamily,
    features: DialectFeatures = { skipLocked: true, windowFunctions: true },
  ) {
    this.skipLocked = features.skipLocked;
    this.windowFunctions = features.windowFunctions;
  }

  /** Quotes a table or index name (already validated to `[A-Za-z0-9_]`). */
  id(name: string): string {
    return this.family === 'mysql' ? `\`${name}\`` : `"${name}"`;
  }

  /** Rewrites `?` placeholders to `$1, $2, ...` for PostgreSQL; identity elsewhere. */
  placeholders(sql: string): string {
    if (this.family !== 'postgres') return sql;
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  }

  /**
   * The database's clock as epoch milliseconds (an integer expression). Leases are
   * written and compared in it, so a statement held up in the network, or an instance
   * whose clock is off, cannot record a lease that is already over when it lands.
   */
  get nowMs(): string {
    switch (this.family) {
      case 'postgres':
        return `CAST(FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000) AS BIGINT)`;
      case 'mysql':
        return `CAST(FLOOR(UNIX_TIMESTAMP(CURRENT_TIMESTAMP(3)) * 1000) AS SIGNED)`;
      case 'sqlite':
        return `CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`;
    }
  }

  /** `FOR UPDATE` where rows can be locked (SQLite serialises writers instead). */
  get forUpdate(): string {
    return this.family === 'sqlite' ? '' : ' FOR UPDATE';
  }

  /** `FOR UPDATE SKIP LOCKED` where available, else plain `FOR UPDATE` (still correct, may wait). */
  get forUpdateSkipLocked(): string {
    if (this.family === 'sqlite') return '';
    return this.skipLocked ? ' FOR UPDATE SKIP LOCKED' : ' FOR UPDATE';
  }

  /** `INSERT ... ` prefix that silently skips rows whose key exists. */
  insertIgnoring(table: string, columns: string[], conflictKey: string[], rows: number): string {
    const values = valuesList(columns.length, rows);
    const cols = columns.join(', ');
    if (this.family === 'mysql') {
      // Not INSERT IGNORE: that would also turn data errors into warnings.
      const k = conflictKey[0];
      return `INSERT INTO ${this.id(table)} (${cols}) VALUES ${values} ON DUPLICATE KEY UPDATE ${k} = ${k}`;
    }
    return `INSERT INTO ${this.id(table)} (${cols}) VALUES ${values} ON CONFLICT (${conflictKey.join(', ')}) DO NOTHING`;
  }

  /**
   * Multi-row upsert. `assign` maps each updated column to its new value expressed
   * with `new(col)` (the incoming value) and `old(col)` (the stored one).
   * `guard` (PG/SQLite only) is a condition on the stored row for the update to happen.
   */
  upsert(
    table: string,
    columns: string[],
    conflictKey: string[],
    rows: number,
    assign: (col: string, refs: UpsertRefs) => string,
    updated: string[],
    guard?: (refs: UpsertRefs) => string,
  ): string {
    return this.upsertFrom(table, columns, conflictKey, `VALUES ${valuesList(columns.length, rows)}`, assign, updated, guard);
  }

  /**
   * The same with the incoming rows from `source`: `VALUES ...`, or on PostgreSQL a
   * `SELECT * FROM unnest(...)` over one array per column (see pg-unnest.ts).
   */
  upsertFrom(
    table: string,
    columns: string[],
    conflictKey: string[],
    source: string,
    assign: (col: string, refs: UpsertRefs) => string,
    updated: string[],
    guard?: (refs: UpsertRefs) => string,
  ): string {
    const cols = columns.join(', ');
    if (this.family === 'mysql') {
      const refs = { old: (c: string) => c, new: (c: string) => `VALUES(${c})` };
      const sets = updated.map((c) => `${c} = ${assign(c, refs)}`).join(', ');
      return `INSERT INTO ${this.id(table)} (${cols}) ${source} ON DUPLICATE KEY UPDATE ${sets}`;
    }
    const refs = { old: (c: string) => `t.${c}`, new: (c: string) => `excluded.${c}` };
    const sets = updated.map((c) => `${c} = ${assign(c, refs)}`).join(', ');
    const where = guard ? ` WHERE ${guard(refs)}` : '';
    return `INSERT INTO ${this.id(table)} AS t (${cols}) ${source} ` + `ON CONFLICT (${conflictKey.join(', ')}) DO UPDATE SET ${sets}${where}`;
  }

  /** Removes what a column of this database cannot hold (PostgreSQL text rejects NUL). */
  text(value: string): string;
  text(value: string | null): string | null;
  text(value: string | null): string | null {
    if (value === null || this.family !== 'postgres') return value;
    // eslint-disable-next-line no-control-regex -- the NUL is what PostgreSQL cannot store
    return value.includes('\u0000') ? value.replace(/\u0000/g, '\uFFFD') : value;
  }

  /**
   * Deadlocks, serialization failures, lock timeouts, busy SQLite files and the unique
   * violation a concurrent first insert of the same task id produces: the whole
   * transaction is retried.
   */
  isTransient(error: unknown): boolean {
    const e = error as { code?: unknown; errno?: unknown; driverError?: { code?: unknown; errno?: unknown } };
    const code = String(e?.code ?? e?.driverError?.code ?? '');
    const errno = Number(e?.errno ?? e?.driverError?.errno ?? NaN);
    switch (this.family) {
      case 'postgres':
        return ['40001', '40P01', '55P03', '23505'].includes(code);
      case 'mysql':
        return [1213, 1205, 1062].includes(errno) || ['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_DUP_ENTRY'].includes(code);
      case 'sqlite':
        return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
    }
  }

  /** A duplicate-key error from a plain INSERT. */
  isDuplicateKey(error: unknown): boolean {
    const e = error as { code?: unknown; errno?: unknown; driverError?: { code?: unknown; errno?: unknown } };
    const code = String(e?.code ?? e?.driverError?.code ?? '');
    const errno = Number(e?.errno ?? e?.driverError?.errno ?? NaN);
    if (this.family === 'postgres') return code === '23505';
    if (this.family === 'mysql') return errno === 1062 || code === 'ER_DUP_ENTRY';
    return code.startsWith('SQLITE_CONSTRAINT');
  }
}

/** `(?, ?, ?), (?, ?, ?)` for `rows` rows of `width` values. */
export function valuesList(width: number, rows: number): string {
  const one = `(${new Array(width).fill('?').join(', ')})`;
  return new Array(rows).fill(one).join(', ');
}

/** `?, ?, ?` for an IN list. */
export function inList(count: number): string {
  return new Array(count).fill('?').join(', ');
}
