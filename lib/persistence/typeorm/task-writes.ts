import { TaskData } from '../../task/task-record';
import { TERMINAL_STATUSES } from '../../task/task-status';
import { changeSeqBefore, keepChangeSeq, notifyChanged, notifyStatement, takeChangeSeq } from './change-feed';
import { Connection, Sql } from './connection';
import { inList, valuesList } from './dialect';
import { AggregateDelta } from './metrics';
import { OwnSequences } from './own-sequences';
import { queueWritten, WRITTEN_TEXT } from './pg-search';
import { columnArrays, inOneStatement, standalone, Statement, unnestSource } from './pg-unnest';
import { TableNames } from './schema';
import { unindexRows, writeIndexed } from './search-index';
import { AggregateKey, durationOf, num, toRowParams, WRITE_COLUMNS } from './task-rows';

/** Rows per multi-row statement on MySQL (27 columns: ~13.5k parameters, under every driver's limit). */
const ROWS_PER_STATEMENT = 500;
/** Characters of data per statement, well under MySQL's default max_allowed_packet. */
const CHARS_PER_STATEMENT = 4 * 1024 * 1024;
const IDS_PER_SELECT = 1000;

interface StoredState extends AggregateKey {
  version: number;
}

/**
 * saveBatch in one transaction:
 * 1. lock the stored rows of the batch (`SELECT ... FOR UPDATE`; SQLite's write
 *    transaction already excludes other writers) and read their version, status,
 *    function and duration;
 * 2. drop incoming tasks older than the stored row (version guard);
 * 3. plain multi-row INSERT of the new ones: if another writer inserted the same id in
 *    the meantime the unique violation rolls back and the transaction is retried, now
 *    seeing that row in step 1;
 * 4. multi-row upsert of the replaced ones (the version guard is repeated in SQL on
 *    PostgreSQL and SQLite);
 * 5. one upsert of the metric deltas (old row out, new row in);
 * 6. the change feed: on MySQL/SQLite every row written carries the transaction's change
 *    sequence number (see changeSeqBefore), recorded in `own` once committed so this
 *    instance's poller moves over it; on PostgreSQL a NOTIFY names the ids written,
 *    `origin` telling the writer's own listener to skip them.
 * On PostgreSQL steps 3, 4 and 6 are one statement and step 5 one more (see inOneStatement): a
 * batch is at most six round trips (START, SET ISOLATION, the lookup, the write, the counts,
 * COMMIT) whatever its size.
 */
export async function saveBatch(connection: Connection, t: TableNames, tasks: readonly TaskData[], origin = '', own?: OwnSequences): Promise<void> {
  const latest = new Map<string, TaskData>();
  for (const task of tasks) {
    const seen = latest.get(task.id);
    if (!seen || seen.version <= task.version) latest.set(task.id, task);
  }
  if (latest.size === 0) return;
  let seq: number | null;
  try {
    seq = await writeBatch(connection, t, latest, true, origin);
  } catch (error) {
    // A task thought never written had a row after all (a write that committed but
    // was not confirmed): the batch again, looking every row up.
    if (!connection.dialect.isDuplicateKey(error)) throw error;
    seq = await writeBatch(connection, t, latest, false, origin);
  }
  if (seq !== null) own?.add(seq);
}

/**
 * One attempt at saveBatch. With `trustUnstored`, tasks flagged `unstored` (created
 * here and never written) are inserted without looking for their row: under a burst
 * most rows are first writes, and the lookup was a statement per row for nothing.
 */
