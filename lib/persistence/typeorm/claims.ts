import { InstanceState } from '../../storage/instance-state';
import { TaskData } from '../../task/task-record';
import { Connection, Sql } from './connection';
import { inList } from './dialect';
import { TableNames } from './schema';
import { fromRow, num, SELECT_LIST } from './task-rows';

/**
 * Durable unfinished rows nobody live holds: no owner, or an owner whose instance
 * row is missing or whose lease ended, by the database's clock. `c` is the tasks table alias.
 */
function claimable(sql: Sql, t: TableNames, durable: boolean, includePool: boolean): string {
  // Pending durable rows without an owner are the shared pool (shared-work.ts): left to it unless asked for.
  const unowned = durable && !includePool ? `(c.owner IS NULL AND c.status = 'running')` : `c.owner IS NULL`;
  return (
    `c.status IN ('pending', 'running') AND c.durable = ${durable ? 1 : 0} AND (${unowned} OR (c.owner IS NOT NULL AND NOT EXISTS ` +
    `(SELECT 1 FROM ${sql.dialect.id(t.instances)} i WHERE i.id = c.owner AND i.lease_until >= ${sql.dialect.nowMs})))`
  );
}

/**
 * Takes ownership of up to `limit` orphans, oldest first, and returns them with the
 * new owner and a bumped version (so a late write from the presumed-dead owner, at the
 * old version, cannot undo the claim).
 *
 * - SQLite: one `UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING`, inside the
 *   backend's `BEGIN IMMEDIATE` transaction: writers are serialised by the file lock.
 * - PostgreSQL: the same statement with `FOR UPDATE SKIP LOCKED` in the subquery; a row
 *   another claimer holds is skipped, and one it already claimed no longer matches
 *   (READ COMMITTED re-checks the condition on the locked row).
 * - MySQL 8 / MariaDB 10.6+: `SELECT ... FOR UPDATE SKIP LOCKED`, `UPDATE`, re-read, in
 *   one transaction (MySQL cannot LIMIT an IN-subquery nor RETURN rows).
 *
 * The caller should have called heartbeat(instanceId) first: an owner without a live
 * lease is itself an orphan's owner and may be claimed from.
 */
