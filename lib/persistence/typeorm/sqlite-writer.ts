import { Logger } from '@nestjs/common';
import { Worker } from 'node:worker_threads';
import type { DataSource } from 'typeorm';
import { LOGGER_CONTEXT } from '../../constants';
import type { Sql, SqlResult } from './sql';
import { Dialect } from './dialect';
import { Mutex } from './mutex';
import { foldQueued, FoldRequest, FoldResult } from './search-fold';
import { sqliteWriterMain } from './sqlite-writer.worker';

/** Per-connection settings the writer's own handle copies from the DataSource's. */
const COPIED_PRAGMAS = ['synchronous'];
/**
 * The writer's page cache, in KiB (SQLite's negative cache_size): the DataSource's, at
 * most 8 MB. The writer only writes; a burst fills whatever cache it has with pages it
 * will not read again (a 1M-task burst held 32 MB of them for good, ~25 MB of RSS), while
 * reads, on the DataSource's handle, keep its larger cache.
 */
const WRITER_CACHE_KIB = 8000;
/**
 * The writer thread's young generation, in MB. Uncapped, V8 grew it to 32 MB under a burst
 * (the batches' rows arrive as fresh objects, and almost none outlive their statement):
 * ~20 MB of RSS through a 1M-task burst and after it, for scavenges that stay cheap small.
 */
const WRITER_YOUNG_GENERATION_MB = 8;

interface Waiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * How long a transaction may hold the write lock with no message from the main thread
 * (ms) on its `attempt`th run. The main thread stops sending while it is blocked in a
 * synchronous busy wait for that same lock (the application's own write on the
 * DataSource's handle), which deadlocked both until the busy timeout (5 s) failed the
 * application's write with "database is locked". 100 ms covers an event-loop turn of a
 * loaded app; it doubles every second run, so that a main thread merely busy for longer
 * (a synchronous task of a second, say) still gets its writes through, up to half the
 * busy timeout (`capMs`): each run of an application writing in a loop may meet a new
 * write of it, and a wait as long as its busy timeout failed that write again.
 */
const stallMs = (attempt: number, capMs: number): number => Math.min(capMs, 100 * 2 ** Math.floor(attempt / 2));
const STALLED = 'TASKFLOW_WRITER_STALLED';

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; message: string; code?: string };

/**
 * The writer's cache_size (negative: KiB) from the DataSource's (negative: KiB; positive:
 * pages of `pageSize` bytes): the same, capped at WRITER_CACHE_KIB.
 */
export function writerCacheSize(main: number, pageSize: number): number {
  const kib = main < 0 ? -main : (main * pageSize) / 1024;
  return Number.isFinite(kib) && kib > 0 ? -Math.ceil(Math.min(kib, WRITER_CACHE_KIB)) : -WRITER_CACHE_KIB;
}

/** What the writer needs of better-sqlite3's handle under TypeORM's driver. */
export interface SqliteHandle {
  pragma(source: string, options?: { simple?: boolean }): unknown;
}

/**
 * SQLite write transactions on a thread of their own.
 *
 * better-sqlite3 is synchronous: a group commit of 5,000 tasks held the event loop for
 * ~50 ms, during which no request was served and no task ran, and the tasks' run time
 * and their writes added up on one core. Here a worker thread with its own handle on
 * the same file (WAL: readers on the main handle never wait for it) executes the
 * statements, so the app keeps running while SQLite writes.
 *
 * Write transactions are serialised by this writer's mutex; each is BEGIN IMMEDIATE,
 * the caller's statements, COMMIT (ROLLBACK on error), as on the main handle. The
 * thread runs messages in the order sent, and refuses the rest of a transaction after
 * a failed statement, so statements may be sent without waiting (`Sql.pipelined`). If
 * the thread dies, `alive` turns false and callers go back to the main handle.
 *
 * The thread also runs the WAL checkpoints, at the DataSource's `wal_autocheckpoint`
 * interval but after the COMMIT is answered, not inside it; the DataSource's handle
 * autocheckpoints again once the writer is gone.
 */