async function writeBatch(
  connection: Connection,
  t: TableNames,
  latest: Map<string, TaskData>,
  trustUnstored: boolean,
  origin: string,
): Promise<number | null> {
  const ids = [...latest.keys()].sort();
  const lookup = trustUnstored ? ids.filter((id) => latest.get(id)!.unstored !== true) : ids;
  const before = await changeSeqBefore(connection, t);
  // Built before the transaction: inside it, between the lookup's answer and the writes,
  // the SQLite writer thread holds the lock waiting for this thread (and gives it up,
  // running the transaction again, if that wait is long: see SqliteWriter.transaction).
  const rowParams = new Map<TaskData, unknown[]>();
  for (const task of latest.values()) rowParams.set(task, toRowParams(task, connection.dialect));
  return connection.transaction(async (sql) => {
    // SQLite writer thread: the sequence stays on the thread, which writes it into the rows.
    const kept = before === null ? keepChangeSeq(sql, t) : null;
    kept?.catch(() => undefined); // awaited below, unless the lookup fails first
    const seq: number | typeof KEPT | null = kept ? KEPT : (before ?? (await takeChangeSeq(sql, t)));
    const stored = lookup.length > 0 ? await lockStored(sql, t, lookup) : new Map<string, StoredState>();
    const inserts: TaskData[] = [];
    const updates: TaskData[] = [];
    const delta = new AggregateDelta();
    for (const id of ids) {
      const task = latest.get(id)!;
      const old = stored.get(id);
      if (old && old.version > task.version) continue;
      if (old) {
        updates.push(task);
        if (!task.uncounted) delta.add(old, -1);
      } else {
        inserts.push(task);
      }
      delta.add(aggregateKeyOf(task), 1);
    }
    const written = [...inserts, ...updates].map((task) => task.id);
    if (sql.dialect.family === 'postgres') {
      // The rows and the NOTIFY in one statement, then their counts in one more: as CTEs beside
      // the rows' writes, PostgreSQL ran the counts' upserts first, so a batch written alongside
      // another (writeBatchesInFlight) waited on the aggregate rows' locks from its start until
      // the other committed. Last, they hold those locks for this statement and the COMMIT only.
      const writes = [pgRows(sql, t, inserts, false, rowParams), pgRows(sql, t, updates, true, rowParams)];
      const statements = [
        ...inOneStatement(
          writes.filter((w): w is Statement => w !== null),
          notifyStatement(t, origin, written),
        ),
        ...inOneStatement(delta.statements(sql, t), null),
      ];
      for (const statement of statements) await sql.run(statement.text, statement.params);
      return seq === KEPT ? null : seq; // PostgreSQL keeps nothing on a thread: never KEPT here
    }
    if (sql.pipelined) {
      const writes = Promise.all([
        writeRows(sql, t, inserts, false, seq, rowParams),
        writeRows(sql, t, updates, true, seq, rowParams),
        delta.apply(sql, t),
      ]);
      // Every row is on the thread now (issued above, copied as sent). Held until the COMMIT's
      // answer, a batch's rows (~1 MB per 3,000) outlived scavenges and filled the old space;
      // a run again (SqliteWriter.transaction) builds them anew from the tasks (writeRows).
      rowParams.clear();
      if (kept) {
        // The COMMIT fails with any of them (Sql.pipelined), and goes out right behind them:
        // waiting for their answers held the lock for a turn of this thread's event loop.
        writes.catch(() => undefined);
        return num(await kept);
      }
      await writes;
    } else {
      await writeRows(sql, t, inserts, false, seq, rowParams);
      await writeRows(sql, t, updates, true, seq, rowParams);
      await delta.apply(sql, t);
    }
    await notifyChanged(sql, t, origin, written);
    return seq === KEPT ? null : seq;
  });
}

/**
 * Inserts rows known to be new, with their metric counts unless `counted` is false,
 * in the caller's transaction (enqueue: the task's own, or the application's). A row
 * that exists already fails on its primary key.
 */
export async function insertNew(sql: Sql, t: TableNames, tasks: TaskData[], counted = true): Promise<void> {
  await writeRows(sql, t, tasks, false);
  if (!counted) return;
  const delta = new AggregateDelta();
  for (const task of tasks) delta.add(aggregateKeyOf(task), 1);
  await delta.apply(sql, t);
}

export function aggregateKeyOf(task: TaskData): AggregateKey {
  return { funcName: task.funcName, status: task.status, durationMs: durationOf(task) };
}

