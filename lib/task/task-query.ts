import { TaskStatus } from './task-status';

/** Filters and paging of `GET {path}` and `TaskManager.listTasks` (SPEC §4). */
export interface TaskQuery {
  status?: TaskStatus;
  /** Exact registered name. */
  funcName?: string;
  /** Case-insensitive substring of id, name or error. */
  q?: string;
  /** Every pair must match the task's tags exactly. */
  tags?: Record<string, string>;
  /** Only tasks created at or after this epoch-ms instant. */
  since?: number;
  /** 1..5000; default 200. */
  limit?: number;
  /** >= 0; default 0. */
  offset?: number;
}

export interface TaskPage<T> {
  items: T[];
  /** Matching records, ignoring limit and offset. */
  total: number;
}

export const DEFAULT_LIST_LIMIT = 200;
export const MAX_LIST_LIMIT = 5000;
