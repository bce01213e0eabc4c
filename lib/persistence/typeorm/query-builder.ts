import { DEFAULT_LIST_LIMIT, DEFAULT_TASK_SORT, MAX_LIST_LIMIT, TaskQuery, TaskSort } from '../../task/task-query';
import { Dialect } from './dialect';
import type { SearchColumn } from './pg-search';
import type { CandidatesOf } from './search-index';
import { sqliteFolded } from './sqlite-fold';
import { searchable } from './task-rows';

/**
 * WHERE clause of listTasks. `q`, `search` and tags use LIKE with `!` as the escape character
 * (not backslash, whose meaning in string literals differs between databases), so `%`,
 * `_` and quotes in user input are matched literally.
 */
export interface TaskFilter {
  where: string;
  params: unknown[];
  /** Tag pairs the caller must re-check exactly on the candidate rows (LIKE only prefilters). */
  tags: [string, string][];
  /** True when only status and/or funcName filter: the aggregate table gives the total. */
  countableFromAggregate: boolean;
}

export const LIKE_ESCAPE = `ESCAPE '!'`;

export function escapeLike(text: string): string {
  return text.replace(/[!%_]/g, (c) => `!${c}`);
}

/** The lowercased texts `q` and `search` look for, as buildFilter hands them to `indexed`. */
export function searchNeedles(query: TaskQuery): string[] {
  return [query.q ?? '', query.search ?? ''].filter((x) => x !== '').map(needleOf);
}

function needleOf(text: string): string {
  return searchable(text).toLowerCase();
}

/**
 * `indexed` names the rows the search index holds for a needle (see candidatesFor): added
 * beside the LIKE of `q` or `search`, it only narrows the rows read; the LIKE decides.
 */
export function buildFilter(query: TaskQuery, dialect: Dialect, indexed?: CandidatesOf): TaskFilter {
  const clauses: string[] = [];
  const params: unknown[] = [];
  let narrowed = false;
  const narrow = (needle: string, pattern: string, columns: readonly SearchColumn[]) => {
    const found = narrowed ? null : indexed?.(needle, pattern, columns);
    if (!found) return;
    clauses.push(found.sql);
    params.push(...found.params);
    narrowed = true;
  };
  if (query.status !== undefined) {
    clauses.push('status = ?');
    params.push(query.status);
  }
  if (query.funcName !== undefined) {
    clauses.push('func_name = ?');
    params.push(dialect.text(query.funcName));
  }
  if (query.instance !== undefined) {
    clauses.push('owner = ?');
    params.push(dialect.text(query.instance));
  }
  if (query.since !== undefined && Number.isFinite(query.since)) {
    clauses.push('created_at >= ?');
    params.push(Math.ceil(query.since));
  }
  const q = query.q ?? '';
  if (q !== '') {
    const needle = needleOf(q);
    const pattern = dialect.text(`%${escapeLike(needle)}%`);
    narrow(needle, pattern, ['search_text']);
    clauses.push(`search_text LIKE ? ${LIKE_ESCAPE}`);
    params.push(pattern);
  }
  const search = query.search ?? '';
  if (search !== '') {
    // search_text is stored lowercased; tags and args are lowercased here.
    const needle = needleOf(search);
    const pattern = dialect.text(`%${escapeLike(needle)}%`);
    narrow(needle, pattern, query.searchArgs ? ['search_text', 'tags', 'args'] : ['search_text', 'tags']);
    const folded = (column: string) => (dialect.family === 'sqlite' ? sqliteFolded(column, needle) : `LOWER(${column})`);
    const parts = [`search_text LIKE ? ${LIKE_ESCAPE}`, `${folded('tags')} LIKE ? ${LIKE_ESCAPE}`];
    params.push(pattern, pattern);
    if (query.searchArgs) {
      // Encrypted arguments are stored as `[]` beside their cipher text: never searched.
      parts.push(`${folded('args')} LIKE ? ${LIKE_ESCAPE}`);
      params.push(pattern);
    }
    clauses.push(`(${parts.join(' OR ')})`);
  }
  const tags = Object.entries(query.tags ?? {}).map(([k, v]) => [String(k), String(v)] as [string, string]);
  for (const [key, value] of tags) {
    // The stored JSON contains `"key":"value"` for a matching pair (JSON.stringify of
    // both, as written by toRowParams); a false positive (an escaped quote before the
    // key) is removed by the exact check on the parsed tags.
    clauses.push(`tags LIKE ? ${LIKE_ESCAPE}`);
    params.push(dialect.text(`%${escapeLike(`${JSON.stringify(key)}:${JSON.stringify(value)}`)}%`));
  }
  const countableFromAggregate = tags.length === 0 && q === '' && search === '' && query.since === undefined && query.instance === undefined;
  return { where: clauses.length ? ` WHERE ${clauses.join(' AND ')}` : '', params, tags, countableFromAggregate };
}

export const ORDER_BY = ' ORDER BY created_at DESC, id DESC';

/**
 * ORDER BY of a TaskSort. Equal keys are newest first; rows without a duration come
 * last in both duration orders (`duration_ms IS NULL` sorts false before true on every
 * database). created_at (both ways) follows the (created_at, id) index; with only
 * status/function filters, listTasks serves the function and status orders group by
 * group (on indexes); duration orders, and the others under wider filters, are sorted
 * by the database (docs/dashboard.md has the figures).
 */
export function orderBy(sort: TaskSort | undefined): string {
  switch (sort ?? DEFAULT_TASK_SORT) {
    case 'created_at':
      return ' ORDER BY created_at ASC, id ASC';
    case '-duration':
      return ' ORDER BY (duration_ms IS NULL), duration_ms DESC, created_at DESC, id DESC';
    case 'duration':
      return ' ORDER BY (duration_ms IS NULL), duration_ms ASC, created_at DESC, id DESC';
    case 'func_name':
      return ' ORDER BY func_name ASC, created_at DESC, id DESC';
    case '-func_name':
      return ' ORDER BY func_name DESC, created_at DESC, id DESC';
    case 'status':
      return ' ORDER BY status ASC, created_at DESC, id DESC';
    case '-status':
      return ' ORDER BY status DESC, created_at DESC, id DESC';
    default:
      return ORDER_BY;
  }
}

export function paging(query: TaskQuery): { limit: number; offset: number } {
  const rawLimit = query.limit === undefined ? DEFAULT_LIST_LIMIT : Math.floor(Number(query.limit));
  const limit = Number.isFinite(rawLimit) ? Math.min(MAX_LIST_LIMIT, Math.max(1, rawLimit)) : DEFAULT_LIST_LIMIT;
  const rawOffset = Math.floor(Number(query.offset ?? 0));
  const offset = Number.isFinite(rawOffset) ? Math.max(0, rawOffset) : 0;
  return { limit, offset };
}

/** LIMIT/OFFSET inlined as validated integers (drivers disagree on binding them). */
export function limitClause(limit: number, offset: number): string {
  return ` LIMIT ${Math.floor(limit)} OFFSET ${Math.floor(offset)}`;
}

export function tagsMatch(stored: Record<string, string>, wanted: [string, string][]): boolean {
  return wanted.every(([key, value]) => Object.prototype.hasOwnProperty.call(stored, key) && stored[key] === value);
}
