import { AuditAction, AuditEntry } from '../../task/audit-entry';
import { Connection } from './connection';
import { limitClause } from './query-builder';
import { TableNames } from './schema';
import { num, parseJson, safeJson } from './task-rows';

/** Stores one entry; writing the same entry_id twice keeps the first (safe to retry). */
export async function appendAudit(connection: Connection, t: TableNames, entry: AuditEntry): Promise<void> {
  const parsed = Date.parse(entry.timestamp);
  const ts = Number.isFinite(parsed) ? parsed : Date.now();
  await connection.session(async (sql) => {
    const d = sql.dialect;
    const columns = ['entry_id', 'action', 'task_id', 'actor', 'ts', 'detail'];
    await sql.run(d.insertIgnoring(t.audit, columns, ['entry_id'], 1), [
      d.text(String(entry.entry_id)),
      d.text(String(entry.action)),
      entry.task_id === null || entry.task_id === undefined ? null : d.text(String(entry.task_id)),
      d.text(String(entry.actor)),
      ts,
      d.text(safeJson(entry.detail ?? {}, '{}')),
    ]);
  });
}

/** Newest first (by timestamp, then by insertion order). */
export async function listAudit(connection: Connection, t: TableNames, limit: number, offset: number): Promise<AuditEntry[]> {
  const n = Math.floor(Number(limit));
  if (!Number.isFinite(n) || n <= 0) return [];
  const skip = Math.max(0, Math.floor(Number(offset)) || 0);
  return connection.read(async (sql) => {
    const result = await sql.run(
      `SELECT entry_id, action, task_id, actor, ts, detail FROM ${sql.dialect.id(t.audit)} ORDER BY ts DESC, seq DESC${limitClause(n, skip)}`,
    );
    return result.rows.map((row) => {
      const detail = parseJson(row.detail);
      return {
        entry_id: String(row.entry_id),
        action: String(row.action) as AuditAction,
        task_id: row.task_id === null || row.task_id === undefined ? null : String(row.task_id),
        actor: String(row.actor),
        timestamp: new Date(num(row.ts) ?? 0).toISOString(),
        detail: detail && typeof detail === 'object' && !Array.isArray(detail) ? (detail as Record<string, unknown>) : {},
      };
    });
  });
}