async function lockStored(sql: Sql, t: TableNames, ids: string[]): Promise<Map<string, StoredState>> {
  const stored = new Map<string, StoredState>();
  const table = sql.dialect.id(t.tasks);
  if (sql.getEach) {
    // SQLite: the write transaction already excludes other writers; one prepared
    // primary-key lookup per id beats a 1,000-placeholder IN list through TypeORM.
    const found = await sql.getEach(
      `SELECT func_name, status, duration_ms, version FROM ${table} WHERE id = ?`,
      ids.map((id) => [id]),
    );
    ids.forEach((id, i) => {
      const row = found[i];
      if (row) stored.set(id, storedState(row));
    });
    return stored;
  }
  // PostgreSQL: all ids as one array parameter, one statement whatever their number.
  const perSelect = sql.dialect.family === 'postgres' ? ids.length : IDS_PER_SELECT;
  for (let i = 0; i < ids.length; i += perSelect) {
    const chunk = ids.slice(i, i + perSelect);
    const where = sql.dialect.family === 'postgres' ? 'id = ANY(CAST(? AS text[]))' : `id IN (${inList(chunk.length)})`;
    const params = chunk.map((id) => sql.dialect.text(id));
    const result = await sql.run(
      `SELECT id, func_name, status, duration_ms, version FROM ${table} WHERE ${where} ORDER BY id${sql.dialect.forUpdate}`,
      sql.dialect.family === 'postgres' ? [params] : params,
    );
    for (const row of result.rows) stored.set(String(row.id), storedState(row));
  }
  return stored;
}

function storedState(row: Record<string, unknown>): StoredState {
  return {
    funcName: String(row.func_name),
    status: String(row.status),
    durationMs: num(row.duration_ms),
    version: num(row.version) ?? 0,
  };
}

/** changeSeq of writeRows: the value the SQLite writer thread kept (Sql.keep). */
const KEPT = 'kept';

/**
 * The one place where the rows of a batch are written, in the caller's transaction.
 * `changeSeq`: the change_seq of every row (MySQL/SQLite; KEPT: the one the thread kept),
 * or null to leave the column out (PostgreSQL, enqueue's insert). `replace`: an upsert that keeps a stored row of a
 * newer version (the version guard, in SQL on PostgreSQL and SQLite).
 */
async function writeRows(
  sql: Sql,
  t: TableNames,
  tasks: TaskData[],
  replace: boolean,
  changeSeq: number | typeof KEPT | null = null,
  built?: ReadonlyMap<TaskData, unknown[]>,
): Promise<void> {
  if (!tasks.length) return;
  const columns: string[] = [...WRITE_COLUMNS];
  if (changeSeq !== null) columns.push('change_seq');
  const paramsOf = (task: TaskData): unknown[] => {
    // The built row itself, not a copy (a batch's rows were copied once more each): the
    // sequence goes in its own slot, so a transaction run again (SqliteWriter) overwrites it.
    const params = built?.get(task) ?? toRowParams(task, sql.dialect);
    if (changeSeq !== null) params[WRITE_COLUMNS.length] = changeSeq === KEPT ? null : changeSeq;
    return params;
  };
  const statement = (source: string) =>
    replace ? rowUpsert(sql, t, columns, source) : `INSERT INTO ${sql.dialect.id(t.tasks)} (${columns.join(', ')}) ${source}`;
  if (sql.runEach) {
    // SQLite: one prepared single-row statement stepped per task (see Sql.runEach).
    const params = tasks.map(paramsOf);
    const keptSlot = changeSeq === KEPT ? WRITE_COLUMNS.length : undefined;
    const written = writeIndexed(sql, t, columns, params, replace, (options) =>
      sql.runEach!(statement(`VALUES ${valuesList(columns.length, 1)}`), params, { ...options, keptSlot }),
    );
    // Pipelined, writeIndexed has issued its statements (and the thread copied the rows) by
    // now: the rows go, rather than waiting in this frame for the answer (see writeBatch).
    if (sql.pipelined) params.length = 0;
    await written;
    return;
  }
  if (sql.dialect.family === 'postgres') {
    const rows = standalone(pgRows(sql, t, tasks, replace, built)!);
    await sql.run(rows.text, rows.params);
    return;
  }
  let rows: unknown[][] = [];
  let chars = 0;
  const flush = async () => {
    if (!rows.length) return;
    const written = rows;
    await writeIndexed(sql, t, columns, written, replace, () =>
      sql.run(statement(`VALUES ${valuesList(columns.length, written.length)}`), written.flat()),
    );
    rows = [];
    chars = 0;
  };
  for (const task of tasks) {
    const params = paramsOf(task);
    const size = params.reduce<number>((n, p) => n + (typeof p === 'string' ? p.length : 8), 0);
    if (rows.length && (rows.length >= ROWS_PER_STATEMENT || chars + size > CHARS_PER_STATEMENT)) await flush();
    rows.push(params);
    chars += size;
  }
  await flush();
}

