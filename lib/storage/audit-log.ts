import { randomUUID } from 'node:crypto';
import { AuditAction, AuditEntry } from '../task/audit-entry';

/** A new audit entry, stamped now. */
export function auditEntry(action: AuditAction, taskId: string | null, actor: string, detail: Record<string, unknown>): AuditEntry {
  return { entry_id: randomUUID(), action, task_id: taskId, actor, timestamp: new Date().toISOString(), detail };
}

/** Admin actions, newest first, bounded in memory. */
export class AuditLog {
  private entries: AuditEntry[] = [];

  constructor(private readonly max = 1000) {}

  append(entry: AuditEntry): void {
    this.entries.unshift(entry);
    if (this.entries.length > this.max) this.entries.length = this.max;
  }

  list(limit: number, offset: number): AuditEntry[] {
    return this.entries.slice(offset, offset + limit);
  }
}
