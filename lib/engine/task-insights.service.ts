import { Injectable } from '@nestjs/common';
import { TaskRegistry } from '../discovery/task.registry';
import { DatabaseHistory } from '../storage/database-history';
import { FailureRow, TypeOrmInsights } from '../persistence/typeorm/insights';
import { TypeOrmTaskBackend } from '../persistence/typeorm/typeorm.backend';
import { successRate, summarize } from '../storage/compute-metrics';
import {
  DEAD_LETTER_IDS_PER_GROUP,
  DEAD_LETTER_MAX_GROUPS,
  DEAD_LETTER_SCAN_LIMIT,
  DeadLetterGroup,
  DeadLetterReport,
  FunctionInsight,
  LastFailure,
  ThroughputBucket,
  ThroughputReport,
} from '../task/task-insights';
import { TaskQuery } from '../task/task-query';
import { TaskData, TaskRecord } from '../task/task-record';
import { RETRYABLE_STATUSES, TASK_STATUSES, TaskStatus, isTerminal } from '../task/task-status';
import { TaskManager } from './task-manager.service';
import { TaskRuntime } from './task-runtime';

const MINUTE_MS = 60_000;
const EXPORT_PAGE = 2000;
/** Functions whose last failure is looked up (one index seek each). */
const MAX_FUNCTIONS = 500;

/**
 * Read-only views for the dashboard: throughput per minute, per-function stats,
 * dead letters grouped by error signature, and export pages. With the TypeORM
 * backend they are bounded queries on its indexes and aggregate tables (what is
 * queued for writing is written first, as every read does); without a database
 * (or when it cannot be reached) they are computed over the records in memory.
 */
@Injectable()
export class TaskInsights {
  private insightsOf = new WeakMap<TypeOrmTaskBackend, TypeOrmInsights>();

  constructor(
    private readonly runtime: TaskRuntime,
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
    const add = (minute: number, status: string, count: number) => {
      const bucket = buckets[minute];
      if (bucket && (status === 'success' || status === 'failed' || status === 'interrupted' || status === 'cancelled')) {
        bucket[status] += count;
      }
    };
    const rows = await this.fromDatabase((db) => db.throughput(from));
    if (rows) {
      for (const row of rows) add(row.minute, row.status, row.count);
    } else {
      for (const task of this.runtime.store.values()) {
        if (!isTerminal(task.status)) continue;
        const at = task.endTime ?? task.createdAt;
        if (at >= from) add(Math.floor((at - from) / MINUTE_MS), task.status, 1);
      }
    }
    return { minutes, bucket_seconds: 60, from: new Date(from).toISOString(), to: new Date(now).toISOString(), buckets };
  }

