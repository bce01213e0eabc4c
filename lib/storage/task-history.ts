import { AuditEntry } from '../task/audit-entry';
import { TaskData } from '../task/task-record';
import { TaskMetrics } from '../task/task-metrics';
import { TaskPage, TaskQuery } from '../task/task-query';

/**
 * The backend as the engine uses it: it is told of every change and answers
 * reads over the whole history. DatabaseHistory writes changes behind in batches
 * and falls back to memory; MemoryHistory reads a backend that holds nothing else.
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
  /** Final writes at shutdown, for at most `deadlineMs`. */
  close(deadlineMs: number): Promise<void>;
}
