import { TaskStatus } from './task-status';

/**
 * Orders of `GET {path}?sort=` and `TaskQuery.sort`: a column, descending when
 * prefixed with `-`. Equal keys are always ordered newest first (created_at, then
 * id, descending); tasks without a duration come last in both duration orders.
 */
export const TASK_SORTS = ['-created_at', 'created_at', '-duration', 'duration', 'func_name', '-func_name', 'status', '-status'] as const;

export type TaskSort = (typeof TASK_SORTS)[number];

export const DEFAULT_TASK_SORT: TaskSort = '-created_at';

export function isTaskSort(value: unknown): value is TaskSort {
  return typeof value === 'string' && (TASK_SORTS as readonly string[]).includes(value);
}

/** Filters and paging of `GET {path}` and `TaskManager.listTasks`. */
export interface TaskQuery {
  status?: TaskStatus;
  /** Exact registered name. */
  funcName?: string;
  /** Case-insensitive substring of id, name or error. */
  q?: string;
  /**
   * Case-insensitive substring of id, name, error or the tags' JSON text, and of the
   * arguments' JSON text when `searchArgs` is set (never of encrypted arguments).
   */
  search?: string;
  /** Let `search` look into the arguments (the admin routes set it from `displayFuncArgs`). */
  searchArgs?: boolean;
  /** Every pair must match the task's tags exactly. */
  tags?: Record<string, string>;
  /** Exact id of the instance that owns or last ran the task (the record's `instance`). */
  instance?: string;
  /** Only tasks created at or after this epoch-ms instant. */
  since?: number;
  /** Order of the results; default newest first (`-created_at`). */
  sort?: TaskSort;
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
