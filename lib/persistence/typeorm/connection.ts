import type { DataSource } from 'typeorm';
import { Dialect } from './dialect';
import { RunnerLease } from './runner-lease';
import type { FoldRequest, FoldResult } from './search-fold';
import { Sql, runnerSql } from './sql';
import { SqliteSession } from './sqlite-session';
import { typeormMessages } from './typeorm.messages';

export type { Sql, SqlResult } from './sql';

const TRANSACTION_ATTEMPTS = 6;

/**
 * How this backend talks to the DataSource.
 *
 * - PostgreSQL / MySQL: each call takes a pooled QueryRunner; `transaction` runs at
 *   READ COMMITTED and is retried on deadlocks, serialization failures and the other
 *   errors `Dialect.isTransient` lists.
 * - SQLite: one serialised connection, writes in `BEGIN IMMEDIATE`, on a writer thread
 *   when the file is WAL (see SqliteSession).
 *
 * On PostgreSQL and MySQL, taking a connection and each statement wait at most
 * `queryTimeoutMs` (null: no limit); a connection that timed out is destroyed, not
 * rolled back or pooled (see RunnerLease). Schema migrations are exempt: DDL on a large
 * table, and the wait for another instance's migration lock, may take longer. SQLite is
 * a local file whose statements run synchronously and cannot be abandoned halfway: its
 * only wait, for the file's write lock, is bounded by the DataSource's `timeout`.
 */
export class Connection {
  private readonly sqlite: SqliteSession | null;

  /** Ends the DataSource's SQLite writer thread, if any; later writes use the DataSource's handle. */
  static closeWriter(dataSource: DataSource): Promise<void> {
    return SqliteSession.closeWriter(dataSource);
  }

  constructor(
    readonly dataSource: DataSource,
    readonly dialect: Dialect,
    private readonly queryTimeoutMs: number | null = null,
  ) {
    this.sqlite = dialect.family === 'sqlite' ? new SqliteSession(dataSource, dialect) : null;
  }

  /** SQLite: folds queued rows into the search index (see SqliteSession.fold); null elsewhere. */
  foldSearch(request: FoldRequest): Promise<FoldResult | null> {
    return this.sqlite ? this.sqlite.fold(request) : Promise.resolve(null);
  }

  /** Read-only work: a consistent-enough session, no transaction. */
  read<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    if (this.sqlite) return this.sqlite.read(fn);
    return this.withRunner(fn);
  }

  /**
   * Statements that must each be atomic but need not share a transaction (compare-and-set
   * loops). On SQLite they do share one write transaction, which is stronger.
   */
  session<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    if (this.sqlite) return this.sqlite.write(fn);
    return this.withRunner(fn);
  }

  /** One transaction, retried as a whole on transient errors. */
  async transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    if (this.sqlite) return this.sqlite.write(fn);
    for (let attempt = 1; ; attempt++) {
      const lease = this.lease();
      const runner = lease.runner;
      try {
        await lease.connect();
        await lease.bound(runner.startTransaction('READ COMMITTED'));
        const result = await fn(this.sql(lease));
        await lease.bound(runner.commitTransaction());
        return result;
      } catch (error) {
        // A timed-out connection may never answer a ROLLBACK either: it is destroyed, which rolls back.
        if (runner.isTransactionActive && !lease.broken) await lease.bound(runner.rollbackTransaction()).catch(() => undefined);
        if (attempt >= TRANSACTION_ATTEMPTS || !this.dialect.isTransient(error)) throw error;
        await backOff(attempt);
      } finally {
        await lease.release();
      }
    }
  }

  /**
   * DDL under a cross-process lock: an advisory transaction lock on PostgreSQL, a named
   * lock on MySQL (whose DDL commits implicitly), a write transaction on SQLite.
   */
  async migrationLock<T>(lockName: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
    if (this.sqlite) return this.sqlite.mainThreadWrite(fn);
    const family = this.dialect.family;
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    const sql = runnerSql(runner, this.dialect);
    try {
      if (family === 'postgres') {
        await runner.startTransaction();
        await sql.run('SELECT pg_advisory_xact_lock(?)', [hash32(lockName)]);
        const result = await fn(sql);
        await runner.commitTransaction();
        return result;
      }
      const name = `taskflow_${hash32(lockName)}`;
      const got = await sql.run('SELECT GET_LOCK(?, 60) AS got', [name]);
      if (Number(got.rows[0]?.got) !== 1) throw new Error(typeormMessages.migrationLockTimeout(lockName));
      try {
        return await fn(sql);
      } finally {
        await sql.run('SELECT RELEASE_LOCK(?)', [name]).catch(() => undefined);
      }
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release().catch(() => undefined);
    }
  }

  private async withRunner<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    const lease = this.lease();
    try {
      await lease.connect();
      return await fn(this.sql(lease));
    } finally {
      await lease.release();
    }
  }

  private lease(): RunnerLease {
    return new RunnerLease(this.dataSource.createQueryRunner(), this.queryTimeoutMs);
  }

  private sql(lease: RunnerLease): Sql {
    return runnerSql(lease.runner, this.dialect, (work) => lease.bound(work));
  }
}

function backOff(attempt: number): Promise<void> {
  return sleep(Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random()));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A stable signed 32-bit FNV-1a hash (advisory lock keys, lock names). */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}
