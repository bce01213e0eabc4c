import { createHash } from 'node:crypto';
import { KEY_RELEASING_STATUSES, TaskStatus } from '../../task/task-status';
import { Connection, Sql } from './connection';
import { TableNames } from './schema';
import { typeormMessages } from './typeorm.messages';

const ATTEMPTS = 10;

/**
 * Binds `key` to `taskId` unless a live task holds it; returns the holder afterwards.
 *
 * Keys are stored under their sha256 (so any length and any characters compare exactly
 * on every database) with the key text beside it. Steps, each atomic on its own:
 * 1. insert the key row if absent (the primary key settles races: one insert wins);
 * 2. else read the holder; it keeps the key unless its task row says failed,
 *    interrupted or cancelled. A holder whose task row is MISSING counts as live: the
 *    engine reserves the key before it writes the task (which may wait for the next
 *    flush), so a missing row usually means "not written yet". Rows deleted by
 *    retention take their key rows with them (deleteTerminalBefore).
 * 3. a released key is taken over with a compare-and-set on the old holder id; if that
 *    loses to a concurrent caller, start again (the winner is then a live holder).
 * On SQLite the whole sequence runs in one write transaction.
 */
export async function reserveIdempotencyKey(connection: Connection, t: TableNames, key: string, taskId: string): Promise<string> {
  return connection.session((sql) => reserveWith(sql, t, key, taskId));
}

/** The steps above on a session or transaction the caller holds (a new task's own transaction, say). */
export async function reserveWith(sql: Sql, t: TableNames, key: string, taskId: string): Promise<string> {
  const keyText = String(key);
  const keyHash = createHash('sha256').update(keyText, 'utf8').digest('hex');
  const id = String(taskId);
  const table = sql.dialect.id(t.idempotency);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (await insertIfAbsent(sql, t, keyHash, keyText, id)) return id;
    const found = await sql.run(`SELECT task_id FROM ${table} WHERE key_hash = ?`, [keyHash]);
    if (!found.rows.length) continue; // deleted meanwhile: try inserting again
    const holder = String(found.rows[0].task_id);
    if (holder === id) return id;
    const status = await taskStatus(sql, t, holder);
    if (status === null || !KEY_RELEASING_STATUSES.includes(status)) return holder;
    const taken = await sql.run(`UPDATE ${table} SET task_id = ?, created_at = ? WHERE key_hash = ? AND task_id = ?`, [
      id,
      Date.now(),
      keyHash,
      holder,
    ]);
    if (taken.affected > 0) return id;
  }
  throw new Error(typeormMessages.idempotencyContention(keyText));
}

async function insertIfAbsent(sql: Sql, t: TableNames, keyHash: string, key: string, taskId: string): Promise<boolean> {
  const columns = ['key_hash', 'idem_key', 'task_id', 'created_at'];
  const params = [keyHash, sql.dialect.text(key), taskId, Date.now()];
  if (sql.dialect.family === 'mysql') {
    // Plain INSERT: ON DUPLICATE KEY UPDATE reports 1 row for "found" under FOUND_ROWS.
    try {
      await sql.run(`INSERT INTO ${sql.dialect.id(t.idempotency)} (${columns.join(', ')}) VALUES (?, ?, ?, ?)`, params);
      return true;
    } catch (error) {
      if (sql.dialect.isDuplicateKey(error)) return false;
      throw error;
    }
  }
  const result = await sql.run(sql.dialect.insertIgnoring(t.idempotency, columns, ['key_hash'], 1), params);
  return result.affected > 0;
}

async function taskStatus(sql: Sql, t: TableNames, id: string): Promise<TaskStatus | null> {
  const result = await sql.run(`SELECT status FROM ${sql.dialect.id(t.tasks)} WHERE id = ?`, [sql.dialect.text(id)]);
  return result.rows.length ? (String(result.rows[0].status) as TaskStatus) : null;
}
