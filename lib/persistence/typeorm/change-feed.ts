import { ChangeCursor, ChangePage, TaskChange } from '../../storage/change-feed';
import { TaskData } from '../../task/task-record';
import { Connection, Sql } from './connection';
import { inList } from './dialect';
import { TableNames } from './schema';
import { OwnSequences } from './own-sequences';
import type { Statement } from './pg-unnest';
import { fromRow, num, SELECT_LIST } from './task-rows';

/** Ids per SELECT of getTasks. */
const IDS_PER_READ = 500;
/** Bytes of one NOTIFY payload at most (PostgreSQL's limit is 8000). */
const PAYLOAD_BYTES = 7800;

/**
 * The write side of the change feed on MySQL/MariaDB and SQLite: every write transaction
 * has one change sequence number, the next of the `change_seq` row of the meta table,
 * and every row it writes carries it. Numbers are consecutive; readers watch the gaps
 * (a number taken by a transaction not committed yet) until they fill (see RemoteChanges).
 *
 * MySQL/MariaDB: taken before the transaction, in a statement of its own (autocommit), so
 * the counter's row lock lasts that one statement: taken inside, the lock would last to
 * commit and queue every writer of every instance behind the slowest, or behind one whose
 * connection a partition left open on the server. PostgreSQL: null (it notifies instead).
 */
export async function changeSeqBefore(connection: Connection, t: TableNames): Promise<number | null> {
  if (connection.dialect.family !== 'mysql') return null;
  return connection.session(async (sql) => {
    const result = await sql.run(
      `UPDATE ${sql.dialect.id(t.meta)} SET value = LAST_INSERT_ID(CAST(value AS UNSIGNED) + 1) WHERE name = 'change_seq'`,
    );
    return result.affected > 0 && result.insertId ? result.insertId : null;
  });
}

/**
 * SQLite writer thread (Sql.keep): takeChangeSeq's statement, its value kept on the thread for
 * the rows (EachOptions.keptSlot), so that they are sent without waiting for it; null where
 * statements are not pipelined or the dialect takes none.
 */
export function keepChangeSeq(sql: Sql, t: TableNames): Promise<unknown> | null {
  if (sql.dialect.family !== 'sqlite' || !sql.pipelined || !sql.keep) return null;
  return sql.keep(CHANGE_SEQ_TAKE(sql, t));
}

const CHANGE_SEQ_TAKE = (sql: Sql, t: TableNames) =>
  `UPDATE ${sql.dialect.id(t.meta)} SET value = CAST(value AS INTEGER) + 1 WHERE name = 'change_seq' RETURNING value`;

/** SQLite: the number, taken first inside the write transaction (the file's write lock orders them as they commit); null elsewhere. */
export async function takeChangeSeq(sql: Sql, t: TableNames): Promise<number | null> {
  if (sql.dialect.family !== 'sqlite') return null;
  const result = await sql.run(CHANGE_SEQ_TAKE(sql, t));
  return num(result.rows[0]?.value);
}

/**
 * PostgreSQL: tells every listener which tasks this transaction wrote, in the same
 * transaction (a NOTIFY is delivered when it commits, never if it rolls back). The
 * payload is the JSON array `[origin, ...ids]`, split so each stays under 8000 bytes;
 * `origin` lets the writer's own listener skip its own changes.
 */
export async function notifyChanged(sql: Sql, t: TableNames, origin: string, ids: readonly string[]): Promise<void> {
  if (sql.dialect.family !== 'postgres') return;
  const statement = notifyStatement(t, origin, ids);
  if (statement) await sql.run(statement.text, statement.params);
}

/** The SELECT of notifyChanged (PostgreSQL), or null when no id was written. */
export function notifyStatement(t: TableNames, origin: string, ids: readonly string[]): Statement | null {
  if (ids.length === 0) return null;
  const payloads: string[] = [];
  let chunk: string[] = [origin];
  let bytes = Buffer.byteLength(JSON.stringify(chunk));
  for (const id of ids) {
    const size = Buffer.byteLength(JSON.stringify(id)) + 1;
    if (chunk.length > 1 && bytes + size > PAYLOAD_BYTES) {
      payloads.push(JSON.stringify(chunk));
      chunk = [origin];
      bytes = Buffer.byteLength(JSON.stringify(chunk));
    }
    chunk.push(id);
    bytes += size;
  }
  payloads.push(JSON.stringify(chunk));
  return { text: `SELECT pg_notify(?, p) FROM unnest(CAST(? AS text[])) AS p`, params: [t.changes, payloads] };
}

