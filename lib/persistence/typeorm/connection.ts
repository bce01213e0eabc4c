import type { DataSource, QueryRunner } from 'typeorm';
import { Dialect } from './dialect';
import { Mutex } from './mutex';
import { SqliteWriter } from './sqlite-writer';
import { typeormMessages } from './typeorm.messages';

export interface SqlResult {
  rows: Record<string, unknown>[];
  affected: number;
}

/** Runs one statement (with `?` placeholders) on the session or transaction at hand. */
export interface Sql {
  readonly dialect: Dialect;
  /**
   * Statements may be issued without awaiting the one before: they run in the order
   * issued, and after one fails the others fail too and the transaction rolls back
   * (the SQLite writer thread, where each awaited reply costs an event-loop turn).
   */
  readonly pipelined?: boolean;
  run(sql: string, params?: readonly unknown[]): Promise<SqlResult>;
  /**
   * Runs one single-row write statement once per parameter list, in order; resolves
   * with the rows changed. SQLite only (undefined elsewhere): a prepared statement on
   * the driver's own handle, stepped in a loop inside the current transaction. It
   * skips TypeORM's per-query work (parameter copy, logging, subscriber broadcast) and
   * the 11,500-parameter multi-row statements: saveBatch of 100,000 new rows went from
   * ~59,000 to ~71,000 rows/s (BENCHMARKS.md); the rest is SQLite's own index upkeep.
   */
  runEach?(sql: string, rows: readonly (readonly unknown[])[]): Promise<number>;
  /** The same for a single-row SELECT: the row each parameter list finds, if any (SQLite only). */
  getEach?(sql: string, rows: readonly (readonly unknown[])[]): Promise<(Record<string, unknown> | undefined)[]>;
}

/** The synchronous handle better-sqlite3 exposes under TypeORM's driver. */
interface RawSqlite {
  exec(sql: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  prepare?(sql: string): RawStatement;
}

interface RawStatement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
}

/** Prepared statements of runEach, per better-sqlite3 handle (a re-initialised DataSource has a new one). */
const rawStatements = new WeakMap<object, Map<string, RawStatement>>();

const TRANSACTION_ATTEMPTS = 6;

/**
 * How this backend talks to the DataSource.
 *
 * - PostgreSQL / MySQL: each call takes a pooled QueryRunner; `transaction` runs at
 *   READ COMMITTED and is retried on deadlocks, serialization failures and the other
 *   errors `Dialect.isTransient` lists.
 * - SQLite: TypeORM shares ONE connection (and one QueryRunner) per DataSource, so every
 *   call is serialised by a per-DataSource mutex, and every write runs in
 *   `BEGIN IMMEDIATE` so that the file's write lock is taken up front. That lock is
 *   acquired with the busy timeout set to 0 and retried with asynchronous back-off
 *   (up to the DataSource's `timeout`, default 5 s): better-sqlite3 waits for a busy
 *   file synchronously, which would freeze the event loop, and deadlock when two
 *   DataSources in one process (tests, two managers) share a file.
 * - SQLite on a WAL file: write transactions run on a writer thread with its own handle
 *   (SqliteWriter), so neither the wait for the lock nor the writing itself holds the
 *   event loop, and reads no longer queue behind writes. Schema changes stay on the
 *   DataSource's handle.
 */
export class Connection {
  private static readonly mutexes = new WeakMap<object, Mutex>();
  /** The SQLite writer thread of each DataSource (null: writes stay on its own handle). */
  private static readonly writers = new WeakMap<object, Promise<SqliteWriter | null>>();

  /** Ends the DataSource's SQLite writer thread, if any; later writes use the DataSource's handle. */
  static async closeWriter(dataSource: DataSource): Promise<void> {
    const writer = Connection.writers.get(dataSource);
    Connection.writers.set(dataSource, Promise.resolve(null));
    await (await writer)?.close();
  }

  constructor(
    readonly dataSource: DataSource,
    readonly dialect: Dialect,
  ) {}

