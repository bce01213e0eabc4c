import { FunctionMetrics, TaskMetrics } from '../../task/task-metrics';
import { Sql } from './connection';
import type { Statement } from './pg-unnest';
import { TableNames } from './schema';
import { AggregateKey, num } from './task-rows';

/**
 * Metrics without scanning tasks. Two small tables, kept exact by applying deltas in
 * the same transaction as the task rows they describe (saveBatch: old row out, new row
 * in; deleteTerminalBefore: rows out):
 * - `<prefix>counts` (func_name, status) -> cnt
 * - `<prefix>durations` (func_name, bucket) -> cnt, sum_ms, a log-spaced histogram:
 *   bucket 0 holds durations under 1 ms, bucket b >= 1 those in [1.05^(b-1), 1.05^b) ms.
 * Their size depends on the number of functions (and of buckets in use, at most a few
 * hundred), never on the number of tasks. Percentiles are nearest-rank over the
 * histogram; the value reported for a bucket is the mean duration inside it, so within
 * 5 % of the exact percentile, and exact when the durations in that bucket are equal.
 */
export const GROWTH = 1.05;
const LOG_GROWTH = Math.log(GROWTH);

export function bucketOf(durationMs: number): number {
  if (durationMs < 1) return 0;
  return 1 + Math.floor(Math.log(durationMs) / LOG_GROWTH + 1e-9);
}

interface CountCell {
  funcName: string;
  status: string;
  count: number;
}

interface DurationCell {
  funcName: string;
  bucket: number;
  count: number;
  sumMs: number;
}

const CHUNK = 500;

/** Accumulates +1/-1 row changes, then writes them as multi-row upserts. */
export class AggregateDelta {
  private readonly counts = new Map<string, CountCell>();
  private readonly durations = new Map<string, DurationCell>();

  add(row: AggregateKey, sign: 1 | -1): void {
    // Grouping keys only (the cell keeps the values): registered names and statuses hold no NUL.
    const countKey = `${row.funcName}\u0000${row.status}`;
    const count = this.counts.get(countKey) ?? { funcName: row.funcName, status: row.status, count: 0 };
    count.count += sign;
    this.counts.set(countKey, count);
    if (row.durationMs === null) return;
    const bucket = bucketOf(row.durationMs);
    const durationKey = `${row.funcName}\u0000${bucket}`;
    const cell = this.durations.get(durationKey) ?? { funcName: row.funcName, bucket, count: 0, sumMs: 0 };
    cell.count += sign;
    cell.sumMs += sign * row.durationMs;
    this.durations.set(durationKey, cell);
  }

  /**
   * Writes the non-zero changes, in a fixed order so concurrent writers lock rows alike.
   * Pipelined (Sql.pipelined), every statement is sent before the first answer comes.
   */
  async apply(sql: Sql, t: TableNames): Promise<void> {
    const statements = this.statements(sql, t);
    if (sql.pipelined) {
      await Promise.all(statements.map((statement) => sql.run(statement.text, statement.params)));
      return;
    }
    for (const statement of statements) await sql.run(statement.text, statement.params);
  }

  /** The upserts apply() runs, in its order (PostgreSQL's saveBatch sends them inside its write statement). */
  statements(sql: Sql, t: TableNames): Statement[] {
    const d = sql.dialect;
    const out: Statement[] = [];
    const counts = [...this.counts.values()].filter((c) => c.count !== 0).sort((a, b) => cmp(a.funcName, b.funcName) || cmp(a.status, b.status));
    for (let i = 0; i < counts.length; i += CHUNK) {
      const chunk = counts.slice(i, i + CHUNK);
      out.push({
        text: d.upsert(t.counts, ['func_name', 'status', 'cnt'], ['func_name', 'status'], chunk.length, add, ['cnt']),
        params: chunk.flatMap((c) => [d.text(c.funcName), c.status, c.count]),
      });
    }
    const durations = [...this.durations.values()]
      .filter((c) => c.count !== 0 || c.sumMs !== 0)
      .sort((a, b) => cmp(a.funcName, b.funcName) || a.bucket - b.bucket);
    for (let i = 0; i < durations.length; i += CHUNK) {
      const chunk = durations.slice(i, i + CHUNK);
      out.push({
        text: d.upsert(t.durations, ['func_name', 'bucket', 'cnt', 'sum_ms'], ['func_name', 'bucket'], chunk.length, add, ['cnt', 'sum_ms']),
        params: chunk.flatMap((c) => [d.text(c.funcName), c.bucket, c.count, c.sumMs]),
      });
    }
    return out;
  }
}

const add = (col: string, ref: { old: (c: string) => string; new: (c: string) => string }) => `${ref.old(col)} + ${ref.new(col)}`;

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Number of rows with this status and/or function. */
export async function countFromAggregate(sql: Sql, t: TableNames, filter: { status?: string; funcName?: string }): Promise<number> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.status !== undefined) {
    where.push('status = ?');
    params.push(filter.status);
  }
  if (filter.funcName !== undefined) {
    where.push('func_name = ?');
    params.push(sql.dialect.text(filter.funcName));
  }
  const clause = where.length ? ` WHERE ${where.join(' AND ')}` : '';
  const result = await sql.run(`SELECT SUM(cnt) AS total FROM ${sql.dialect.id(t.counts)}${clause}`, params);
  return num(result.rows[0]?.total) ?? 0;
}

/** Buckets in ascending order. */
type Histogram = { count: number; sumMs: number }[];