export async function claimOrphans(
  connection: Connection,
  t: TableNames,
  instanceId: string,
  limit: number,
  durable = true,
  includePool = true,
): Promise<TaskData[]> {
  const n = Math.floor(Number(limit));
  if (!Number.isFinite(n) || n <= 0) return [];
  const claimed = await claimWhere(connection, t, instanceId, n, (sql) => ({
    where: claimable(sql, t, durable, includePool),
    params: [],
    order: 'c.created_at, c.id',
  }));
  return claimed.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Sets `owner` (and bumps `version`) on up to `limit` rows matching a condition on the
 * tasks table aliased `c`, atomically, skipping rows another claimer holds locked; returns them.
 */
export async function claimWhere(
  connection: Connection,
  t: TableNames,
  instanceId: string,
  limit: number,
  condition: (sql: Sql) => { where: string; params: unknown[]; order: string },
): Promise<TaskData[]> {
  return connection.transaction(async (sql) => {
    const table = sql.dialect.id(t.tasks);
    const owner = sql.dialect.text(String(instanceId));
    const { where, params, order } = condition(sql);
    const pick = `SELECT c.id FROM ${table} c WHERE ${where} ORDER BY ${order} LIMIT ${limit}${sql.dialect.forUpdateSkipLocked}`;
    if (sql.dialect.family !== 'mysql') {
      const result = await sql.run(`UPDATE ${table} SET owner = ?, version = version + 1 WHERE id IN (${pick}) RETURNING ${SELECT_LIST}`, [
        owner,
        ...params,
      ]);
      return result.rows.map(fromRow);
    }
    const picked = await sql.run(pick, params);
    const ids = picked.rows.map((r) => String(r.id));
    if (!ids.length) return [];
    await sql.run(`UPDATE ${table} SET owner = ?, version = version + 1 WHERE id IN (${inList(ids.length)})`, [owner, ...ids]);
    const rows = await sql.run(`SELECT ${SELECT_LIST} FROM ${table} WHERE id IN (${inList(ids.length)})`, ids);
    return rows.rows.map(fromRow);
  });
}

/**
 * lease_until = the database's now + ttl (a ttl <= 0 records an already-expired lease).
 * Not the caller's clock at the time it sent the statement: a heartbeat held up by a
 * stalled network for longer than the lease wrote a lease already over when it landed,
 * and the instance's next recovery round took its own live tasks for orphans. The first
 * heartbeat also records when the instance started; each records when it was sent last.
 */
export async function heartbeat(connection: Connection, t: TableNames, instanceId: string, ttlSeconds: number): Promise<void> {
  const ttlMs = Math.round((Number(ttlSeconds) || 0) * 1000);
  await connection.session(async (sql) => {
    const table = sql.dialect.id(t.instances);
    const now = sql.dialect.nowMs;
    const values = `(?, ${now} + ?, ${now}, ${now})`;
    const columns = '(id, lease_until, started_at, last_heartbeat)';
    const statement =
      sql.dialect.family === 'mysql'
        ? `INSERT INTO ${table} ${columns} VALUES ${values} ON DUPLICATE KEY UPDATE lease_until = VALUES(lease_until), last_heartbeat = VALUES(last_heartbeat)`
        : `INSERT INTO ${table} ${columns} VALUES ${values} ON CONFLICT (id) DO UPDATE SET lease_until = excluded.lease_until, last_heartbeat = excluded.last_heartbeat`;
    await sql.run(statement, [sql.dialect.text(String(instanceId)), ttlMs]);
  });
}

export async function removeInstance(connection: Connection, t: TableNames, instanceId: string): Promise<void> {
  await connection.session(async (sql) => {
    await sql.run(`DELETE FROM ${sql.dialect.id(t.instances)} WHERE id = ?`, [sql.dialect.text(String(instanceId))]);
  });
}

/** Every instance row with its lease end (epoch ms). */
export async function listInstances(connection: Connection, t: TableNames): Promise<{ id: string; leaseUntil: number }[]> {
  return connection.session(async (sql) => {
    const result = await sql.run(`SELECT id, lease_until FROM ${sql.dialect.id(t.instances)}`, []);
    return result.rows.map((r) => ({ id: String(r.id), leaseUntil: Number(r.lease_until) }));
  });
}

/**
 * Every instance row, whether its lease is live by the database's clock, and how many
 * pending and running tasks it owns (one grouped read on the status index).
 */
export async function describeInstances(connection: Connection, t: TableNames): Promise<InstanceState[]> {
  return connection.read(async (sql) => {
    const d = sql.dialect;
    const rows = await sql.run(
      `SELECT id, lease_until, started_at, last_heartbeat, CASE WHEN lease_until >= ${d.nowMs} THEN 1 ELSE 0 END AS alive FROM ${d.id(t.instances)}`,
    );
    const counts = await sql.run(
      `SELECT owner, status, COUNT(*) AS n FROM ${d.id(t.tasks)} WHERE status IN ('pending', 'running') AND owner IS NOT NULL GROUP BY owner, status`,
    );
    const owned = new Map<string, { pending: number; running: number }>();
    for (const row of counts.rows) {
      const entry = owned.get(String(row.owner)) ?? { pending: 0, running: 0 };
      entry[row.status === 'running' ? 'running' : 'pending'] += num(row.n) ?? 0;
      owned.set(String(row.owner), entry);
    }
    return rows.rows.map((r) => ({
      id: String(r.id),
      leaseUntil: num(r.lease_until) ?? 0,
      startedAt: num(r.started_at),
      lastHeartbeat: num(r.last_heartbeat),
      alive: Number(r.alive) === 1,
      pending: owned.get(String(r.id))?.pending ?? 0,
      running: owned.get(String(r.id))?.running ?? 0,
    }));
  });
}

/**
 * Which of `ids` no one else holds: rows owned by `instanceId`, and ids with no row (see
 * TaskBackend.stillOwned). Read as the rows held by another owner or by none, left out.
 */
export async function stillOwned(connection: Connection, t: TableNames, instanceId: string, ids: readonly string[]): Promise<string[]> {
  const lost = new Set<string>();
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    const rows = await connection.read((sql) =>
      sql.run(`SELECT id FROM ${sql.dialect.id(t.tasks)} WHERE (owner IS NULL OR owner <> ?) AND id IN (${inList(chunk.length)})`, [
        sql.dialect.text(instanceId),
        ...chunk.map((id) => sql.dialect.text(id)),
      ]),
    );
    for (const row of rows.rows) lost.add(String(row.id));
  }
  return ids.filter((id) => !lost.has(id));
}
