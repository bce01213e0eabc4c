import { Connection, Sql } from './connection';
import { TableNames } from './schema';
import { num } from './task-rows';

/**
 * A named lease, true for one holder until `expires_at`: insert it if absent, else take
 * it over with a conditional update when it has expired or already belongs to `holder`
 * (which renews it). Both statements are atomic, so concurrent callers get exactly one
 * `true`. Times are the callers' clocks (Date.now()): keep instance clocks in sync to
 * well under the ttl.
 */
export async function tryAcquireLease(connection: Connection, t: TableNames, name: string, holder: string, ttlSeconds: number): Promise<boolean> {
  const now = Date.now();
  const expires = now + Math.round((Number(ttlSeconds) || 0) * 1000);
  return connection.session(async (sql) => {
    const table = sql.dialect.id(t.leases);
    const leaseName = sql.dialect.text(String(name));
    const me = sql.dialect.text(String(holder));
    if (await insertIfAbsent(sql, t, leaseName, me, expires)) return true;
    const updated = await sql.run(`UPDATE ${table} SET holder = ?, expires_at = ? WHERE name = ? AND (expires_at < ? OR holder = ?)`, [
      me,
      expires,
      leaseName,
      now,
      me,
    ]);
    if (updated.affected > 0) return true;
    // MySQL without FOUND_ROWS reports 0 for a renewal that changed nothing.
    const current = await sql.run(`SELECT holder, expires_at FROM ${table} WHERE name = ?`, [leaseName]);
    const row = current.rows[0];
    return !!row && String(row.holder) === me && (num(row.expires_at) ?? 0) >= now;
  });
}

async function insertIfAbsent(sql: Sql, t: TableNames, name: string, holder: string, expires: number): Promise<boolean> {
  const params = [name, holder, expires];
  if (sql.dialect.family === 'mysql') {
    try {
      await sql.run(`INSERT INTO ${sql.dialect.id(t.leases)} (name, holder, expires_at) VALUES (?, ?, ?)`, params);
      return true;
    } catch (error) {
      if (sql.dialect.isDuplicateKey(error)) return false;
      throw error;
    }
  }
  const result = await sql.run(sql.dialect.insertIgnoring(t.leases, ['name', 'holder', 'expires_at'], ['name'], 1), params);
  return result.affected > 0;
}

/** Deletes leases that expired before `before` (epoch ms); returns how many went. */
export async function deleteExpiredLeases(connection: Connection, t: TableNames, before: number): Promise<number> {
  return connection.session(async (sql) => {
    const result = await sql.run(`DELETE FROM ${sql.dialect.id(t.leases)} WHERE expires_at < ?`, [before]);
    return result.affected;
  });
}
