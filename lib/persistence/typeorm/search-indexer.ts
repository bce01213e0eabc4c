import { Connection } from './connection';
import { FoldRequest } from './search-fold';
import { SearchTables, SQLITE_DOC } from './search-index';
import { FoldTiming, REAL_TIMING, WriteTracker } from './write-tracker';

const TICK_MS = 100;
/** Queued rows a fold's statements take at a time. */
const CHUNK_ROWS = 1000;
/**
 * A fold takes no new chunk after this long (ms): this process's writes, and other
 * instances', wait for it. Its commit (FTS5 merging segments) adds to it, more under load.
 * Measured (200k queued, 1,000-task writes every 150 ms meanwhile): 100 ms raised the
 * writes' p99 from ~150-220 to ~230-260 ms, 50 ms kept it at ~180-190 and folded as fast.
 */
const FOLD_MS = 50;
/**
 * Between two folds, the lock is free long enough for a writer sleeping in SQLite's busy
 * handler (another instance's, or the app's on the DataSource's handle) to get it: that
 * handler polls every 25 ms or less during a waiter's first ~100 ms, then every 50, then
 * every 100; a fold of `ms` found a waiter at most that long asleep.
 */
const pauseAfter = (ms: number): number => Math.min(100, Math.max(25, ms / 2));

/**
 * SQLite: folds the rows the writes queued into the FTS5 index, outside the writes'
 * transactions. Updating FTS5 costs ~60 µs of the single writer's time per row, which
 * the rows' own transactions would pay during a burst; queued, each pays ~2 µs for its queue
 * row, and the indexer catches up once the burst is over (searches read queued rows
 * directly meanwhile, so they stay exact), on the writer thread (see foldQueued).
 *
 * Under writes that never pause, one fold of FOLD_MS at a time as fold-due.ts says (once a
 * second; at every tick past its bound), so the queue, which every search reads whole, stays
 * bounded. It is the same fold, a transaction of its own on the writer thread queued behind
 * the batches already waiting (SqliteWriter.fold): it delays the next batch by its length
 * and never contends with this process's writes for the lock. (A fold on the DataSource's
 * handle did, back to back during a burst, and starved the writer thread into SQLITE_BUSY.)
 */
export class SearchIndexer extends WriteTracker {
  private readonly request: FoldRequest;

  constructor(
    private readonly connection: Connection,
    private readonly t: SearchTables,
    timing: FoldTiming = REAL_TIMING,
  ) {
    super(TICK_MS, timing);
    this.request = { statements: foldStatements(t), chunk: CHUNK_ROWS, budgetMs: FOLD_MS };
  }

  /** Folds the whole queue now (tests, tools). */
  async drain(): Promise<void> {
    await this.running;
    for (;;) {
      const seen = this.writes;
      const result = await this.connection.foldSearch(this.request);
      if (!result) return;
      if (result.drained) return this.emptied(seen);
      // Busy (another writer) or more to fold: again after a turn of the event loop.
      await new Promise((resolve) => setTimeout(resolve, result.rows ? 0 : 5));
    }
  }

  private mayRun(): boolean {
    return !this.stopped && this.idle();
  }

  protected tick(): void {
    if (this.running) return;
    const reason = this.due();
    if (!reason) return;
    this.running = (reason === 'idle' ? this.foldWhileIdle() : this.foldOnce().then(() => undefined))
      .catch(() => undefined) // retried at the next tick; a search reads queued rows anyway
      .finally(() => {
        this.folded();
        this.running = null;
      });
  }

  /** Fold after fold while no write comes, with a pause between two for other instances' writers. */
  private async foldWhileIdle(): Promise<void> {
    const seen = this.writes;
    // A read first: the fold's write transaction would lock the file even with nothing to fold.
    const queued = await this.connection.read((sql) => sql.run(`SELECT 1 AS x FROM "${this.t.searchQueue}" LIMIT 1`));
    if (!queued.rows.length) return this.emptied(seen);
    while (this.mayRun()) {
      const started = Date.now();
      if (!(await this.foldOnce())) return;
      await new Promise((resolve) => setTimeout(resolve, pauseAfter(Date.now() - started)));
    }
  }

  /** One fold of at most FOLD_MS; whether there is more to fold (false: drained, busy or no handle). */
  private async foldOnce(): Promise<boolean> {
    const seen = this.writes;
    const result = await this.connection.foldSearch(this.request);
    if (!result || result.drained) {
      this.emptied(seen); // (null: no handle to fold on)
      return false;
    }
    if (result.rows === 0) return false; // busy: the next tick looks again
    this.backlog = Math.max(1, this.backlog - result.rows);
    return true;
  }
}

/** The fold's statements (see foldQueued): the first queued rows, by rowid, up to the chunk's last. */
function foldStatements(t: SearchTables): FoldRequest['statements'] {
  const queue = `"${t.searchQueue}"`;
  const search = `"${t.search}"`;
  return {
    first: `SELECT MAX(task_rowid) AS last, COUNT(*) AS n FROM (SELECT task_rowid FROM ${queue} ORDER BY task_rowid LIMIT ?)`,
    unindex: `DELETE FROM ${search} WHERE rowid IN (SELECT task_rowid FROM ${queue} WHERE task_rowid <= ? AND indexed = 1)`,
    // CROSS JOIN: the queue first. A JOIN let the planner walk the task table from rowid 1 to
    // the chunk's last (the bound carried over), every row folded before included: at 1M
    // rows, each 250-row fold read up to ~1M rows.
    index: `INSERT INTO ${search} (rowid, doc) SELECT t.rowid, ${SQLITE_DOC} FROM ${queue} q CROSS JOIN "${t.tasks}" t ON t.rowid = q.task_rowid WHERE q.task_rowid <= ?`,
    dequeue: `DELETE FROM ${queue} WHERE task_rowid <= ?`,
  };
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
