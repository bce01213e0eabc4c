/**
 * One fold of SQLite's search queue into the FTS5 index (see search-indexer.ts), run
 * synchronously, BEGIN to COMMIT, on a better-sqlite3 handle: the writer thread's, which
 * runs it from its source text (so it must stay self-contained: no imports, nothing from
 * this module's scope), or the DataSource's when there is no writer thread.
 */

/** The statements of a fold, each taking the last queued rowid of its chunk (`first`: the chunk's size). */
export interface FoldStatements {
  /** The chunk: its last rowid (`last`) and its size (`n`). */
  first: string;
  /** The chunk's rows' older text out of the index. */
  unindex: string;
  /** The chunk's rows' current text into the index. */
  index: string;
  /** The chunk out of the queue. */
  dequeue: string;
}

export interface FoldRequest {
  statements: FoldStatements;
  /** Rows per chunk. */
  chunk: number;
  /** No new chunk once the transaction has run this long (ms). */
  budgetMs: number;
}

export interface FoldResult {
  /** Rows folded (0 too when the file was busy). */
  rows: number;
  /** Whether the queue was found empty (false: busy, or the budget ran out first). */
  drained: boolean;
}

/** What the fold needs of a better-sqlite3 handle. */
export interface FoldHandle {
  readonly inTransaction: boolean;
  exec(sql: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  prepare(sql: string): { run(...params: unknown[]): unknown; get(...params: unknown[]): unknown };
}

/**
 * Chunk after chunk, in ONE transaction: the chunk's rows leave the queue, their older text
 * leaves the index and their current text enters it, so that a search (one snapshot) finds
 * each row in the queue or in the index, and a crash mid-fold rolls all of it back. FTS5
 * writes a new segment at each commit and merges segments as they pile up: the fewer the
 * commits, the less of that (250-row folds spent ~85% of their time on it at 200k rows).
 * The write lock is taken only if it is free at once (else: 0 rows, the caller retries).
 */
export function foldQueued(db: FoldHandle, request: FoldRequest): FoldResult {
  if (db.inTransaction) return { rows: 0, drained: false };
  const previous = Number(db.pragma('busy_timeout', { simple: true })) || 0;
  db.pragma('busy_timeout = 0');
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (error) {
    if (String((error as { code?: unknown }).code ?? '').startsWith('SQLITE_BUSY')) return { rows: 0, drained: false };
    throw error;
  } finally {
    db.pragma(`busy_timeout = ${previous}`);
  }
  try {
    const started = Date.now();
    const { first, unindex, index, dequeue } = request.statements;
    const [chunkOf, unindexing, indexing, dequeuing] = [first, unindex, index, dequeue].map((sql) => db.prepare(sql));
    let rows = 0;
    let drained = false;
    for (;;) {
      const chunk = chunkOf.get(request.chunk) as { last: number | null; n: number };
      const n = Number(chunk.n) || 0;
      if (chunk.last !== null) {
        unindexing.run(chunk.last);
        indexing.run(chunk.last);
        dequeuing.run(chunk.last);
        rows += n;
      }
      drained = n < request.chunk;
      if (drained || Date.now() - started >= request.budgetMs) break;
    }
    db.exec('COMMIT');
    return { rows, drained };
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
