import { TaskData } from '../task/task-record';
import { TASK_STATUSES, TaskStatus, isTerminal } from '../task/task-status';
import { summarize } from './compute-metrics';
import { FailureRow, FunctionAggregate, StatusCountRow, TaskInsightQueries } from './insight-queries';
import { MemoryTaskStore } from './memory-task.store';

const MINUTE_MS = 60_000;

/** The dashboard's queries over the records in memory (no database, or it cannot be reached). */
export class MemoryInsights implements TaskInsightQueries {
  constructor(private readonly store: MemoryTaskStore) {}

  async throughput(from: number): Promise<StatusCountRow[]> {
    const counts = new Map<string, StatusCountRow>();
    for (const task of this.store.values()) {
      if (!isTerminal(task.status)) continue;
      const at = task.endTime ?? task.createdAt;
      if (at < from) continue;
      const minute = Math.floor((at - from) / MINUTE_MS);
      const key = `${minute} ${task.status}`;
      const row = counts.get(key);
      if (row) row.count++;
      else counts.set(key, { minute, status: task.status, count: 1 });
    }
    return [...counts.values()];
  }

  async functions(): Promise<FunctionAggregate[]> {
    const byName = new Map<string, { counts: Record<TaskStatus, number>; durations: number[] }>();
    for (const task of this.store.values()) {
      let e = byName.get(task.funcName);
      if (!e) byName.set(task.funcName, (e = { counts: zeroCounts(), durations: [] }));
      e.counts[task.status]++;
      if (task.startTime !== null && task.endTime !== null) e.durations.push(Math.max(0, task.endTime - task.startTime) / 1000);
    }
    return [...byName.entries()].map(([funcName, e]) => {
      const summary = summarize(
        e.counts,
        e.durations.sort((a, b) => a - b),
      );
      return { funcName, counts: e.counts, avg: summary.avg_duration_seconds, p50: summary.p50_duration_seconds, p95: summary.p95_duration_seconds };
    });
  }

  async lastFailures(funcNames: readonly string[]): Promise<Map<string, FailureRow>> {
    const wanted = new Set(funcNames);
    const newest = new Map<string, TaskData>();
    for (const task of this.store.values()) {
      if (task.status !== 'failed' || !wanted.has(task.funcName)) continue;
      const last = newest.get(task.funcName);
      if (!last || task.createdAt >= last.createdAt) newest.set(task.funcName, task);
    }
    return new Map([...newest.entries()].map(([name, task]) => [name, failureOf(task)]));
  }

  async failures(statuses: readonly TaskStatus[], since: number | null, funcName: string | undefined, limit: number): Promise<FailureRow[]> {
    const rows: FailureRow[] = [];
    for (const status of statuses) {
      const matching: TaskData[] = [];
      for (const task of this.store.values()) {
        if (task.status !== status || (funcName !== undefined && task.funcName !== funcName)) continue;
        if (since !== null && task.createdAt < since) continue;
        matching.push(task);
      }
      matching.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
      rows.push(...matching.slice(0, Math.max(1, Math.floor(limit))).map(failureOf));
    }
    return rows;
  }
}

function zeroCounts(): Record<TaskStatus, number> {
  const counts = {} as Record<TaskStatus, number>;
  for (const status of TASK_STATUSES) counts[status] = 0;
  return counts;
}

function failureOf(task: TaskData): FailureRow {
  return { id: task.id, funcName: task.funcName, status: task.status, error: task.error, createdAt: task.createdAt, endTime: task.endTime };
}
