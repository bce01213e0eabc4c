import { FailureRow, FunctionAggregate, StatusCountRow, TaskInsightQueries } from '../../storage/insight-queries';
import { TaskStatus } from '../../task/task-status';
import { Connection, Sql } from './connection';
import { Dialect } from './dialect';
import { percentile } from './metrics';
import { TableNames } from './schema';
import { num } from './task-rows';
import type { DataSource } from 'typeorm';

export type { FailureRow, FunctionAggregate, StatusCountRow } from '../../storage/insight-queries';

const MINUTE_MS = 60_000;

/** What the queries need of the backend: its DataSource, kind and tables. */
export interface InsightSource {
  readonly kind: string;
  readonly source: DataSource;
  readonly tableNames: Readonly<TableNames>;
  /** The wait for a connection and for each statement (ms; null: none), as the backend's own queries. */
  readonly queryTimeoutMs?: number | null;
}

/**
 * The dashboard's insight queries on the TypeORM backend. Each is bounded whatever
 * the history size:
 * - throughput: a range on the `prune_at` index (end time of terminal rows), grouped
 *   by minute and status in the database;
 * - per-function stats: the `counts` and `durations` aggregate tables (rows per
 *   function and bucket, not per task) plus one index seek per function on
 *   (func_name, status, created_at, id) for its last failure;
 * - dead letters: the newest failed / interrupted rows, each status read in index
 *   order on (status, created_at, id) with a LIMIT.
 */
export class TypeOrmInsights implements TaskInsightQueries {
  private readonly connection: Connection;
  private readonly tables: TableNames;

  constructor(backend: InsightSource) {
    const family = backend.kind === 'mariadb' || backend.kind === 'mysql' ? 'mysql' : backend.kind === 'postgres' ? 'postgres' : 'sqlite';
    // Same DataSource as the backend: on SQLite the per-DataSource mutex serialises us with it.
    this.connection = new Connection(backend.source, new Dialect(family), backend.queryTimeoutMs ?? null);
    this.tables = backend.tableNames;
  }

  /** Tasks that finished at or after `from` (epoch ms, a whole minute), counted per minute and status. */
  throughput(from: number): Promise<StatusCountRow[]> {
    const start = Math.floor(from);
    return this.connection.read(async (sql) => {
      const minute = sql.dialect.family === 'mysql' ? `(prune_at - ${start}) DIV ${MINUTE_MS}` : `(prune_at - ${start}) / ${MINUTE_MS}`;
      const result = await sql.run(
        `SELECT ${minute} AS minute, status, COUNT(*) AS cnt FROM ${sql.dialect.id(this.tables.tasks)} ` + `WHERE prune_at >= ? GROUP BY 1, 2`,
        [start],
      );
      return result.rows.map((row) => ({ minute: num(row.minute) ?? 0, status: String(row.status), count: num(row.cnt) ?? 0 }));
    });
  }

  /** Counts per status and duration percentiles of every function, from the aggregate tables. */
  functions(): Promise<FunctionAggregate[]> {
    return this.connection.read(async (sql) => {
      const counts = await sql.run(`SELECT func_name, status, cnt FROM ${sql.dialect.id(this.tables.counts)} WHERE cnt <> 0`);
      const buckets = await sql.run(
        `SELECT func_name, bucket, cnt, sum_ms FROM ${sql.dialect.id(this.tables.durations)} WHERE cnt > 0 ORDER BY func_name, bucket`,
      );
      const byName = new Map<string, { counts: Partial<Record<TaskStatus, number>>; histogram: { count: number; sumMs: number }[] }>();
      const entry = (name: string) => {
        let e = byName.get(name);
        if (!e) byName.set(name, (e = { counts: {}, histogram: [] }));
        return e;
      };
      for (const row of counts.rows) {
        const e = entry(String(row.func_name));
        const status = String(row.status) as TaskStatus;
        e.counts[status] = (e.counts[status] ?? 0) + (num(row.cnt) ?? 0);
      }
      for (const row of buckets.rows) {
        entry(String(row.func_name)).histogram.push({ count: num(row.cnt) ?? 0, sumMs: num(row.sum_ms) ?? 0 });
      }
      return [...byName.entries()].map(([funcName, e]) => {
        let count = 0;
        let sumMs = 0;
        for (const b of e.histogram) {
          count += b.count;
          sumMs += b.sumMs;
        }
        return {
          funcName,
          counts: e.counts,
          avg: count > 0 ? Math.round((sumMs / count) * 1000) / 1e6 : null,
          p50: percentile(e.histogram, 0.5),
          p95: percentile(e.histogram, 0.95),
        };
      });
    });
  }

  /** The newest failed task of each function (one index seek each). */
  lastFailures(funcNames: readonly string[]): Promise<Map<string, FailureRow>> {
    return this.connection.read(async (sql) => {
      const out = new Map<string, FailureRow>();
      const table = sql.dialect.id(this.tables.tasks);
      for (const name of funcNames) {
        const result = await sql.run(
          `SELECT id, func_name, status, error, created_at, end_time FROM ${table} ` +
            `WHERE func_name = ? AND status = ? ORDER BY created_at DESC, id DESC LIMIT 1`,
          [sql.dialect.text(name), 'failed'],
        );
        if (result.rows.length) out.set(name, failureRow(result.rows[0]));
      }
      return out;
    });
  }

  /**
   * The newest `limit` tasks of each status created at or after `since` (null: all),
   * optionally of one function, newest first per status.
   */
  failures(statuses: readonly TaskStatus[], since: number | null, funcName: string | undefined, limit: number): Promise<FailureRow[]> {
    return this.connection.read(async (sql) => {
      const rows: FailureRow[] = [];
      for (const status of statuses) rows.push(...(await newestOf(sql, this.tables, status, since, funcName, limit)));
      return rows;
    });
  }
}

async function newestOf(
  sql: Sql,
  t: TableNames,
  status: TaskStatus,
  since: number | null,
  funcName: string | undefined,
  limit: number,
): Promise<FailureRow[]> {
  const where = ['status = ?'];
  const params: unknown[] = [status];
  if (funcName !== undefined) {
    where.push('func_name = ?');
    params.push(sql.dialect.text(funcName));
  }
  if (since !== null) {
    where.push('created_at >= ?');
    params.push(Math.ceil(since));
  }
  const result = await sql.run(
    `SELECT id, func_name, status, error, created_at, end_time FROM ${sql.dialect.id(t.tasks)} ` +
      `WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
    params,
  );
  return result.rows.map(failureRow);
}

function failureRow(row: Record<string, unknown>): FailureRow {
  const error = row.error === null || row.error === undefined ? null : Buffer.isBuffer(row.error) ? row.error.toString('utf8') : String(row.error);
  return {
    id: String(row.id),
    funcName: String(row.func_name),
    status: String(row.status) as TaskStatus,
    error,
    createdAt: num(row.created_at) ?? 0,
    endTime: num(row.end_time),
  };
}
