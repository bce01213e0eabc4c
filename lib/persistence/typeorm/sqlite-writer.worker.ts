/**
 * The body of the SQLite writer thread (see sqlite-writer.ts). It is started from its
 * source text (`eval`), so it must stay self-contained: no imports but types, only `require`.
 *
 * It opens its own better-sqlite3 handle on the file and executes, one message at a
 * time and in order, the statements of the write transactions the main thread sends.
 * Waiting for a busy file here (busy_timeout) blocks this thread only. `fold` is
 * foldQueued (search-fold.ts), handed in as source text too.
 */
import type { FoldHandle, FoldRequest, FoldResult } from './search-fold';

export function sqliteWriterMain(fold: (db: FoldHandle, request: FoldRequest) => FoldResult): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const { driverPath, file, pragmas, checkpointPages } = workerData as {
    driverPath: string;
    file: string;
    pragmas: string[];
    /** Checkpoint once the WAL holds this many pages (the DataSource's wal_autocheckpoint; 0: never). */
    checkpointPages: number;
  };
  type Statement = {
    reader: boolean;
    run(...p: unknown[]): { changes: number; lastInsertRowid: number | bigint };
    get(...p: unknown[]): unknown;
    all(...p: unknown[]): unknown[];
  };
  type Database = Omit<FoldHandle, 'prepare'> & { prepare(sql: string): Statement; close(): void };
  const open = require(driverPath) as new (file: string) => Database;
  const db = new open(file);
  for (const pragma of pragmas) db.pragma(pragma);
  const statements = new Map<string, Statement>();
  const prepared = (sql: string): Statement => {
    let statement = statements.get(sql);
    if (!statement) statements.set(sql, (statement = db.prepare(sql)));
    return statement;
  };
  // better-sqlite3 cannot bind booleans (TypeORM converts them the same way).
  const bind = (params: unknown[]) => params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));

  type Request = {
    id: number;
    op: 'begin' | 'commit' | 'rollback' | 'run' | 'keep' | 'runEach' | 'getEach' | 'fold' | 'close';
    sql?: string;
    params?: unknown[];
    rows?: unknown[][];
    /** runEach: see EachOptions (sql.ts). */
    keptSlot?: number;
    insertedRange?: string;
    /** begin: roll back when no message came for this long while holding the lock (0: never). */
    stallMs?: number;
    fold?: FoldRequest;
  };
  // The main thread sends a transaction's statements without waiting for each reply.
  // After one fails, the transaction rolls back at once and the rest are refused with
  // that error (COMMIT too), so a transaction is applied whole or not at all.
  let failed: unknown = null;
  /** Between 'begin' and 'commit'/'rollback' (even if SQLite itself already rolled back). */
  let inTransaction = false;
  /** The value the transaction's 'keep' statement kept (Sql.keep), for runEach's keptSlot. */
  let kept: unknown = null;
  const begin = prepared('BEGIN IMMEDIATE');
  const commit = prepared('COMMIT');
  const rollback = prepared('ROLLBACK');
  const rollbackIfOpen = () => {
    if (db.inTransaction) rollback.run();
  };

  // WAL checkpoints, off the COMMIT path. SQLite's autocheckpoint runs inside the COMMIT
  // that crosses the threshold: the main thread waited for it (about half of COMMIT time in
  // a burst). Here the COMMIT is answered first, and the checkpoint runs when the thread is
  // idle (no transaction under way once the messages already queued are handled), or at
  // once after a COMMIT that took the WAL past twice the threshold, so a burst that never
  // lets the thread idle still bounds the WAL. PASSIVE: it never waits for readers (frames
  // a reader still needs are left for the next one). The frames not yet checkpointed are
  // read from the wal-index header in the -shm file (mxFrame at byte 16, nBackfill at 96,
  // native byte order: https://sqlite.org/walformat.html); without that file (an exclusive
  // locking mode), SQLite's own autocheckpoint stays on.
  const { openSync, readSync, closeSync } = require('node:fs') as typeof import('node:fs');
  const littleEndian = (require('node:os') as typeof import('node:os')).endianness() === 'LE';
  const walIndex = Buffer.alloc(100);
  let shm: number | null = null;
  const unfoldedFrames = (): number | null => {
    try {
      shm ??= openSync(`${file}-shm`, 'r');
      if (readSync(shm, walIndex, 0, 100, 0) < 100) return null;
      const frames = littleEndian ? walIndex.readUInt32LE(16) : walIndex.readUInt32BE(16);
      const backfilled = littleEndian ? walIndex.readUInt32LE(96) : walIndex.readUInt32BE(96);
      return Math.max(0, frames - backfilled);
    } catch {
      return null;
    }
  };
  const ownCheckpoints = checkpointPages > 0 && unfoldedFrames() !== null;
  db.pragma(`wal_autocheckpoint = ${ownCheckpoints ? 0 : checkpointPages}`);
  let idleCheckpoint: NodeJS.Immediate | null = null;
  const checkpoint = () => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy with another process's checkpoint, say: the next one will do.
    }
  };
  const checkpointIfDue = () => {
    if (!ownCheckpoints || inTransaction) return;
    const frames = unfoldedFrames() ?? 0;
    if (frames >= 2 * checkpointPages) checkpoint();
    else if (frames >= checkpointPages && idleCheckpoint === null)
      idleCheckpoint = setImmediate(() => {
        idleCheckpoint = null;
        if (!inTransaction && (unfoldedFrames() ?? 0) >= checkpointPages) checkpoint();
      });
  };

  // The main thread drives a transaction's statements and awaits replies between some of
  // them. If it is blocked meanwhile in a synchronous busy wait for this very lock (an
  // application's write on the DataSource's own handle), neither can go on until that
  // wait's busy timeout fails the application's write. So a transaction that holds the
  // lock with no message for stallMs gives it up: it rolls back, the rest of it is refused
  // with a STALLED error, and SqliteWriter.transaction runs it again from the start.
  // The wait allowed grows with the rows of the last answer: the main thread must take
  // them in and build its next statements from them (10,000 rows: ~100-190 ms measured
  // under load 8 between a lookup's answer and the writes; allowed 100 + 500 ms).
  let stallMs = 0;
  let answeredRows = 0;
  const MS_PER_ANSWERED_ROW = 0.05;
  let watchdog: NodeJS.Timeout | null = null;
  const stalled = () => {
    watchdog = null;
    if (!inTransaction || failed !== null || !db.inTransaction) return;
    rollbackIfOpen();
    failed = Object.assign(new Error('SQLite writer: transaction rolled back, the main thread sent nothing for too long (lock given up)'), {
      code: 'TASKFLOW_WRITER_STALLED',
    });
  };
  const statement = (request: Request): unknown => {
    const sql = request.sql ?? '';
    switch (request.op) {
      case 'run': {
        const compiled = prepared(sql);
        const params = bind(request.params ?? []);
        if (compiled.reader) {
          const rows = compiled.all(...params);
          answeredRows = rows.length;
          return { rows, affected: 0 };
        }
        return { rows: [], affected: compiled.run(...params).changes };
      }
      case 'keep': {
        const row = prepared(sql).get(...bind(request.params ?? [])) as Record<string, unknown> | undefined;
        kept = row ? Object.values(row)[0] : null;
        return kept;
      }
      case 'runEach': {
        const compiled = prepared(sql);
        const slot = request.keptSlot;
        const rowids: (number | bigint)[] | null = request.insertedRange ? [] : null;
        let changes = 0;
        for (const params of request.rows ?? []) {
          if (slot !== undefined) params[slot] = kept;
          const result = compiled.run(...bind(params));
          changes += result.changes;
          if (rowids && result.changes > 0) rowids.push(result.lastInsertRowid);
        }
        if (rowids?.length) {
          // One range statement when the rowids are consecutive (new rows of one writer: the
          // largest rowid + 1 each), else one per row.
          const range = prepared(request.insertedRange!);
          const first = Number(rowids[0]);
          const last = Number(rowids[rowids.length - 1]);
          if (last - first + 1 === rowids.length && rowids.every((id, i) => Number(id) === first + i)) range.run(first, last);
          else for (const id of rowids) range.run(id, id);
        }
        return changes;
      }
      case 'getEach': {
        const compiled = prepared(sql);
        answeredRows = request.rows?.length ?? 0;
        return (request.rows ?? []).map((params) => compiled.get(...bind(params)) ?? null);
      }
      default:
        throw new Error(`unknown operation ${String(request.op)}`);
    }
  };
  const execute = (request: Request): unknown => {
    switch (request.op) {
      case 'begin':
        failed = null;
        kept = null;
        inTransaction = true;
        stallMs = Number(request.stallMs) || 0;
        try {
          return begin.run().changes;
        } catch (error) {
          failed = error;
          throw error;
        }
      case 'commit':
        inTransaction = false;
        if (failed !== null) {
          const error = failed;
          failed = null;
          rollbackIfOpen();
          throw error;
        }
        return commit.run().changes;
      case 'rollback':
        inTransaction = false;
        failed = null;
        rollbackIfOpen();
        return null;
      case 'fold':
        // A transaction of its own, BEGIN to COMMIT in this one message: it never waits for the main thread.
        if (inTransaction) throw new Error('SQLite writer: a fold inside a transaction');
        return fold(db, request.fold!);
      case 'close':
        rollbackIfOpen();
        // The DataSource's handle may stay open (SQLite checkpoints only when the last one closes).
        if (ownCheckpoints) checkpoint();
        if (shm !== null) closeSync(shm);
        db.close();
        return null;
      default:
        if (inTransaction && failed !== null) throw failed;
        try {
          return statement(request);
        } catch (error) {
          if (inTransaction) {
            failed = error;
            // Doomed: it gives the lock up now, not when the main thread sends COMMIT or ROLLBACK (see stalled()).
            rollbackIfOpen();
          }
          throw error;
        }
    }
  };

  parentPort!.on('message', (request: Request) => {
    if (watchdog !== null) clearTimeout(watchdog);
    watchdog = null;
    answeredRows = 0;
    try {
      parentPort!.postMessage({ id: request.id, ok: true, result: execute(request) });
    } catch (error) {
      const e = error as { message?: unknown; code?: unknown };
      parentPort!.postMessage({
        id: request.id,
        ok: false,
        message: String(e?.message ?? error),
        code: e?.code === undefined ? undefined : String(e.code),
      });
    }
    if (request.op === 'close') {
      parentPort!.close();
      return;
    }
    checkpointIfDue();
    if (stallMs > 0 && inTransaction && failed === null && db.inTransaction)
      watchdog = setTimeout(stalled, stallMs + answeredRows * MS_PER_ANSWERED_ROW);
  });
}
