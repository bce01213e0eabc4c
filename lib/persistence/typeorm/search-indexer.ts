import { Connection } from './connection';
import { SearchTables, SQLITE_DOC } from './search-index';

const TICK_MS = 100;
/** No write for this long: the writer is idle, the indexer may take its turn. */
const IDLE_MS = 100;
/** Between two folds: the lock free long enough for a writer sleeping in its busy handler (other instances) to get it. */
const PAUSE_MS = 25;
const ROWS_PER_FOLD = 250;

/**
 * SQLite: folds the rows the writes queued into the FTS5 index, outside the writes'
 * transactions. Updating FTS5 costs ~60 µs of the single writer's time per row, which
 * the rows' own transactions would pay during a burst; queued, each pays ~2 µs for its queue
 * row, and the indexer catches up once the burst is over (searches read queued rows
 * directly meanwhile, so they stay exact).
 */
export class SearchIndexer {
  private timer: NodeJS.Timeout | null = null;
  private lastWrite = 0;
  private inFlight = 0;
  /** Rows written since the queue was last found empty; the start checks once for rows an earlier process left. */
  private backlog = 1;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly connection: Connection,
    private readonly t: SearchTables,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref?.();
  }

  /** Runs a write of `rows` rows (each may queue one); the indexer waits while any is in flight. */
  async writing<T>(rows: number, work: () => Promise<T>): Promise<T> {
    this.inFlight++;
    this.backlog += rows;
    try {
      return await work();
    } finally {
      this.inFlight--;
      this.lastWrite = Date.now();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Folds the whole queue now (tests, tools). */
  async drain(): Promise<void> {
    await this.running;
    for (;;) {
      const raw = rawHandle(this.connection);
      if (!raw) return;
      const folded = foldSearchQueue(this.connection, this.t, ROWS_PER_FOLD);
      const left = raw.prepare(`SELECT 1 AS x FROM "${this.t.searchQueue}" LIMIT 1`).get();
      if (!left) break;
      // Busy (another writer) or more to fold: again after a turn of the event loop.
      await new Promise((resolve) => setTimeout(resolve, folded ? 0 : 5));
    }
    this.backlog = 0;
  }

  private mayRun(): boolean {
    if (this.stopped) return false;
    // Never during a write: back-to-back folds starved the writer thread into SQLITE_BUSY.
    return this.inFlight === 0 && Date.now() - this.lastWrite >= IDLE_MS;
  }

  private tick(): void {
    if (this.running || this.backlog === 0 || !this.mayRun()) return;
    this.running = this.fold()
      .catch(() => undefined) // retried at the next tick; a search reads queued rows anyway
      .finally(() => {
        this.running = null;
      });
  }

  private async fold(): Promise<void> {
    // A read first: the fold's write transaction would lock the file even with nothing to fold.
    const queued = await this.connection.read((sql) => sql.run(`SELECT 1 AS x FROM "${this.t.searchQueue}" LIMIT 1`));
    if (!queued.rows.length) {
      this.backlog = 0;
      return;
    }
    while (this.mayRun()) {
      const folded = foldSearchQueue(this.connection, this.t, ROWS_PER_FOLD);
      if (folded === 0) return; // busy (or empty): the next tick looks again
      this.backlog = folded < ROWS_PER_FOLD ? 0 : Math.max(1, this.backlog - folded);
      if (folded < ROWS_PER_FOLD) return;
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
  }
}

/** The synchronous handle better-sqlite3 exposes under TypeORM's driver (the parts the fold uses). */
interface RawSqlite {
  readonly inTransaction: boolean;
  exec(sql: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  prepare(sql: string): { run(...params: unknown[]): unknown; get(...params: unknown[]): unknown };
}

function rawHandle(connection: Connection): RawSqlite | null {
  const raw = (connection.dataSource.driver as unknown as { databaseConnection?: RawSqlite }).databaseConnection;
  return raw && typeof raw.prepare === 'function' && typeof raw.pragma === 'function' ? raw : null;
}

/**
 * One write transaction: the first `limit` queued rows leave the queue, their older text
 * leaves the index and their current text (if the row still exists) enters it. Returns
 * how many rows it took (0 too when the file is busy: the next tick tries again).
 *
 * Synchronous, start to commit, on the DataSource's own handle, and only if the write lock
 * is free at once: a transaction awaiting between its statements (the writer thread's) held
 * the lock while this thread sat in another handle's synchronous busy wait for it, which
 * deadlocked both until the busy timeout ("database is locked"). Kept short (ROWS_PER_FOLD)
 * because it holds the event loop meanwhile.
 */
export function foldSearchQueue(connection: Connection, t: SearchTables, limit: number): number {
  const raw = rawHandle(connection);
  if (!raw || raw.inTransaction) return 0;
  const queue = `"${t.searchQueue}"`;
  const search = `"${t.search}"`;
  const previous = Number(raw.pragma('busy_timeout', { simple: true })) || 0;
  raw.pragma('busy_timeout = 0');
  try {
    raw.exec('BEGIN IMMEDIATE');
  } catch {
    return 0;
  } finally {
    raw.pragma(`busy_timeout = ${previous}`);
  }
  try {
    const last = raw
      .prepare(`SELECT MAX(task_rowid) AS last, COUNT(*) AS n FROM (SELECT task_rowid FROM ${queue} ORDER BY task_rowid LIMIT ${limit})`)
      .get() as { last: number | null; n: number };
    if (last.last !== null) {
      raw.prepare(`DELETE FROM ${search} WHERE rowid IN (SELECT task_rowid FROM ${queue} WHERE task_rowid <= ? AND indexed = 1)`).run(last.last);
      // CROSS JOIN: the queue first. A JOIN let the planner walk the task table from rowid 1
      // to the chunk's last (the bound carried over), every row folded before included.
      raw
        .prepare(
          `INSERT INTO ${search} (rowid, doc) SELECT t.rowid, ${SQLITE_DOC} FROM ${queue} q CROSS JOIN "${t.tasks}" t ON t.rowid = q.task_rowid WHERE q.task_rowid <= ?`,
        )
        .run(last.last);
      raw.prepare(`DELETE FROM ${queue} WHERE task_rowid <= ?`).run(last.last);
    }
    raw.exec('COMMIT');
    return Number(last.n) || 0;
  } catch (error) {
    if (raw.inTransaction) raw.exec('ROLLBACK');
    throw error;
  }
}

/**
 * Empties the index and queues every row, which the indexer then folds in: after a VACUUM,
 * which may renumber the rowids the index names. Searches stay exact (queued rows are read directly).
 */
export async function requeueEverything(connection: Connection, t: SearchTables): Promise<void> {
  await connection.transaction(async (sql) => {
    await sql.run(`INSERT INTO "${t.search}" ("${t.search}") VALUES ('delete-all')`);
    await sql.run(`DELETE FROM "${t.searchQueue}"`);
    await sql.run(`INSERT INTO "${t.searchQueue}" (task_rowid, indexed) SELECT rowid, 0 FROM "${t.tasks}"`);
  });
}
