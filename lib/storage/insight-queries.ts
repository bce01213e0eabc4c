import { TaskStatus } from '../task/task-status';

/** Tasks that finished in one minute with one status. */
export interface StatusCountRow {
  /** Minutes since the `from` of the query. */
  minute: number;
  status: string;
  count: number;
}

/** Counts per status and duration figures (seconds) of one function over its whole history. */
export interface FunctionAggregate {
  funcName: string;
  counts: Partial<Record<TaskStatus, number>>;
  avg: number | null;
  p50: number | null;
  p95: number | null;
}

/** What the dashboard shows of a failed or interrupted task. */
export interface FailureRow {
  id: string;
  funcName: string;
  status: TaskStatus;
  error: string | null;
  createdAt: number;
  endTime: number | null;
}

/**
 * The dashboard's questions over the whole history, answered by a backend that can
 * do so in bounded time (indexes, aggregate tables). A backend without them declares
 * `insights: null`; the dashboard then derives what it can from listTasks and metrics.
 */
export interface TaskInsightQueries {
  /** Tasks that finished at or after `from` (epoch ms, a whole minute), counted per minute and status. */
  throughput(from: number): Promise<StatusCountRow[]>;
  /** Every function with history. */
  functions(): Promise<FunctionAggregate[]>;
  /** The newest failed task of each function named. */
  lastFailures(funcNames: readonly string[]): Promise<Map<string, FailureRow>>;
  /**
   * The newest `limit` tasks of each status created at or after `since` (null: all),
   * optionally of one function.
   */
  failures(statuses: readonly TaskStatus[], since: number | null, funcName: string | undefined, limit: number): Promise<FailureRow[]>;
}