  /** Read-only work: a consistent-enough session, no transaction. */
  read<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    if (this.dialect.family === 'sqlite') return this.mutex().run(() => fn(this.sqliteSql()));
    return this.withRunner((runner) => fn(this.sql(runner)));
  }

  /**
   * Statements that must each be atomic but need not share a transaction (compare-and-set
   * loops). On SQLite they do share one write transaction, which is stronger.
   */
  session<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    if (this.dialect.family === 'sqlite') return this.sqliteWrite(fn);
    return this.withRunner((runner) => fn(this.sql(runner)));
  }

  /** One transaction, retried as a whole on transient errors. */
  async transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    if (this.dialect.family === 'sqlite') return this.sqliteWrite(fn);
    for (let attempt = 1; ; attempt++) {
      const runner = this.dataSource.createQueryRunner();
      try {
        await runner.connect();
        await runner.startTransaction('READ COMMITTED');
        const result = await fn(this.sql(runner));
        await runner.commitTransaction();
        return result;
      } catch (error) {
        if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
        if (attempt >= TRANSACTION_ATTEMPTS || !this.dialect.isTransient(error)) throw error;
        await backOff(attempt);
      } finally {
        await runner.release().catch(() => undefined);
      }
    }
  }

  /**
   * DDL under a cross-process lock: an advisory transaction lock on PostgreSQL, a named
   * lock on MySQL (whose DDL commits implicitly), a write transaction on SQLite.
   */
  async migrationLock<T>(lockName: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
    const family = this.dialect.family;
    if (family === 'sqlite') return this.mainThreadWrite(fn);
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    const sql = this.sql(runner);
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

  private async withRunner<T>(fn: (runner: QueryRunner) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      return await fn(runner);
    } finally {
      await runner.release().catch(() => undefined);
    }
  }

  private sql(runner: QueryRunner): Sql {
    const dialect = this.dialect;
    return {
      dialect,
      async run(text: string, params: readonly unknown[] = []): Promise<SqlResult> {
        const result = await runner.query(dialect.placeholders(text), params as unknown[], true);
        const records = (result as { records?: unknown }).records;
        return {
          rows: Array.isArray(records) ? (records as Record<string, unknown>[]) : [],
          affected: Number((result as { affected?: unknown }).affected ?? 0) || 0,
        };
      },
    };
  }

  private sqliteSql(): Sql {
    const sql = this.sql(this.dataSource.createQueryRunner());
    const raw = this.rawSqlite();
    if (!raw || typeof raw.prepare !== 'function') return sql;
    const prepared = (text: string): RawStatement => {
      let cache = rawStatements.get(raw);
      if (!cache) rawStatements.set(raw, (cache = new Map()));
      let statement = cache.get(text);
      if (!statement) cache.set(text, (statement = raw.prepare!(text)));
      return statement;
    };
    return {
      ...sql,
      async runEach(text: string, rows: readonly (readonly unknown[])[]): Promise<number> {
        const statement = prepared(text);
        let changes = 0;
        for (const params of rows) changes += statement.run(...params).changes;
        return changes;
      },
      async getEach(text: string, rows: readonly (readonly unknown[])[]): Promise<(Record<string, unknown> | undefined)[]> {
        const statement = prepared(text);
        return rows.map((params) => statement.get(...params) as Record<string, unknown> | undefined);
      },
    };
  }

  private rawSqlite(): RawSqlite | undefined {
    return (this.dataSource.driver as unknown as { databaseConnection?: RawSqlite }).databaseConnection;
  }

  private mutex(): Mutex {
    let mutex = Connection.mutexes.get(this.dataSource);
    if (!mutex) {
      mutex = new Mutex();
      Connection.mutexes.set(this.dataSource, mutex);
    }
    return mutex;
  }

  /** Write transactions go to the DataSource's writer thread when it has one (see SqliteWriter). */
  private async sqliteWrite<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    const writer = await this.writer();
    return writer?.alive ? writer.transaction(this.dialect, fn) : this.mainThreadWrite(fn);
  }

  private writer(): Promise<SqliteWriter | null> {
    let writer = Connection.writers.get(this.dataSource);
    if (!writer) {
      const raw = this.rawSqlite();
      writer = raw && typeof raw.pragma === 'function' ? SqliteWriter.start(this.dataSource, raw).catch(() => null) : Promise.resolve(null);
      Connection.writers.set(this.dataSource, writer);
    }
    return writer;
  }

  private mainThreadWrite<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.mutex().run(async () => {
      const sql = this.sqliteSql();
      await this.sqliteBegin(sql);
      try {
        const result = await fn(sql);
        await sql.run('COMMIT');
        return result;
      } catch (error) {
        await sql.run('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  private async sqliteBegin(sql: Sql): Promise<void> {
    const raw = this.rawSqlite();
    if (!raw || typeof raw.pragma !== 'function' || typeof raw.exec !== 'function') {
      await sql.run('BEGIN IMMEDIATE');
      return;
    }
    const configured = Number((this.dataSource.options as { timeout?: unknown }).timeout ?? 5000);
    const deadline = Date.now() + (Number.isFinite(configured) && configured > 0 ? configured : 5000);
    for (let attempt = 1; ; attempt++) {
      const previous = Number(raw.pragma('busy_timeout', { simple: true })) || 0;
      raw.pragma('busy_timeout = 0');
      try {
        raw.exec('BEGIN IMMEDIATE');
        return;
      } catch (error) {
        const code = String((error as { code?: unknown }).code ?? '');
        if (!code.startsWith('SQLITE_BUSY') || Date.now() >= deadline) throw error;
      } finally {
        raw.pragma(`busy_timeout = ${previous}`);
      }
      await sleep(Math.min(25, attempt) * (0.5 + Math.random()));
    }
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
