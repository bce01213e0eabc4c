import { AuditEntry } from '../task/audit-entry';
import { TaskData } from '../task/task-record';
import { TaskMetrics } from '../task/task-metrics';
import { TaskPage, TaskQuery } from '../task/task-query';

/**
 * The database side as the manager sees it: it is told of every change (and
 * writes them behind, in batches) and answers reads over the whole history.
 */
export interface TaskHistory {
  changed(task: TaskData): void;
  get(id: string): Promise<TaskData | null>;
  list(query: TaskQuery): Promise<TaskPage<TaskData>>;
  metrics(): Promise<TaskMetrics>;
  /** Ids of the rows removed. */
  deleteBefore(cutoff: number): Promise<string[]>;
  recordAudit(entry: AuditEntry): void;
  audit(limit: number, offset: number): Promise<AuditEntry[]>;
  /** Binds an idempotency key across instances; resolves with the id that holds it. */
  reserveKey(key: string, taskId: string): Promise<string>;
  /** Writes every queued change now. */
  flush(): Promise<void>;
}
