/** Answer of `POST {path}/bulk-retry` and `POST {path}/retry-failed`. */
export interface BulkRetryResult {
  dispatched: number;
  skipped: number;
  results: { original_task_id: string; new_task_id: string }[];
}

/**
 * Most tasks one `retry-failed` call replays: a bigger backlog is replayed over
 * several calls, so one request neither holds the event loop nor floods the queue.
 */
export const RETRY_FAILED_MAX_PER_CALL = 1000;

/**
 * Answer of retry-failed: the bulk-retry keys, then, only when the call stopped at
 * RETRY_FAILED_MAX_PER_CALL, how many candidates are left for the next calls.
 */
export interface RetryFailedResult extends BulkRetryResult {
  remaining?: number;
}

/** Answer of `DELETE {path}/history`. */
export interface DeleteHistoryResult {
  deleted: number;
  store: number;
  backend: number;
}
