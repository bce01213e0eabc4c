import { TaskData } from '../../task/task-record';
import { claimWhere } from './claims';
import { Connection } from './connection';
import { inList } from './dialect';
import { TableNames } from './schema';

/**
 * Hands pending durable rows owned by `instanceId` to the shared pool (no owner), so any
 * instance with free slots may claim them; returns the ids that were handed over (a row
 * not owned by it, not pending, or not written yet is left alone).
 */
export async function offerToPool(connection: Connection, t: TableNames, instanceId: string, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  return connection.transaction(async (sql) => {
    const table = sql.dialect.id(t.tasks);
    const params = [sql.dialect.text(instanceId), ...ids.map((id) => sql.dialect.text(id))];
    const where = `owner = ? AND status = 'pending' AND durable = 1 AND id IN (${inList(ids.length)})`;
    if (sql.dialect.family !== 'mysql') {
      const result = await sql.run(`UPDATE ${table} SET owner = NULL, version = version + 1 WHERE ${where} RETURNING id`, params);
      return result.rows.map((r) => String(r.id));
    }
    const picked = await sql.run(`SELECT id FROM ${table} WHERE ${where}${sql.dialect.forUpdate}`, params);
    const found = picked.rows.map((r) => String(r.id));
    if (found.length) await sql.run(`UPDATE ${table} SET owner = NULL, version = version + 1 WHERE id IN (${inList(found.length)})`, found);
    return found;
  });
}

/**
 * Claims up to `limit` rows of the shared pool (pending, durable, no owner) of functions
 * this instance registers that are due (no run_at, or one at or before this instance's
 * clock, the clock its start_time is stamped with): highest priority first, then oldest.
 * Rows another claimer holds are skipped (SKIP LOCKED; SQLite serialises writers), so each
 * row goes to one. Polled by every instance, this is also how a delayed task handed back
 * to the pool (a clean shutdown) is started when due, by exactly one of them.
 */
export async function claimFromPool(
  connection: Connection,
  t: TableNames,
  instanceId: string,
  limit: number,
  funcNames: readonly string[],
): Promise<TaskData[]> {
  const n = Math.floor(Number(limit));
  if (!Number.isFinite(n) || n <= 0 || funcNames.length === 0) return [];
  return claimWhere(connection, t, instanceId, n, (sql) => ({
    where:
      `c.status = 'pending' AND c.durable = 1 AND c.owner IS NULL AND c.func_name IN (${inList(funcNames.length)}) ` +
      `AND (c.run_at IS NULL OR c.run_at <= ?)`,
    params: [...funcNames.map((f) => sql.dialect.text(f)), Date.now()],
    order: 'COALESCE(c.priority, 0) DESC, c.created_at, c.id',
  }));
}

/** Cancelled rows of `owner` whose prune time (their end) is at or after `since` (the partial index of schema version 7; prune_at on MySQL). */
export async function cancelledSince(
  connection: Connection,
  t: TableNames,
  owner: string,
  since: number,
): Promise<{ id: string; version: number }[]> {
  return connection.read(async (sql) => {
    const result = await sql.run(`SELECT id, version FROM ${sql.dialect.id(t.tasks)} WHERE prune_at >= ? AND status = 'cancelled' AND owner = ?`, [
      Math.floor(since),
      sql.dialect.text(owner),
    ]);
    return result.rows.map((r) => ({ id: String(r.id), version: Number(r.version) }));
  });
}
