import { randomUUID } from 'node:crypto';
import { AuditAction, AuditEntry } from '../task/audit-entry';

/** Admin actions, newest first, bounded in memory. */
export class AuditLog {
  private entries: AuditEntry[] = [];

  constructor(private readonly max = 1000) {}

  record(action: AuditAction, taskId: string | null, actor: string, detail: Record<string, unknown>): AuditEntry {
    const entry: AuditEntry = {
      entry_id: randomUUID(),
      action,
      task_id: taskId,
      actor,
      timestamp: new Date().toISOString(),
      detail,
    };
    this.entries.unshift(entry);
    if (this.entries.length > this.max) this.entries.length = this.max;
    return entry;
  }

  list(limit: number, offset: number): AuditEntry[] {
    return this.entries.slice(offset, offset + limit);
  }
}
