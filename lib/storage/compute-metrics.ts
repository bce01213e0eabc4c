import { TaskData } from '../task/task-record';
import { FunctionMetrics, StatusSummary, TaskMetrics } from '../task/task-metrics';
import { TaskStatus } from '../task/task-status';

/** The metrics of `GET {path}/metrics` over records held in memory. */
export function computeMetrics(tasks: Iterable<TaskData>): TaskMetrics {
  const counts: Record<TaskStatus, number> = { pending: 0, running: 0, success: 0, failed: 0, interrupted: 0, cancelled: 0 };
  const durations: number[] = [];
  const perFunction = new Map<string, { counts: Record<TaskStatus, number>; durations: number[] }>();
  for (const task of tasks) {
    counts[task.status]++;
    let fn = perFunction.get(task.funcName);
    if (!fn) {
      fn = { counts: { pending: 0, running: 0, success: 0, failed: 0, interrupted: 0, cancelled: 0 }, durations: [] };
      perFunction.set(task.funcName, fn);
    }
    fn.counts[task.status]++;
    if (task.startTime !== null && task.endTime !== null) {
      const seconds = (task.endTime - task.startTime) / 1000;
      durations.push(seconds);
      fn.durations.push(seconds);
    }
  }
  durations.sort((a, b) => a - b);
  const byFunction: Record<string, FunctionMetrics> = {};
  for (const name of [...perFunction.keys()].sort()) {
    const fn = perFunction.get(name)!;
    fn.durations.sort((a, b) => a - b);
    byFunction[name] = {
      total: sum(fn.counts),
      success: fn.counts.success,
      failed: fn.counts.failed,
      success_rate: successRate(fn.counts),
      avg_duration_seconds: average(fn.durations),
      p95_duration_seconds: percentile(fn.durations, 0.95),
    };
  }
  return { ...summarize(counts, durations), by_function: byFunction };
}

/** Counts per status and durations (seconds, ascending) as the metrics and insights report them. */
export function summarize(counts: Record<TaskStatus, number>, sortedSeconds: number[]): StatusSummary {
  return {
    total: sum(counts),
    pending: counts.pending,
    running: counts.running,
    success: counts.success,
    failed: counts.failed,
    interrupted: counts.interrupted,
    cancelled: counts.cancelled,
    success_rate: successRate(counts),
    avg_duration_seconds: average(sortedSeconds),
    p50_duration_seconds: percentile(sortedSeconds, 0.5),
    p95_duration_seconds: percentile(sortedSeconds, 0.95),
  };
}

/** success / (success + failed + interrupted + cancelled), or null when nothing finished. */
export function successRate(c: Record<TaskStatus, number>): number | null {
  const finished = c.success + c.failed + c.interrupted + c.cancelled;
  return finished === 0 ? null : round(c.success / finished);
}

function sum(c: Record<TaskStatus, number>): number {
  return c.pending + c.running + c.success + c.failed + c.interrupted + c.cancelled;
}

function average(sorted: number[]): number | null {
  if (sorted.length === 0) return null;
  let total = 0;
  for (const d of sorted) total += d;
  return round(total / sorted.length);
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return round(sorted[rank - 1]);
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
