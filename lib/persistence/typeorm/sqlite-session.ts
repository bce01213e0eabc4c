import type { DataSource } from 'typeorm';
import { Dialect } from './dialect';
import { Mutex } from './mutex';
import { foldQueued, FoldHandle, FoldRequest, FoldResult } from './search-fold';
import { EachOptions, Sql, runnerSql } from './sql';
import { SqliteWriter } from './sqlite-writer';

/**
 * A fold on the DataSource's handle holds the event loop: at most this long (ms). The
 * writer thread's take longer, which costs FTS5 fewer segments to merge.
 */
const MAIN_THREAD_FOLD_MS = 20;

/** The synchronous handle better-sqlite3 exposes under TypeORM's driver. */
interface RawSqlite {
  readonly inTransaction?: boolean;
  exec(sql: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  prepare?(sql: string): RawStatement;
}

interface RawStatement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
}

/** Prepared statements of runEach, per better-sqlite3 handle (a re-initialised DataSource has a new one). */
const rawStatements = new WeakMap<object, Map<string, RawStatement>>();
const mutexes = new WeakMap<object, Mutex>();
/** The SQLite writer thread of each DataSource (null: writes stay on its own handle). */
const writers = new WeakMap<object, Promise<SqliteWriter | null>>();

/**
 * How Connection talks to a SQLite DataSource. TypeORM shares ONE connection (and
 * one QueryRunner) per DataSource, so every call is serialised by a per-DataSource
 * mutex, and every write runs in `BEGIN IMMEDIATE` so that the file's write lock is
 * taken up front. That lock is acquired with the busy timeout set to 0 and retried
 * with asynchronous back-off (up to the DataSource's `timeout`, default 5 s):
 * better-sqlite3 waits for a busy file synchronously, which would freeze the event
 * loop, and deadlock when two DataSources in one process (tests, two managers) share
 * a file. On a WAL file, write transactions run on a writer thread with its own
 * handle (SqliteWriter), so neither the wait for the lock nor the writing itself
 * holds the event loop, and reads no longer queue behind writes. Schema changes stay
 * on the DataSource's handle.
 */
export class SqliteSession {
  /** Ends the DataSource's SQLite writer thread, if any; later writes use the DataSource's handle. */
  static async closeWriter(dataSource: DataSource): Promise<void> {
    const writer = writers.get(dataSource);
    writers.set(dataSource, Promise.resolve(null));
    await (await writer)?.close();
  }

  constructor(
    private readonly dataSource: DataSource,
    private readonly dialect: Dialect,
  ) {}

  read<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.mutex().run(() => fn(this.sql()));
  }

  /** Write transactions go to the DataSource's writer thread when it has one (see SqliteWriter). */
  async write<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    const writer = await this.writer();
    return writer?.alive ? writer.transaction(this.dialect, fn) : this.mainThreadWrite(fn);
  }

  /** A write transaction on the DataSource's own handle (schema changes). */
  mainThreadWrite<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.mutex().run(async () => {
      const sql = this.sql();
      await this.begin(sql);
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

  /**
   * The search queue folded into the index (foldQueued): on the writer thread when there is
   * one, else on the DataSource's handle for at most MAIN_THREAD_FOLD_MS. Null: no handle to fold on.
   */
  async fold(request: FoldRequest): Promise<FoldResult | null> {
    const writer = await this.writer();
    if (writer?.alive) return writer.fold(request);
    const raw = this.raw();
    if (!raw || typeof raw.prepare !== 'function' || typeof raw.pragma !== 'function') return null;
    const budgetMs = Math.min(request.budgetMs, MAIN_THREAD_FOLD_MS);
    return this.mutex().run(async () => foldQueued(raw as FoldHandle, { ...request, budgetMs }));
  }

  private sql(): Sql {
    const sql = runnerSql(this.dataSource.createQueryRunner(), this.dialect);
    const raw = this.raw();
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
      // Not `keep` (nor EachOptions.keptSlot): statements here are not pipelined, a value is simply awaited.
      async runEach(text: string, rows: readonly (readonly unknown[])[], options: EachOptions = {}): Promise<number> {
        const statement = prepared(text);
        const { insertedRange } = options;
        const rowids: number[] = [];
        let changes = 0;
        for (const params of rows) {
          const result = statement.run(...params);
          changes += result.changes;
          if (insertedRange && result.changes > 0) rowids.push(Number(result.lastInsertRowid));
        }
        // As on the writer thread (sqlite-writer.worker.ts): one range when consecutive.
        if (insertedRange && rowids.length) {
          const range = prepared(insertedRange);
          const first = rowids[0];
          if (rowids.every((id, i) => id === first + i)) range.run(first, rowids[rowids.length - 1]);
          else for (const id of rowids) range.run(id, id);
        }
        return changes;
      },
      async getEach(text: string, rows: readonly (readonly unknown[])[]): Promise<(Record<string, unknown> | undefined)[]> {
        const statement = prepared(text);
        return rows.map((params) => statement.get(...params) as Record<string, unknown> | undefined);
      },
    };
  }

  private raw(): RawSqlite | undefined {
    return (this.dataSource.driver as unknown as { databaseConnection?: RawSqlite }).databaseConnection;
  }

  private mutex(): Mutex {
    let mutex = mutexes.get(this.dataSource);
    if (!mutex) {
      mutex = new Mutex();
      mutexes.set(this.dataSource, mutex);
    }
    return mutex;
  }

  private writer(): Promise<SqliteWriter | null> {
    let writer = writers.get(this.dataSource);
    if (!writer) {
      const raw = this.raw();
      writer = raw && typeof raw.pragma === 'function' ? SqliteWriter.start(this.dataSource, raw).catch(() => null) : Promise.resolve(null);
      writers.set(this.dataSource, writer);
    }
    return writer;
  }

  private async begin(sql: Sql): Promise<void> {
    const raw = this.raw();
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
      await new Promise((resolve) => setTimeout(resolve, Math.min(25, attempt) * (0.5 + Math.random())));
    }
  }
}
