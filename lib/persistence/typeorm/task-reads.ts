import { TaskData } from '../../task/task-record';
import { TaskPage, TaskQuery } from '../../task/task-query';
import { TaskMetrics } from '../../task/task-metrics';
import { Connection, Sql } from './connection';
import { inList } from './dialect';
import { countFromAggregate, readMetrics } from './metrics';
import { buildFilter, limitClause, ORDER_BY, paging, tagsMatch } from './query-builder';
import { TableNames } from './schema';
import { fromRow, num, parseTags, SELECT_LIST } from './task-rows';

export async function getTask(connection: Connection, t: TableNames, id: string): Promise<TaskData | null> {
  return connection.read(async (sql) => {
    const result = await sql.run(`SELECT ${SELECT_LIST} FROM ${sql.dialect.id(t.tasks)} WHERE id = ?`, [
      sql.dialect.text(String(id)),
    ]);
    return result.rows.length ? fromRow(result.rows[0]) : null;
  });
}

/**
 * Newest `created_at` first, ties by id (descending, so one index serves both keys).
 * Indexes (created_at, id), (status, created_at, id) and (func_name, created_at, id)
 * and (func_name, status, created_at, id) serve the first pages; the total comes from
 * the `counts` aggregate when only status and/or function filter, else from COUNT(*). With tags, candidate (id, tags) pairs
 * matching the LIKE prefilter are checked exactly in JS, then the page is fetched by id.
 */
export async function listTasks(connection: Connection, t: TableNames, query: TaskQuery): Promise<TaskPage<TaskData>> {
  return connection.read(async (sql) => {
    const filter = buildFilter(query, sql.dialect);
    const { limit, offset } = paging(query);
    const table = sql.dialect.id(t.tasks);
    if (filter.tags.length === 0) {
      const page = await sql.run(
        `SELECT ${SELECT_LIST} FROM ${table}${filter.where}${ORDER_BY}${limitClause(limit, offset)}`,
        filter.params,
      );
      const items = page.rows.map(fromRow);
      let total: number;
      if (offset === 0 && items.length < limit) total = items.length;
      else if (filter.countableFromAggregate) total = await countFromAggregate(sql, t, query);
      else total = await count(sql, table, filter.where, filter.params);
      return { items, total };
    }
    const candidates = await sql.run(`SELECT id, tags FROM ${table}${filter.where}${ORDER_BY}`, filter.params);
    const matching = candidates.rows.filter((row) => tagsMatch(parseTags(row.tags), filter.tags)).map((r) => String(r.id));
    const pageIds = matching.slice(offset, offset + limit);
    return { items: await fetchByIds(sql, t, pageIds), total: matching.length };
  });
}

async function count(sql: Sql, table: string, where: string, params: unknown[]): Promise<number> {
  const result = await sql.run(`SELECT COUNT(*) AS total FROM ${table}${where}`, params);
  return num(result.rows[0]?.total) ?? 0;
}

async function fetchByIds(sql: Sql, t: TableNames, ids: string[]): Promise<TaskData[]> {
  if (!ids.length) return [];
  const result = await sql.run(
    `SELECT ${SELECT_LIST} FROM ${sql.dialect.id(t.tasks)} WHERE id IN (${inList(ids.length)})`,
    ids.map((id) => sql.dialect.text(id)),
  );
  const byId = new Map(result.rows.map((row) => [String(row.id), fromRow(row)]));
  return ids.map((id) => byId.get(id)).filter((task): task is TaskData => task !== undefined);
}

export async function metrics(connection: Connection, t: TableNames): Promise<TaskMetrics> {
  return connection.read((sql) => readMetrics(sql, t));
}