/** Nearest-rank percentile in seconds, or null when the histogram is empty. */
export function percentile(histogram: Histogram, p: number): number | null {
  const total = histogram.reduce((n, b) => n + b.count, 0);
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const bucket of histogram) {
    seen += bucket.count;
    if (seen >= rank) return seconds(bucket.sumMs / bucket.count);
  }
  return null;
}

function average(histogram: Histogram): number | null {
  let count = 0;
  let sumMs = 0;
  for (const b of histogram) {
    count += b.count;
    sumMs += b.sumMs;
  }
  return count > 0 ? seconds(sumMs / count) : null;
}

/** ms to seconds, rounded to the microsecond. */
function seconds(ms: number): number {
  return Math.round(ms * 1000) / 1e6;
}

/** success / (success + failed + interrupted + cancelled), to 6 decimals (as the in-memory store). */
function successRate(counts: Record<string, number>): number | null {
  const finished = (counts.success ?? 0) + (counts.failed ?? 0) + (counts.interrupted ?? 0) + (counts.cancelled ?? 0);
  return finished > 0 ? Math.round(((counts.success ?? 0) / finished) * 1e6) / 1e6 : null;
}

interface FunctionDurations {
  avg: number | null;
  p95: number | null;
}

/**
 * avg and p95 per function. With window functions the database returns one row per
 * function (its totals and the bucket holding rank ceil(0.95 n), found with integer
 * arithmetic); without, the histogram rows are read and ranked here.
 */
async function durationsByFunction(sql: Sql, t: TableNames): Promise<Map<string, FunctionDurations>> {
  const table = sql.dialect.id(t.durations);
  const out = new Map<string, FunctionDurations>();
  if (sql.dialect.windowFunctions) {
    const result = await sql.run(
      `SELECT func_name, cnt, sum_ms, total, total_ms FROM (` +
        `SELECT func_name, cnt, sum_ms, ` +
        `SUM(cnt) OVER (PARTITION BY func_name ORDER BY bucket ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum, ` +
        `SUM(cnt) OVER (PARTITION BY func_name) AS total, ` +
        `SUM(sum_ms) OVER (PARTITION BY func_name) AS total_ms ` +
        `FROM ${table} WHERE cnt > 0) ranked ` +
        `WHERE 100 * cum >= 95 * total AND 100 * (cum - cnt) < 95 * total`,
    );
    for (const row of result.rows) {
      const total = num(row.total) ?? 0;
      const count = num(row.cnt) ?? 0;
      out.set(String(row.func_name), {
        avg: total > 0 ? seconds((num(row.total_ms) ?? 0) / total) : null,
        p95: count > 0 ? seconds((num(row.sum_ms) ?? 0) / count) : null,
      });
    }
    return out;
  }
  const result = await sql.run(`SELECT func_name, cnt, sum_ms FROM ${table} WHERE cnt > 0 ORDER BY func_name, bucket`);
  const histograms = new Map<string, Histogram>();
  for (const row of result.rows) {
    const name = String(row.func_name);
    let h = histograms.get(name);
    if (!h) histograms.set(name, (h = []));
    h.push({ count: num(row.cnt) ?? 0, sumMs: num(row.sum_ms) ?? 0 });
  }
  for (const [name, h] of histograms) out.set(name, { avg: average(h), p95: percentile(h, 0.95) });
  return out;
}

/** The metrics object of `GET {path}/metrics`, from the aggregate tables only. */
export async function readMetrics(sql: Sql, t: TableNames): Promise<TaskMetrics> {
  const countRows = await sql.run(`SELECT func_name, status, cnt FROM ${sql.dialect.id(t.counts)} WHERE cnt <> 0`);
  const histogramRows = await sql.run(
    `SELECT bucket, SUM(cnt) AS cnt, SUM(sum_ms) AS sum_ms FROM ${sql.dialect.id(t.durations)} ` + `WHERE cnt > 0 GROUP BY bucket ORDER BY bucket`,
  );
  const perFunctionDurations = await durationsByFunction(sql, t);

  const counts: Record<string, number> = {};
  const perFunction = new Map<string, Record<string, number>>();
  for (const row of countRows.rows) {
    const status = String(row.status);
    const count = num(row.cnt) ?? 0;
    counts[status] = (counts[status] ?? 0) + count;
    const name = String(row.func_name);
    const f = perFunction.get(name) ?? {};
    f[status] = (f[status] ?? 0) + count;
    perFunction.set(name, f);
  }
  const histogram: Histogram = histogramRows.rows.map((r) => ({ count: num(r.cnt) ?? 0, sumMs: num(r.sum_ms) ?? 0 }));

  const byFunction: Record<string, FunctionMetrics> = {};
  for (const name of [...perFunction.keys()].sort()) {
    const f = perFunction.get(name)!;
    const total = Object.values(f).reduce((a, b) => a + b, 0);
    if (total <= 0) continue;
    const durations = perFunctionDurations.get(name);
    byFunction[name] = {
      total,
      success: f.success ?? 0,
      failed: f.failed ?? 0,
      success_rate: successRate(f),
      avg_duration_seconds: durations?.avg ?? null,
      p95_duration_seconds: durations?.p95 ?? null,
    };
  }
  return {
    total: Object.values(counts).reduce((a, b) => a + b, 0),
    pending: counts.pending ?? 0,
    running: counts.running ?? 0,
    success: counts.success ?? 0,
    failed: counts.failed ?? 0,
    interrupted: counts.interrupted ?? 0,
    cancelled: counts.cancelled ?? 0,
    success_rate: successRate(counts),
    avg_duration_seconds: average(histogram),
    p50_duration_seconds: percentile(histogram, 0.5),
    p95_duration_seconds: percentile(histogram, 0.95),
    by_function: byFunction,
  };
}