  /** Every function with history or registered here, by name: counts, success rate, durations, last failure. */
  async functions(): Promise<FunctionInsight[]> {
    const registered = new Set(this.registry.all().map((r) => r.definition.name));
    const rows = (await this.fromDatabase((db) => this.databaseFunctions(db))) ?? (await this.otherFunctions());
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
    const statuses = RETRYABLE_STATUSES;
    const limit = DEAD_LETTER_SCAN_LIMIT;
    let rows = await this.fromDatabase((db) => db.failures(statuses, filter.since, filter.funcName, limit + 1));
    if (!rows) {
      rows = [];
      for (const status of statuses) {
        const query: TaskQuery = { status, funcName: filter.funcName, since: filter.since ?? undefined, limit: Math.min(limit + 1, 5000) };
        for (let offset = 0; offset <= limit; offset += 5000) {
          const page = await this.manager.listTasks({ ...query, offset });
          rows.push(...page.items.map(recordToFailure));
          if (page.items.length < 5000) break;
        }
      }
    }
    rows.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const truncated = rows.length > limit;
    const scanned = rows.slice(0, limit);
    return {
      since: filter.since === null ? null : new Date(filter.since).toISOString(),
      scanned: scanned.length,
      truncated,
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

  /** Runs `fn` on the TypeORM backend after writing what is queued; null without one or when it fails. */
  private async fromDatabase<T>(fn: (db: TypeOrmInsights) => Promise<T>): Promise<T | null> {
    const history = this.runtime.history;
    if (!(history instanceof DatabaseHistory) || !(history.backend instanceof TypeOrmTaskBackend)) return null;
    try {
      await history.writer.flush();
      let db = this.insightsOf.get(history.backend);
      if (!db) this.insightsOf.set(history.backend, (db = new TypeOrmInsights(history.backend)));
      return await fn(db);
    } catch {
      return null;
    }
  }

  private async databaseFunctions(db: TypeOrmInsights): Promise<FunctionInsight[]> {
    const aggregates = await db.functions();
    const names = aggregates
      .filter((a) => (a.counts.failed ?? 0) > 0)
      .map((a) => a.funcName)
      .slice(0, MAX_FUNCTIONS);
    const failures = await db.lastFailures(names);
    return aggregates
      .map((a) => {
        const counts = fullCounts(a.counts);
        const failure = failures.get(a.funcName);
        return {
          ...emptyFunction(a.funcName),
          ...counts,
          total: sumCounts(counts),
          success_rate: successRate(counts),
          avg_duration_seconds: a.avg,
          p50_duration_seconds: a.p50,
          p95_duration_seconds: a.p95,
          last_failure: failure ? lastFailure(failure) : null,
        };
      })
      .filter((row) => row.total > 0);
  }

  /** In memory (no database, another backend, or the database is unreachable). */
  private async otherFunctions(): Promise<FunctionInsight[]> {
    const history = this.runtime.history;
    if (history && !(history instanceof DatabaseHistory && history.backend instanceof TypeOrmTaskBackend)) {
      return this.functionsFromMetrics();
    }
    return functionsOf(this.runtime.store.values());
  }

  /** Another kind of backend: what its metrics tell, and one listing per function for its last failure. */
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

function emptyFunction(name: string): FunctionInsight {
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

function fullCounts(partial: Partial<Record<TaskStatus, number>>): Record<TaskStatus, number> {
  const counts = {} as Record<TaskStatus, number>;
  for (const status of TASK_STATUSES) counts[status] = partial[status] ?? 0;
  return counts;
}

function sumCounts(counts: Record<TaskStatus, number>): number {
  return TASK_STATUSES.reduce((n, s) => n + counts[s], 0);
}

function lastFailure(row: FailureRow): LastFailure {
  return { task_id: row.id, at: new Date(row.endTime ?? row.createdAt).toISOString(), error: row.error };
}

function recordToFailure(record: TaskRecord): FailureRow {
  return {
    id: record.task_id,
    funcName: record.func_name,
    status: record.status,
    error: record.error,
    createdAt: Date.parse(record.created_at),
    endTime: record.end_time === null ? null : Date.parse(record.end_time),
  };
}

/** Per-function stats over records in memory. */
export function functionsOf(tasks: Iterable<TaskData>): FunctionInsight[] {
  const byName = new Map<string, { counts: Record<TaskStatus, number>; durations: number[]; last: TaskData | null }>();
  for (const task of tasks) {
    let e = byName.get(task.funcName);
    if (!e) byName.set(task.funcName, (e = { counts: fullCounts({}), durations: [], last: null }));
    e.counts[task.status]++;
    if (task.startTime !== null && task.endTime !== null) e.durations.push(Math.max(0, task.endTime - task.startTime) / 1000);
    if (task.status === 'failed' && (!e.last || task.createdAt >= e.last.createdAt)) e.last = task;
  }
  return [...byName.entries()].map(([name, e]) => {
    e.durations.sort((a, b) => a - b);
    return {
      func_name: name,
      registered: false,
      ...summarize(e.counts, e.durations),
      last_failure: e.last
        ? { task_id: e.last.id, at: new Date(e.last.endTime ?? e.last.createdAt).toISOString(), error: e.last.error }
        : null,
    };
  });
}

/**
 * The signature of an error: its first line with what varies between occurrences
 * masked (UUIDs, e-mail and IP addresses, long hex strings, standalone numbers), so
 * "bad input #41" and "bad input #42" are one group. A number right after "HTTP",
 * "status" or "code" is kept: "HTTP 502" and "HTTP 503" stay apart.
 */
export function errorSignature(error: string | null, status: TaskStatus): string {
  const firstLine = (error ?? '').split(/\r?\n/, 1)[0].trim();
  if (firstLine === '') return status === 'interrupted' ? 'Interrupted (no error recorded)' : '(no error message)';
  return firstLine
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g, '<email>')
    .replace(/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, '<ip>')
    .replace(/\b(?:0x)?[0-9a-f]{12,}\b/gi, '<hex>')
    .replace(/(?<!(?:\bhttp|\bstatus|\bcode)[ /:=]?)\b\d+\b/gi, '<n>')
    .slice(0, 300);
}

/** Rows newest first → groups, largest first (then most recent). */
export function groupFailures(rows: readonly FailureRow[]): DeadLetterGroup[] {
  const groups = new Map<string, DeadLetterGroup & { fnCounts: Map<string, number> }>();
  for (const row of rows) {
    const signature = errorSignature(row.error, row.status);
    let g = groups.get(signature);
    if (!g) {
      const seen = new Date(row.createdAt).toISOString();
      g = {
        signature,
        error: row.error ?? signature,
        count: 0,
        statuses: {},
        functions: [],
        first_seen: seen,
        last_seen: seen,
        sample_task_id: row.id,
        task_ids: [],
        fnCounts: new Map(),
      };
      groups.set(signature, g);
    }
    g.count++;
    g.statuses[row.status] = (g.statuses[row.status] ?? 0) + 1;
    g.fnCounts.set(row.funcName, (g.fnCounts.get(row.funcName) ?? 0) + 1);
    g.first_seen = new Date(row.createdAt).toISOString();
    if (g.task_ids.length < DEAD_LETTER_IDS_PER_GROUP) g.task_ids.push(row.id);
  }
  return [...groups.values()]
    .sort((a, b) => b.count - a.count || (a.last_seen < b.last_seen ? 1 : a.last_seen > b.last_seen ? -1 : 0))
    .slice(0, DEAD_LETTER_MAX_GROUPS)
    .map(({ fnCounts, ...group }) => ({
      ...group,
      functions: [...fnCounts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([name]) => name),
    }));
}
