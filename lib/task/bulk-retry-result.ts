/** Answer of bulk-retry and retry-failed (SPEC §4). */
export interface BulkRetryResult {
  dispatched: number;
  skipped: number;
  results: { original_task_id: string; new_task_id: string }[];
}

/** Answer of DELETE {path}/history (SPEC §4). */
export interface DeleteHistoryResult {
  deleted: number;
  store: number;
  backend: number;
}
