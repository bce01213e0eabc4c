/** Answer of `POST {path}/bulk-retry` and `POST {path}/retry-failed`. */
export interface BulkRetryResult {
  dispatched: number;
  skipped: number;
  results: { original_task_id: string; new_task_id: string }[];
}

/** Answer of `DELETE {path}/history`. */
export interface DeleteHistoryResult {
  deleted: number;
  store: number;
  backend: number;
}
