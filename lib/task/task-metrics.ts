/** `GET {path}/metrics`. */
export interface FunctionMetrics {
  total: number;
  success: number;
  failed: number;
  success_rate: number | null;
  avg_duration_seconds: number | null;
  p95_duration_seconds: number | null;
}

/** Tasks per status and their duration summary: the whole set, or one function's. */
export interface StatusSummary {
  total: number;
  pending: number;
  running: number;
  success: number;
  failed: number;
  interrupted: number;
  cancelled: number;
  /** success / (success + failed + interrupted + cancelled), or null. */
  success_rate: number | null;
  avg_duration_seconds: number | null;
  p50_duration_seconds: number | null;
  p95_duration_seconds: number | null;
}

export interface TaskMetrics extends StatusSummary {
  by_function: Record<string, FunctionMetrics>;
}