/** Parses a NOTIFY payload of notifyChanged; null when it is not one. */
export function parseNotice(payload: string | undefined): { origin: string; ids: string[] } | null {
  try {
    const parsed: unknown = JSON.parse(payload ?? '');
    if (!Array.isArray(parsed) || parsed.length < 1 || !parsed.every((x) => typeof x === 'string')) return null;
    return { origin: parsed[0] as string, ids: parsed.slice(1) as string[] };
  } catch {
    return null;
  }
}

/** The cursor after every change written so far (MySQL/SQLite). */
export async function changeCursor(connection: Connection, t: TableNames): Promise<ChangeCursor> {
  return connection.read(async (sql) => {
    const result = await sql.run(`SELECT MAX(change_seq) AS seq FROM ${sql.dialect.id(t.tasks)}`);
    return { seq: num(result.rows[0]?.seq) ?? 0, id: null };
  });
}

/**
 * Up to `limit` changes after `from`, in (change_seq, id) order, on the
 * (change_seq, id) index: ids and versions only (MySQL/SQLite). The numbers of `own`
 * that come next are moved over first, not read (see OwnSequences).
 */
export async function changesAfter(
  connection: Connection,
  t: TableNames,
  from: ChangeCursor,
  limit: number,
  own?: OwnSequences,
): Promise<ChangePage> {
  const n = Math.max(1, Math.min(10_000, Math.floor(Number(limit) || 1)));
  const { cursor, passed } = own ? own.skip(from) : { cursor: from, passed: [] };
  const page = await connection.read(async (sql) => {
    const table = sql.dialect.id(t.tasks);
    const result =
      cursor.id === null
        ? await sql.run(`SELECT id, version, change_seq, owner FROM ${table} WHERE change_seq > ? ORDER BY change_seq, id LIMIT ${n}`, [cursor.seq])
        : await sql.run(
            `SELECT id, version, change_seq, owner FROM ${table} WHERE change_seq >= ? AND (change_seq > ? OR id > ?) ORDER BY change_seq, id LIMIT ${n}`,
            [cursor.seq, cursor.seq, sql.dialect.text(cursor.id)],
          );
    const changes: TaskChange[] = result.rows.map((r) => ({
      id: String(r.id),
      version: num(r.version) ?? 0,
      seq: num(r.change_seq) ?? undefined,
      owner: ownerOf(r.owner),
    }));
    const last = result.rows.at(-1);
    return { changes, cursor: last ? { seq: num(last.change_seq) ?? cursor.seq, id: String(last.id) } : cursor };
  });
  return passed.length ? { ...page, passed } : page;
}

/** The rows carrying any of the change sequence numbers `seqs` (gaps a reader waits on), ids and versions. */
export async function changesAt(connection: Connection, t: TableNames, seqs: readonly number[]): Promise<TaskChange[]> {
  if (seqs.length === 0) return [];
  return connection.read(async (sql) => {
    const result = await sql.run(
      `SELECT id, version, change_seq, owner FROM ${sql.dialect.id(t.tasks)} WHERE change_seq IN (${inList(seqs.length)})`,
      seqs.map((n) => Math.floor(n)),
    );
    return result.rows.map((r) => ({ id: String(r.id), version: num(r.version) ?? 0, seq: num(r.change_seq) ?? undefined, owner: ownerOf(r.owner) }));
  });
}

/**
 * What may have changed since `since` (epoch ms): every unfinished row and every row
 * that ended since then, at most `limit` (after notices were lost, and when a first
 * stream opens: then `since` is now, and only the unfinished ones come).
 */
export async function changedSince(connection: Connection, t: TableNames, since: number, limit: number): Promise<TaskChange[]> {
  const n = Math.max(1, Math.min(100_000, Math.floor(Number(limit) || 1)));
  return connection.read(async (sql) => {
    const result = await sql.run(
      `SELECT id, version, owner FROM ${sql.dialect.id(t.tasks)} WHERE status IN ('pending', 'running') OR prune_at >= ? LIMIT ${n}`,
      [Math.floor(since)],
    );
    return result.rows.map((r) => ({ id: String(r.id), version: num(r.version) ?? 0, owner: ownerOf(r.owner) }));
  });
}

/** The rows of `ids` that exist, read IDS_PER_READ at a time. */
export async function getTasks(connection: Connection, t: TableNames, ids: readonly string[]): Promise<TaskData[]> {
  const tasks: TaskData[] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_READ) {
    const chunk = ids.slice(i, i + IDS_PER_READ);
    const result = await connection.read((sql) =>
      sql.run(
        `SELECT ${SELECT_LIST} FROM ${sql.dialect.id(t.tasks)} WHERE id IN (${inList(chunk.length)})`,
        chunk.map((id) => sql.dialect.text(id)),
      ),
    );
    for (const row of result.rows) tasks.push(fromRow(row));
  }
  return tasks;
}

function ownerOf(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}
