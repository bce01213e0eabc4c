import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { DataSource, DataSourceOptions } from 'typeorm';
import { sqliteOptions, TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { Connection } from '../../lib/persistence/typeorm/connection';
import { Dialect } from '../../lib/persistence/typeorm/dialect';
import { SqliteWriter, writerCacheSize } from '../../lib/persistence/typeorm/sqlite-writer';
import * as taskRows from '../../lib/persistence/typeorm/task-rows';
import { blankTask } from '../support/task-data';

/**
 * SQLite write transactions run on a writer thread with its own handle on the file
 * (lib/persistence/typeorm/sqlite-writer.ts), so the app's event loop keeps turning
 * while SQLite writes; in-memory databases keep writing on the DataSource's handle.
 */
describe('SQLite writer thread', () => {
  let dir: string;
  const sources: DataSource[] = [];

  const open = async (database: string, checkpointPages?: number): Promise<{ source: DataSource; connection: Connection }> => {
    const source = new DataSource(
      database === ':memory:'
        ? { type: 'better-sqlite3', database }
        : checkpointPages
          ? checkpointEvery(database, checkpointPages)
          : sqliteOptions(database),
    );
    await source.initialize();
    sources.push(source);
    const connection = new Connection(source, new Dialect('sqlite'));
    await connection.transaction((sql) => sql.run('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)'));
    return { source, connection };
  };
  /** sqliteOptions with another wal_autocheckpoint (pages) on the DataSource's handle. */
  const checkpointEvery = (database: string, pages: number): DataSourceOptions => {
    const options = sqliteOptions(database) as DataSourceOptions & { prepareDatabase(db: { pragma(source: string): unknown }): void };
    return {
      ...options,
      prepareDatabase: (db: { pragma(source: string): unknown }) => {
        options.prepareDatabase(db);
        db.pragma(`wal_autocheckpoint = ${pages}`);
      },
    } as DataSourceOptions;
  };
  const walBytes = (database: string) => fs.statSync(`${database}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  /** Rows of t in the database file alone, as a copy without its WAL sees them (null: no table t there yet). */
  const rowsInMainFile = (database: string): number | null => {
    const copy = path.join(dir, `copy-${Math.random().toString(36).slice(2)}.db`);
    fs.copyFileSync(database, copy);
    const db = new Database(copy, { readonly: true });
    try {
      const table = db.prepare("SELECT name FROM sqlite_master WHERE name = 't'").get();
      return table ? (db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n : null;
    } finally {
      db.close();
    }
  };
  /** One transaction of `rows` rows of 1 KB each (~`rows / 4` pages of 4 KB). */
  const insertRows = (connection: Connection, from: number, rows: number) =>
    connection.transaction((sql) =>
      sql.runEach!(
        'INSERT INTO t (id, v) VALUES (?, ?)',
        Array.from({ length: rows }, (_, i) => [from + i, `${from + i}`.padEnd(1000, 'x')]),
      ),
    );
  const values = async (connection: Connection) => (await connection.read((sql) => sql.run('SELECT v FROM t ORDER BY id'))).rows.map((row) => row.v);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-writer-'));
  });
  afterEach(async () => {
    for (const source of sources.splice(0)) {
      await Connection.closeWriter(source);
      if (source.isInitialized) await source.destroy();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the event loop turning while a large batch of tasks is written', async () => {
    const backend = new TypeOrmTaskBackend(sqliteOptions(path.join(dir, 'tasks.db')));
    await backend.open();
    try {
      const tasks = Array.from({ length: 20_000 }, (_, i) => blankTask({ funcName: `Fn.f${i % 7}`, logs: [`line ${i}`] }));
      let turns = 0;
      let writing = true;
      const spin = () => {
        if (!writing) return;
        turns++;
        setImmediate(spin);
      };
      setImmediate(spin);
      await backend.saveBatch(tasks);
      writing = false;
      // On the DataSource's own handle the batch is a handful of synchronous steps: the
      // loop turns once per awaited statement (under 10). On the thread it turns freely.
      expect(turns).toBeGreaterThan(50);
      const page = await backend.listTasks({ limit: 1 });
      expect(page.total).toBe(20_000);
      expect((await backend.metrics()).pending).toBe(20_000);
    } finally {
      await backend.close();
    }
  });

  it('writes a batch whole when its transaction runs again after the rows it sent were let go', async () => {
    const backend = new TypeOrmTaskBackend(sqliteOptions(path.join(dir, 'again.db')));
    await backend.open();
    try {
      const connection = (backend as unknown as { conn(): Connection }).conn();
      const transaction = connection.transaction.bind(connection);
      // As SqliteWriter.transaction does when the thread gave the lock up (stallMs): the first run
      // sends its statements and is rolled back, the second runs the same function from the start.
      jest.spyOn(connection, 'transaction').mockImplementationOnce(async (fn) => {
        await transaction(async (sql) => {
          await fn(sql);
          throw new Error('given up');
        }).catch(() => undefined);
        return transaction(fn);
      });
      const built = jest.spyOn(taskRows, 'toRowParams');
      const now = Date.now();
      const tasks = Array.from({ length: 40 }, (_, i) =>
        blankTask({ status: 'success', startTime: now, endTime: now + i, result: { n: i }, logs: [`line ${i}`], unstored: true }),
      );
      await backend.saveBatch(tasks);
      // Let go once sent, the rows were built again for the second run, from the tasks.
      expect(built).toHaveBeenCalledTimes(2 * tasks.length);
      built.mockRestore();
      expect((await backend.metrics()).success).toBe(tasks.length);
      for (const task of [tasks[0], tasks[17], tasks[39]]) {
        const stored = await backend.getTask(task.id);
        expect(stored).toMatchObject({ status: 'success', endTime: task.endTime, result: task.result, logs: task.logs });
      }
      expect((await backend.listTasks({ q: tasks[17].id })).items.map((task) => task.id)).toEqual([tasks[17].id]);
    } finally {
      await backend.close();
    }
  });

  it('applies a transaction whole or not at all when a statement sent without waiting fails', async () => {
    const { connection } = await open(path.join(dir, 'atomic.db'));
    await connection.transaction((sql) => sql.run('INSERT INTO t (id, v) VALUES (?, ?)', [1, 'kept']));
    const outcome = connection.transaction(async (sql) => {
      expect(sql.pipelined).toBe(true);
      const sent = [
        sql.run('INSERT INTO t (id, v) VALUES (?, ?)', [2, 'before the failure']),
        sql.run('INSERT INTO t (id, v) VALUES (?, ?)', [1, 'duplicate key']),
        sql.run('INSERT INTO t (id, v) VALUES (?, ?)', [3, 'after the failure']),
      ];
      const settled = await Promise.allSettled(sent);
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
      // The third statement was refused with the error that failed the transaction.
      expect(String((settled[2] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
      return 'committed';
    });
    await expect(outcome).rejects.toThrow(/UNIQUE/);
    expect(await values(connection)).toEqual(['kept']);
    // The writer is usable again afterwards.
    await connection.transaction((sql) => sql.run('INSERT INTO t (id, v) VALUES (?, ?)', [4, 'next']));
    expect(await values(connection)).toEqual(['kept', 'next']);
  });

  it('fails the COMMIT with a failure of a statement the transaction did not wait for', async () => {
    const { connection } = await open(path.join(dir, 'unawaited.db'));
    await connection.transaction((sql) => sql.run('INSERT INTO t (id, v) VALUES (?, ?)', [1, 'kept']));
    const outcome = connection.transaction(async (sql) => {
      void sql.run('INSERT INTO t (id, v) VALUES (?, ?)', [2, 'before the failure']).catch(() => undefined);
      void sql.run('INSERT INTO t (id, v) VALUES (?, ?)', [1, 'duplicate key']).catch(() => undefined);
      return 'returned before the answers';
    });
    await expect(outcome).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    expect(await values(connection)).toEqual(['kept']);
  });

  it('refuses a statement sent after its transaction returned, instead of running it on its own', async () => {
    const { connection } = await open(path.join(dir, 'late.db'));
    let late: (() => Promise<unknown>) | null = null;
    await connection.transaction(async (sql) => {
      await sql.run('INSERT INTO t (id, v) VALUES (?, ?)', [1, 'in the transaction']);
      late = () => sql.run('INSERT INTO t (id, v) VALUES (?, ?)', [2, 'after the commit']);
    });
    await expect(late!()).rejects.toThrow(/after its transaction ended/);
    expect(await values(connection)).toEqual(['in the transaction']);
  });

  it('writes a value kept on the thread into the rows, and hands on the rowids they took', async () => {
    const { connection } = await open(path.join(dir, 'kept.db'));
    await connection.transaction(async (sql) => {
      await sql.run('CREATE TABLE q (task_rowid INTEGER PRIMARY KEY)');
      await sql.run('INSERT INTO t (id, v) VALUES (?, ?)', [5, 'stored before']);
    });
    const range = 'INSERT OR IGNORE INTO q (task_rowid) SELECT id FROM t WHERE id BETWEEN ? AND ?';
    const kept = await connection.transaction(async (sql) => {
      const value = sql.keep!("SELECT 'k' || (40 + 2) AS v");
      // New rows take the largest rowid + 1 (6 and 7): one range.
      void sql.runEach!('INSERT INTO t (v) VALUES (?)', [[null], [null]], { keptSlot: 0, insertedRange: range }).catch(() => undefined);
      // Rowids 9 and 4, around the stored 5: each on its own, not the range 4..9.
      void sql.runEach!(
        'INSERT INTO t (id, v) VALUES (?, ?)',
        [
          [9, 'b'],
          [4, 'a'],
        ],
        { insertedRange: range },
      ).catch(() => undefined);
      return value;
    });
    expect(kept).toBe('k42');
    const rows = await connection.read((sql) => sql.run('SELECT id, v FROM t ORDER BY id'));
    expect(rows.rows).toEqual([
      { id: 4, v: 'a' },
      { id: 5, v: 'stored before' },
      { id: 6, v: 'k42' },
      { id: 7, v: 'k42' },
      { id: 9, v: 'b' },
    ]);
    const queued = await connection.read((sql) => sql.run('SELECT task_rowid FROM q ORDER BY task_rowid'));
    expect(queued.rows.map((r) => r.task_rowid)).toEqual([4, 6, 7, 9]);
  });

  it('goes back to the DataSource handle once the thread is gone, losing no write', async () => {
    const { source, connection } = await open(path.join(dir, 'fallback.db'));
    await connection.transaction((sql) => sql.run('INSERT INTO t (id, v) VALUES (?, ?)', [1, 'on the thread']));
    await Connection.closeWriter(source);
    await connection.transaction((sql) => sql.run('INSERT INTO t (id, v) VALUES (?, ?)', [2, 'on the handle']));
    expect(await values(connection)).toEqual(['on the thread', 'on the handle']);
  });

  it("keeps the DataSource's page cache for reads and at most 8 MB on the writer's handle", async () => {
    const { connection } = await open(path.join(dir, 'cache.db'));
    const cacheSize = (result: { rows: Record<string, unknown>[] }) => Number(result.rows[0].cache_size);
    // A transaction runs on the writer thread; a read on the DataSource's handle.
    expect(cacheSize(await connection.transaction((sql) => sql.run('PRAGMA cache_size')))).toBe(-8000);
    expect(cacheSize(await connection.read((sql) => sql.run('PRAGMA cache_size')))).toBe(-32000);
  });

  it("caps the writer thread's young generation at 8 MB (V8 grew it to 32 MB through a burst)", async () => {
    const start = SqliteWriter.start.bind(SqliteWriter);
    const started: (SqliteWriter | null)[] = [];
    jest.spyOn(SqliteWriter, 'start').mockImplementation(async (...args) => {
      const writer = await start(...args);
      started.push(writer);
      return writer;
    });
    try {
      const { connection } = await open(path.join(dir, 'young.db'));
      await connection.transaction((sql) => sql.run('INSERT INTO t (id, v) VALUES (?, ?)', [1, 'on the thread']));
      expect(started).toHaveLength(1);
      const { worker } = started[0] as unknown as { worker: Worker };
      expect(worker.resourceLimits?.maxYoungGenerationSizeMb).toBeLessThanOrEqual(8);
    } finally {
      jest.restoreAllMocks();
    }
  });

  it("moves the checkpoints off both handles' COMMIT, and gives the DataSource's back when the writer ends", async () => {
    const { source, connection } = await open(path.join(dir, 'auto.db'));
    const autocheckpoint = (result: { rows: Record<string, unknown>[] }) => Number(result.rows[0].wal_autocheckpoint);
    expect(autocheckpoint(await connection.transaction((sql) => sql.run('PRAGMA wal_autocheckpoint')))).toBe(0);
    expect(autocheckpoint(await connection.read((sql) => sql.run('PRAGMA wal_autocheckpoint')))).toBe(0);
    await Connection.closeWriter(source);
    // Writes are on the DataSource's handle again: SQLite checkpoints them as configured.
    expect(autocheckpoint(await connection.read((sql) => sql.run('PRAGMA wal_autocheckpoint')))).toBe(10_000);
  });

  it("checkpoints on the writer thread once the WAL passes the DataSource's interval, bounding it through back-to-back transactions", async () => {
    const file = path.join(dir, 'bounded.db');
    const { connection } = await open(file, 100);
    const frame = 4096 + 24;
    let largest = 0;
    // 40 transactions of ~50 pages each: ~2,000 pages (8 MB) without a checkpoint.
    const sent = Array.from({ length: 40 }, (_, i) => insertRows(connection, i * 200, 200).then(() => (largest = Math.max(largest, walBytes(file)))));
    await Promise.all(sent);
    // At most twice the interval, plus the transaction that crossed it (and its B-tree pages):
    // the WAL was checkpointed and restarted from its start. (Not checked by copying the
    // database file here: the thread may be checkpointing into it, and the copy would be torn.)
    expect(largest).toBeGreaterThan(100 * frame);
    expect(largest).toBeLessThan(400 * frame);
    expect((await connection.read((sql) => sql.run('SELECT COUNT(*) AS n FROM t'))).rows[0].n).toBe(8_000);
  });

  it("folds the WAL back into the database file when the writer closes, the DataSource's handle still open", async () => {
    const file = path.join(dir, 'close.db');
    const { source, connection } = await open(file, 1_000_000); // no checkpoint before the close
    for (let i = 0; i < 5; i++) await insertRows(connection, i * 1000, 1000);
    expect(walBytes(file)).toBeGreaterThan(1_000 * 4096);
    expect(rowsInMainFile(file)).toBeNull(); // even the table is only in the WAL
    await Connection.closeWriter(source);
    expect(source.isInitialized).toBe(true);
    expect(rowsInMainFile(file)).toBe(5_000);
  });

  it('copies a smaller page cache as it is, in KiB', () => {
    expect(writerCacheSize(-2000, 4096)).toBe(-2000);
    expect(writerCacheSize(100, 4096)).toBe(-400);
    expect(writerCacheSize(-64000, 4096)).toBe(-8000);
    expect(writerCacheSize(100_000, 8192)).toBe(-8000);
  });

  it('writes an in-memory database on its own handle (a second handle would see another database)', async () => {
    const { connection } = await open(':memory:');
    const result = await connection.transaction(async (sql) => {
      expect(sql.pipelined).toBeFalsy();
      return sql.run('INSERT INTO t (id, v) VALUES (?, ?)', [1, 'memory']);
    });
    expect(result.affected).toBe(1);
    expect(await values(connection)).toEqual(['memory']);
  });
});
