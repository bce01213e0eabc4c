import { AuditEntry } from '../task/audit-entry';
import { TaskData } from '../task/task-record';
import { TaskMetrics } from '../task/task-metrics';
import { TaskPage, TaskQuery } from '../task/task-query';
import { TaskBackend } from './task-backend';
import { TaskHistory } from './task-history';

const RETENTION_BATCH = 2000;

/**
 * A backend that is not persistent, as the engine uses it: its records are the
 * engine's own, so changes need no writing and reads ask it directly.
 */
export class MemoryHistory implements TaskHistory {
  constructor(private readonly backend: TaskBackend) {}

  changed(): void {}

  get(id: string): Promise<TaskData | null> {
    return this.backend.getTask(id);
  }

  list(query: TaskQuery): Promise<TaskPage<TaskData>> {
    return this.backend.listTasks(query);
  }

  metrics(): Promise<TaskMetrics> {
    return this.backend.metrics();
  }

  async deleteBefore(cutoff: number): Promise<string[]> {
    const removed: string[] = [];
    for (;;) {
      const ids = await this.backend.deleteTerminalBefore(cutoff, RETENTION_BATCH);
      removed.push(...ids);
      if (ids.length < RETENTION_BATCH) return removed;
    }
  }

  recordAudit(entry: AuditEntry): void {
    void this.backend.appendAudit(entry);
  }

  audit(limit: number, offset: number): Promise<AuditEntry[]> {
    return this.backend.listAudit(limit, offset);
  }

  reserveKey(key: string, taskId: string): Promise<string> {
    return this.backend.reserveIdempotencyKey(key, taskId);
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}