/**
 * PostgreSQL: the write of `tasks` (insert, or upsert with the version guard) as one
 * statement, one array per column (see pg-unnest.ts), or null when there are none; with,
 * as its follow-up, the search queue's rows for the written rows whose text is new or changed.
 */
function pgRows(sql: Sql, t: TableNames, tasks: readonly TaskData[], replace: boolean, built?: ReadonlyMap<TaskData, unknown[]>): Statement | null {
  if (!tasks.length) return null;
  const columns: string[] = [...WRITE_COLUMNS];
  const source = unnestSource(columns);
  const text = replace ? rowUpsert(sql, t, columns, source) : `INSERT INTO ${sql.dialect.id(t.tasks)} (${columns.join(', ')}) ${source}`;
  return {
    text: text + WRITTEN_TEXT,
    then: (written) => queueWritten(t, written, replace),
    params: columnArrays(
      tasks.map((task) => built?.get(task) ?? toRowParams(task, sql.dialect)),
      columns.length,
    ),
  };
}

/** Upsert of task rows from `source`, every column but the id replaced when the stored version is not newer. */
function rowUpsert(sql: Sql, t: TableNames, columns: string[], source: string): string {
  const updated = columns.filter((c) => c !== 'id');
  return sql.dialect.upsertFrom(
    t.tasks,
    columns,
    ['id'],
    source,
    (c, ref) => ref.new(c),
    updated,
    (ref) => `${ref.old('version')} <= ${ref.new('version')}`,
  );
}

/**
 * Up to `batchSize` terminal rows whose COALESCE(end_time, created_at) is before
 * `cutoff` (the indexed `prune_at` column), deleted with their idempotency rows and
 * their metric counts, in one transaction. Rows another pruner holds are skipped.
 */
export async function deleteTerminalBefore(connection: Connection, t: TableNames, cutoff: number, batchSize: number): Promise<string[]> {
  const limit = Math.max(1, Math.min(100_000, Math.floor(Number(batchSize) || 0)));
  if (!Number.isFinite(cutoff)) return [];
  return connection.transaction(async (sql) => {
    const table = sql.dialect.id(t.tasks);
    const statuses = TERMINAL_STATUSES.map((s) => `'${s}'`).join(', ');
    const found = await sql.run(
      `SELECT id, func_name, status, duration_ms FROM ${table} ` +
        `WHERE prune_at < ? AND status IN (${statuses}) ORDER BY prune_at LIMIT ${limit}${sql.dialect.forUpdateSkipLocked}`,
      [Math.ceil(cutoff)],
    );
    if (!found.rows.length) return [];
    const delta = new AggregateDelta();
    const ids: string[] = [];
    for (const row of found.rows) {
      ids.push(String(row.id));
      delta.add({ funcName: String(row.func_name), status: String(row.status), durationMs: num(row.duration_ms) }, -1);
    }
    for (let i = 0; i < ids.length; i += IDS_PER_SELECT) {
      const chunk = ids.slice(i, i + IDS_PER_SELECT);
      await unindexRows(sql, t, chunk);
      await sql.run(`DELETE FROM ${table} WHERE id IN (${inList(chunk.length)})`, chunk);
      await sql.run(`DELETE FROM ${sql.dialect.id(t.idempotency)} WHERE task_id IN (${inList(chunk.length)})`, chunk);
    }
    await delta.apply(sql, t);
    return ids;
  });
}