export class SqliteWriter {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly waiters = new Map<number, Waiter>();
  private readonly mutex = new Mutex();
  private nextId = 1;
  private failure: Error | null = null;
  /** Set once the thread answered; a thread that never started is reported by start(). */
  private started = false;

  private constructor(
    private readonly worker: Worker,
    /** Longest wait for the main thread while holding the lock: half the handles' busy timeout. */
    private readonly stallCapMs: number,
    /** The DataSource's handle, whose autocheckpoint comes back when this writer ends. */
    private readonly handle: SqliteHandle,
    private readonly checkpointPages: number,
  ) {
    worker.unref();
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', (error) => this.fail(error, true));
    worker.on('exit', (code) => this.fail(new Error(`SQLite writer thread exited with code ${code}`), true));
  }

  /**
   * A writer for the DataSource's file, or null when it cannot have one: an in-memory
   * database (a second handle would see another database), a journal mode other than
   * WAL (the writer would block the main handle's readers), or a driver the thread
   * cannot load. Null means writes stay on the main handle, as before.
   */
  static async start(dataSource: DataSource, handle: SqliteHandle): Promise<SqliteWriter | null> {
    const options = dataSource.options as { type?: string; database?: unknown; timeout?: unknown };
    const file = typeof options.database === 'string' ? options.database : '';
    if (options.type !== 'better-sqlite3' || file === '' || file === ':memory:' || file.startsWith('file::memory')) return null;
    if (String(handle.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') return null;
    let driverPath: string;
    try {
      driverPath = require.resolve('better-sqlite3');
    } catch {
      return null;
    }
    const given = Number(options.timeout ?? 5000);
    const timeout = Number.isFinite(given) && given > 0 ? Math.floor(given) : 5000;
    // The DataSource's checkpoint interval (pages) becomes the writer thread's own, run off
    // the COMMIT path (see sqlite-writer.worker.ts); neither handle autocheckpoints meanwhile.
    const checkpointPages = Math.max(0, Number(handle.pragma('wal_autocheckpoint', { simple: true })) || 0);
    const pragmas = [
      `busy_timeout = ${timeout}`,
      ...COPIED_PRAGMAS.map((name) => `${name} = ${Number(handle.pragma(name, { simple: true }))}`),
      `cache_size = ${writerCacheSize(Number(handle.pragma('cache_size', { simple: true })), Number(handle.pragma('page_size', { simple: true })))}`,
    ];
    const worker = new Worker(`(${sqliteWriterMain.toString()})(${foldQueued.toString()})`, {
      eval: true,
      workerData: { driverPath, file, pragmas, checkpointPages },
      resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB },
    });
    const writer = new SqliteWriter(worker, Math.max(100, Math.floor(timeout / 2)), handle, checkpointPages);
    try {
      await writer.call({ op: 'run', sql: 'SELECT 1' });
      writer.started = true;
      // A commit on this handle (a schema change) would otherwise run the checkpoint inline.
      handle.pragma('wal_autocheckpoint = 0');
      return writer;
    } catch (error) {
      writer.logger.warn(`SQLite writes stay on the main thread: the writer thread did not start (${String(error)})`);
      await worker.terminate().catch(() => undefined);
      return null;
    }
  }

  get alive(): boolean {
    return this.failure === null;
  }

  /**
   * One write transaction on the writer's handle. BEGIN goes out with the first
   * statements, unawaited: each reply costs a turn of the main thread's event loop,
   * and while the main thread runs tasks the thread would idle between statements.
   *
   * The thread gives the lock up when the main thread sends nothing for a while (see
   * stallMs()): then `fn` runs again from the start, in a new transaction. Every `fn`
   * must be safe to re-run (as on PostgreSQL and MySQL, where Connection.transaction
   * retries transient errors): it reads its inputs and returns what the database said.
   */
  transaction<T>(dialect: Dialect, fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      for (let attempt = 0; ; attempt++) {
        const begun = this.call({ op: 'begin', stallMs: stallMs(attempt, this.stallCapMs) });
        begun.catch(() => undefined); // its error also rejects every statement after it
        const sql = this.sql(dialect);
        try {
          const result = await fn(sql.sql);
          // A statement sent after this would run after the COMMIT, outside the transaction.
          sql.end();
          await begun;
          await this.call({ op: 'commit' });
          return result;
        } catch (error) {
          sql.end();
          await this.call({ op: 'rollback' }).catch(() => undefined);
          if ((error as { code?: unknown }).code !== STALLED) throw error;
        }
      }
    });
  }

  /**
   * Folds queued rows into the search index (foldQueued) as a transaction of its own,
   * between this writer's transactions: it holds neither the event loop nor, waiting for
   * the main thread, the lock.
   */
  fold(request: FoldRequest): Promise<FoldResult> {
    return this.mutex.run(() => this.call({ op: 'fold', fold: request }) as Promise<FoldResult>);
  }

  /** Waits for the transactions under way, then closes the handle and ends the thread. */
  async close(): Promise<void> {
    if (!this.alive) return;
    await this.mutex.run(() => this.call({ op: 'close' }).catch(() => undefined));
    this.fail(new Error('SQLite writer closed'));
    await this.worker.terminate().catch(() => undefined);
  }

  /** The statements of one run of a transaction; refused once `end` is called. */
  private sql(dialect: Dialect): { sql: Sql; end(): void } {
    let ended = false;
    const call = (request: Parameters<SqliteWriter['call']>[0]) =>
      ended ? Promise.reject(new Error('SQLite writer: a statement sent after its transaction ended')) : this.call(request);
    const sql: Sql = {
      dialect,
      pipelined: true,
      run: (text, params = []) => call({ op: 'run', sql: dialect.placeholders(text), params }) as Promise<SqlResult>,
      keep: (text, params = []) => call({ op: 'keep', sql: dialect.placeholders(text), params }),
      runEach: (text, rows, options) => call({ op: 'runEach', sql: text, rows, ...options }) as Promise<number>,
      getEach: async (text, rows) => {
        const found = (await call({ op: 'getEach', sql: text, rows })) as (Record<string, unknown> | null)[];
        return found.map((row) => row ?? undefined);
      },
    };
    return { sql, end: () => (ended = true) };
  }

  private call(request: {
    op: string;
    stallMs?: number;
    sql?: string;
    params?: readonly unknown[];
    rows?: readonly (readonly unknown[])[];
    keptSlot?: number;
    insertedRange?: string;
    fold?: FoldRequest;
  }): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiters.set(id, { resolve, reject });
      // Held open while a statement is under way: a script awaiting a write must get it.
      if (this.waiters.size === 1) this.worker.ref();
      this.worker.postMessage({ id, ...request });
    });
  }

  private settle(reply: Reply): void {
    const waiter = this.waiters.get(reply.id);
    if (!waiter) return;
    this.waiters.delete(reply.id);
    if (this.waiters.size === 0) this.worker.unref();
    if (reply.ok) waiter.resolve(reply.result);
    else waiter.reject(Object.assign(new Error(reply.message), { code: reply.code }));
  }

  private fail(error: Error, unexpected = false): void {
    if (this.failure) return;
    this.failure = error;
    if (unexpected && this.started) this.logger.warn(`SQLite writes go back to the main thread: ${error.message}`);
    if (this.started) {
      try {
        // Writes go back to the DataSource's handle: so do its checkpoints.
        this.handle.pragma(`wal_autocheckpoint = ${this.checkpointPages}`);
      } catch {
        // The handle is closed already (the DataSource destroyed): nothing writes on it.
      }
    }
    this.worker.unref();
    for (const waiter of this.waiters.values()) waiter.reject(error);
    this.waiters.clear();
  }
}
