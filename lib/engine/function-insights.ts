import { successRate } from '../storage/compute-metrics';
import { FailureRow, FunctionAggregate } from '../storage/insight-queries';
import { FunctionInsight, LastFailure } from '../task/task-insights';
import { TaskRecord } from '../task/task-record';
import { TASK_STATUSES, TaskStatus } from '../task/task-status';

/** A function with no history yet. */
export function emptyFunction(name: string): FunctionInsight {
  return {
    func_name: name,
    registered: false,
    total: 0,
    pending: 0,
    running: 0,
    success: 0,
    failed: 0,
    interrupted: 0,
    cancelled: 0,
    success_rate: null,
    avg_duration_seconds: null,
    p50_duration_seconds: null,
    p95_duration_seconds: null,
    last_failure: null,
  };
}

/** A backend's aggregate of one function, with its last failure, as the dashboard shows it. */
export function fromAggregate(a: FunctionAggregate, failure: FailureRow | undefined): FunctionInsight {
  const counts = fullCounts(a.counts);
  return {
    ...emptyFunction(a.funcName),
    ...counts,
    total: TASK_STATUSES.reduce((n, s) => n + counts[s], 0),
    success_rate: successRate(counts),
    avg_duration_seconds: a.avg,
    p50_duration_seconds: a.p50,
    p95_duration_seconds: a.p95,
    last_failure: failure ? lastFailure(failure) : null,
  };
}

export function lastFailure(row: FailureRow): LastFailure {
  return { task_id: row.id, at: new Date(row.endTime ?? row.createdAt).toISOString(), error: row.error };
}

export function recordToFailure(record: TaskRecord): FailureRow {
  return {
    id: record.task_id,
    funcName: record.func_name,
    status: record.status,
    error: record.error,
    createdAt: Date.parse(record.created_at),
    endTime: record.end_time === null ? null : Date.parse(record.end_time),
  };
}

function fullCounts(partial: Partial<Record<TaskStatus, number>>): Record<TaskStatus, number> {
  const counts = {} as Record<TaskStatus, number>;
  for (const status of TASK_STATUSES) counts[status] = partial[status] ?? 0;
  return counts;
}
