import type { DataSourceOptions } from 'typeorm';

/** Busy timeout (ms): how long a writer waits for another process holding the file. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * DataSource options for the `snapshotDb` shorthand: better-sqlite3 on `file`, in WAL
 * mode (readers never wait for the writer) with `synchronous=NORMAL` (durable across
 * process crashes; a power cut may lose the last transactions), a 5 s busy timeout,
 * a 32 MB page cache for reads (large histories; the writer thread's handle keeps at
 * most 8 MB, see SqliteWriter) and a checkpoint every 10,000 WAL pages (~40 MB) instead
 * of 1,000: a 5,000-task group commit writes several MB, so the default checkpointed
 * after nearly every commit (COMMIT time 376 -> 225 ms per 100,000 tasks). With a writer
 * thread, that thread runs the checkpoints itself, after the COMMIT it answered (see
 * sqlite-writer.worker.ts), and neither handle autocheckpoints.
 */
export function sqliteOptions(file: string): DataSourceOptions {
  return {
    type: 'better-sqlite3',
    database: file,
    timeout: SQLITE_BUSY_TIMEOUT_MS,
    prepareDatabase: (db: { pragma(source: string): unknown }) => {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('cache_size = -32000'); // 32 MB of page cache (default 2 MB)
      db.pragma('wal_autocheckpoint = 10000');
    },
  };
}
