import { Injectable } from '@nestjs/common';
import { TaskRegistry } from '../discovery/task.registry';
import { FailureRow, TaskInsightQueries } from '../storage/insight-queries';
import { DEAD_LETTER_SCAN_LIMIT, DeadLetterReport, FunctionInsight, ThroughputBucket, ThroughputReport } from '../task/task-insights';
import { TaskQuery } from '../task/task-query';
import { TaskRecord } from '../task/task-record';
import { RETRYABLE_STATUSES } from '../task/task-status';
import { groupFailures } from './failure-groups';
import { emptyFunction, fromAggregate, lastFailure, recordToFailure } from './function-insights';
import { TaskManager } from './task-manager.service';
import { TaskStorage } from './task-storage';

export { errorSignature, groupFailures } from './failure-groups';

const MINUTE_MS = 60_000;
const EXPORT_PAGE = 2000;
const LIST_PAGE = 5000;
/** Functions whose last failure is looked up (one index seek each). */
const MAX_FUNCTIONS = 500;

/**
 * Read-only views for the dashboard: throughput per minute, per-function stats,
 * dead letters grouped by error signature, and export pages. They are the
 * backend's insight queries (bounded queries on the TypeORM backend's indexes and
 * aggregate tables; the records in memory for the memory backend, or when the
 * database cannot be reached). A backend that declares no insight queries is read
 * through its listings and metrics instead.
 */
@Injectable()
export class TaskInsights {
  constructor(
    private readonly storage: TaskStorage,
    private readonly manager: TaskManager,
    private readonly registry: TaskRegistry,
  ) {}

  /** Tasks finished per minute over the last `minutes` minutes (the last one is the current minute). */
  async throughput(minutes: number, now = Date.now()): Promise<ThroughputReport> {
    const from = Math.floor(now / MINUTE_MS) * MINUTE_MS - (minutes - 1) * MINUTE_MS;
    const buckets: ThroughputBucket[] = Array.from({ length: minutes }, (_, i) => ({
      start: new Date(from + i * MINUTE_MS).toISOString(),
      success: 0,
      failed: 0,
      interrupted: 0,
      cancelled: 0,
    }));
    for (const row of await this.storage.insight((q) => q.throughput(from))) {
      const bucket = buckets[row.minute];
      const status = row.status;
      if (bucket && (status === 'success' || status === 'failed' || status === 'interrupted' || status === 'cancelled')) {
        bucket[status] += row.count;
      }
    }
    return { minutes, bucket_seconds: 60, from: new Date(from).toISOString(), to: new Date(now).toISOString(), buckets };
  }

  /** Every function with history or registered here, by name: counts, success rate, durations, last failure. */
  async functions(): Promise<FunctionInsight[]> {
    const registered = new Set(this.registry.all().map((r) => r.definition.name));
    const rows = this.storage.lacksInsights ? await this.functionsFromMetrics() : await this.storage.insight((q) => aggregated(q));
    const byName = new Map(rows.map((row) => [row.func_name, row]));
    for (const name of registered) if (!byName.has(name)) byName.set(name, emptyFunction(name));
    return [...byName.values()]
      .map((row) => ({ ...row, registered: registered.has(row.func_name) }))
      .sort((a, b) => (a.func_name < b.func_name ? -1 : a.func_name > b.func_name ? 1 : 0));
  }

  /**
   * Failed and interrupted tasks created since `since` (null: all), newest first,
   * grouped by error signature: the same set `POST {path}/retry-failed` replays.
   */
  async deadLetters(filter: { since: number | null; funcName?: string }): Promise<DeadLetterReport> {
    const limit = DEAD_LETTER_SCAN_LIMIT;
    const rows = this.storage.lacksInsights
      ? await this.listFailures(filter, limit + 1)
      : await this.storage.insight((q) => q.failures(RETRYABLE_STATUSES, filter.since, filter.funcName, limit + 1));
    rows.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const scanned = rows.slice(0, limit);
    return {
      since: filter.since === null ? null : new Date(filter.since).toISOString(),
      scanned: scanned.length,
      truncated: rows.length > limit,
      groups: groupFailures(scanned),
    };
  }

  /**
   * The records matching `query` in its order, at most `cap`, fetched a page at a
   * time (each id once, even when new tasks shift the pages meanwhile).
   */
  async *exportRecords(query: TaskQuery, cap: number): AsyncGenerator<TaskRecord> {
    const seen = new Set<string>();
    for (let offset = 0; seen.size < cap; offset += EXPORT_PAGE) {
      const page = await this.manager.listTasks({ ...query, limit: EXPORT_PAGE, offset });
      for (const record of page.items) {
        if (seen.has(record.task_id)) continue;
        seen.add(record.task_id);
        yield record;
        if (seen.size >= cap) return;
      }
      if (page.items.length < EXPORT_PAGE) return;
    }
  }

  /** Without insight queries: the newest `limit` of each retryable status, from the listing. */
  private async listFailures(filter: { since: number | null; funcName?: string }, limit: number): Promise<FailureRow[]> {
    const rows: FailureRow[] = [];
    for (const status of RETRYABLE_STATUSES) {
      const query: TaskQuery = { status, funcName: filter.funcName, since: filter.since ?? undefined, limit: Math.min(limit, LIST_PAGE) };
      for (let offset = 0; offset < limit; offset += LIST_PAGE) {
        const page = await this.manager.listTasks({ ...query, offset });
        rows.push(...page.items.map(recordToFailure));
        if (page.items.length < LIST_PAGE) break;
      }
    }
    return rows;
  }

  /** Without insight queries: what the metrics tell, and one listing per function for its last failure. */
  private async functionsFromMetrics(): Promise<FunctionInsight[]> {
    const metrics = await this.manager.metrics();
    const rows: FunctionInsight[] = [];
    for (const [name, m] of Object.entries(metrics.by_function)) {
      const last = m.failed > 0 ? (await this.manager.listTasks({ funcName: name, status: 'failed', limit: 1 })).items[0] : undefined;
      rows.push({
        ...emptyFunction(name),
        total: m.total,
        success: m.success,
        failed: m.failed,
        success_rate: m.success_rate,
        avg_duration_seconds: m.avg_duration_seconds,
        p95_duration_seconds: m.p95_duration_seconds,
        last_failure: last ? lastFailure(recordToFailure(last)) : null,
      });
    }
    return rows;
  }
}

/** Per-function rows from a backend's aggregates, with the last failure of those that failed. */
async function aggregated(queries: TaskInsightQueries): Promise<FunctionInsight[]> {
  const aggregates = await queries.functions();
  const names = aggregates
    .filter((a) => (a.counts.failed ?? 0) > 0)
    .map((a) => a.funcName)
    .slice(0, MAX_FUNCTIONS);
  const failures = await queries.lastFailures(names);
  return aggregates.map((a) => fromAggregate(a, failures.get(a.funcName))).filter((row) => row.total > 0);
}
