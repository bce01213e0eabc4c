import { TaskData } from '../../task/task-record';
import { TaskPage, TaskQuery, TaskSort } from '../../task/task-query';
import { TaskMetrics } from '../../task/task-metrics';
import { Connection, Sql } from './connection';
import { inList } from './dialect';
import { countFromAggregate, readMetrics } from './metrics';
import { buildFilter, limitClause, orderBy, paging, searchNeedles, tagsMatch } from './query-builder';
import { TableNames } from './schema';
import { candidateLookup } from './search-index';
import { WordRarity } from './search-rarity';
import { fromRow, num, parseTags, SELECT_LIST } from './task-rows';

export async function getTask(connection: Connection, t: TableNames, id: string): Promise<TaskData | null> {
  return connection.read(async (sql) => {
    const result = await sql.run(`SELECT ${SELECT_LIST} FROM ${sql.dialect.id(t.tasks)} WHERE id = ?`, [sql.dialect.text(String(id))]);
    return result.rows.length ? fromRow(result.rows[0]) : null;
  });
}

/**
 * In `query.sort` order (see orderBy), by default newest `created_at` first, ties by id (descending, so one index serves both keys).
 * Indexes (created_at, id), (status, created_at, id) and (func_name, created_at, id)
 * and (func_name, status, created_at, id) serve the first pages; the total comes from
 * the `counts` aggregate when only status and/or function filter, else from COUNT(*). With tags, candidate (id, tags) pairs
 * matching the LIKE prefilter are checked exactly in JS, then the page is fetched by id.
 * Sorting by function or status with only status/function filters walks the groups
 * (see listByGroup) so that every read follows an index.
 */
export async function listTasks(connection: Connection, t: TableNames, query: TaskQuery, rarity?: WordRarity): Promise<TaskPage<TaskData>> {
  return connection.read(async (sql) => {
    const filter = buildFilter(query, sql.dialect, await candidateLookup(sql, t, searchNeedles(query), rarity));
    const { limit, offset } = paging(query);
    const table = sql.dialect.id(t.tasks);
    const order = orderBy(query.sort);
    const grouping = query.sort ? GROUPED_SORTS[query.sort] : undefined;
    if (grouping && filter.countableFromAggregate) return listByGroup(sql, t, query, grouping, limit, offset);
    if (filter.tags.length === 0) {
      const page = await sql.run(`SELECT ${SELECT_LIST} FROM ${table}${filter.where}${order}${limitClause(limit, offset)}`, filter.params);
      const items = page.rows.map(fromRow);
      let total: number;
      if (offset === 0 && items.length < limit) total = items.length;
      else if (filter.countableFromAggregate) total = await countFromAggregate(sql, t, query);
      else total = await count(sql, table, filter.where, filter.params);
      return { items, total };
    }
    const candidates = await sql.run(`SELECT id, tags FROM ${table}${filter.where}${order}`, filter.params);
    const matching = candidates.rows.filter((row) => tagsMatch(parseTags(row.tags), filter.tags)).map((r) => String(r.id));
    const pageIds = matching.slice(offset, offset + limit);
    return { items: await fetchByIds(sql, t, pageIds), total: matching.length };
  });
}

/** Sorts by a column of the `counts` aggregate: the groups come from it, in this order. */
const GROUPED_SORTS: Partial<Record<TaskSort, { column: 'func_name' | 'status'; direction: 'ASC' | 'DESC' }>> = {
  func_name: { column: 'func_name', direction: 'ASC' },
  '-func_name': { column: 'func_name', direction: 'DESC' },
  status: { column: 'status', direction: 'ASC' },
  '-status': { column: 'status', direction: 'DESC' },
};

/**
 * `ORDER BY <column>, created_at DESC, id DESC` without sorting the table: the
 * groups (functions or statuses) and their sizes come from the `counts` aggregate in
 * the column's order, the groups before the page are skipped by their size, and each
 * group on the page is read newest first on the (func_name | status, created_at, id)
 * or (func_name, status, created_at, id) index. The total is the sum of the groups.
 * (Without a transaction, a write between the two reads may shift a page by a row,
 * as it may between any page and its count.)
 */
async function listByGroup(
  sql: Sql,
  t: TableNames,
  query: TaskQuery,
  grouping: { column: 'func_name' | 'status'; direction: 'ASC' | 'DESC' },
  limit: number,
  offset: number,
): Promise<TaskPage<TaskData>> {
  const d = sql.dialect;
  const where: string[] = [];
  const params: unknown[] = [];
  if (query.status !== undefined) {
    where.push('status = ?');
    params.push(query.status);
  }
  if (query.funcName !== undefined) {
    where.push('func_name = ?');
    params.push(d.text(query.funcName));
  }
  const clause = where.length ? ` WHERE ${where.join(' AND ')}` : '';
  const { column, direction } = grouping;
  const groups = await sql.run(
    `SELECT ${column} AS k, SUM(cnt) AS n FROM ${d.id(t.counts)}${clause} GROUP BY ${column} HAVING SUM(cnt) > 0 ORDER BY ${column} ${direction}`,
    params,
  );
  let total = 0;
  for (const g of groups.rows) total += num(g.n) ?? 0;
  const items: TaskData[] = [];
  let skip = offset;
  for (const g of groups.rows) {
    if (items.length >= limit) break;
    const size = num(g.n) ?? 0;
    if (skip >= size) {
      skip -= size;
      continue;
    }
    const rows = await sql.run(
      `SELECT ${SELECT_LIST} FROM ${d.id(t.tasks)} WHERE ${[...where, `${column} = ?`].join(' AND ')}` +
        ` ORDER BY created_at DESC, id DESC${limitClause(limit - items.length, skip)}`,
      [...params, column === 'func_name' ? d.text(String(g.k)) : String(g.k)],
    );
    items.push(...rows.rows.map(fromRow));
    skip = 0;
  }
  return { items, total };
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
