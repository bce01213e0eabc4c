import { BadRequestException, NotFoundException } from '@nestjs/common';
import { MAX_BULK_IDS, MAX_QUERY_TEXT as MAX_TEXT, TASK_ID_PATTERN as TASK_ID } from '../task/request-limits';
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, TASK_SORTS, TaskQuery, isTaskSort } from '../task/task-query';
import { TASK_STATUSES, isTaskStatus } from '../task/task-status';
import { httpMessages } from './http-messages';

/**
 * Hand-written parsers for everything a client sends to the admin routes. Each
 * takes the raw value as express hands it over (a string, an array when a query
 * key repeats, an object with the extended query parser, anything from JSON) and
 * returns a typed value or throws a 400 (404 for task ids) with a precise message.
 */

export type QueryBag = Record<string, unknown>;

const MAX_TAGS = 20;
const MAX_ID_LENGTH = 128;
const MAX_CREDENTIAL = { username: 256, password: 1024 } as const;

/** Fixed route segments that are never looked up as a task id. */
export const RESERVED_SEGMENTS: ReadonlySet<string> = new Set([
  'metrics', 'audit', 'bulk-retry', 'retry-failed', 'history', 'schedules', 'dashboard', 'auth', 'registered',
  'insights', 'export.csv',
]);

const HOUR_MS = 3_600_000;
const UNIT_MS = { min: 60_000, hour: HOUR_MS, day: 24 * HOUR_MS } as const;
/** DELETE history windows are limited to 100 years, whatever the unit. */
const MAX_HISTORY = { min: 100 * 365 * 24 * 60, hour: 100 * 365 * 24, day: 100 * 365 } as const;

function own(bag: unknown, key: string): unknown {
  if (bag === null || typeof bag !== 'object') return undefined;
  return Object.prototype.hasOwnProperty.call(bag, key) ? (bag as QueryBag)[key] : undefined;
}

/** A query parameter given at most once, as a string; undefined when absent. */
export function singleParam(query: unknown, name: string): string | undefined {
  const value = own(query, name);
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new BadRequestException(httpMessages.repeated(name));
  if (typeof value !== 'string') throw new BadRequestException(httpMessages.notAString(name));
  return value;
}

/** A query parameter that may repeat (`tag=a:1&tag=b:2`), as strings. */
export function repeatedParam(query: unknown, name: string): string[] {
  const value = own(query, name);
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((v): v is string => typeof v === 'string')) throw new BadRequestException(httpMessages.notAString(name));
  return list;
}

function text(query: unknown, name: string): string | undefined {
  const value = singleParam(query, name);
  if (value !== undefined && value.length > MAX_TEXT) throw new BadRequestException(httpMessages.tooLong(name, MAX_TEXT));
  return value;
}

/** A decimal integer within [min, max]: digits only, no sign, exponent or spaces. */
export function parseInteger(name: string, raw: string, min: number, max: number): number {
  const value = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) throw new BadRequestException(httpMessages.invalidInteger(name, raw, min, max));
  return value;
}

function optionalInteger(query: unknown, name: string, min: number, max: number, fallback: number): number {
  const raw = singleParam(query, name);
  return raw === undefined ? fallback : parseInteger(name, raw, min, max);
}

/**
 * `<N>h`, `<N>d` or `all` → the epoch-ms cutoff (`now - N units`), or null for
 * `all`. `0h` is valid: a window that ends now.
 */
export function parseSince(raw: string, now: number): number | null {
  if (raw === 'all') return null;
  const match = /^(\d{1,7})([hd])$/.exec(raw);
  if (!match) throw new BadRequestException(httpMessages.invalidSince(raw));
  return now - Number(match[1]) * (match[2] === 'h' ? HOUR_MS : 24 * HOUR_MS);
}

/**
 * `GET {path}`: filters and paging (SPEC §4), plus `sort` (one of TASK_SORTS) and
 * `search` (the wider search; it looks into arguments only when `searchArgs`, i.e.
 * with displayFuncArgs).
 */
export function parseListQuery(query: unknown, now: number, options: { searchArgs?: boolean } = {}): TaskQuery {
  const result: TaskQuery = {
    limit: optionalInteger(query, 'limit', 1, MAX_LIST_LIMIT, DEFAULT_LIST_LIMIT),
    offset: optionalInteger(query, 'offset', 0, Number.MAX_SAFE_INTEGER, 0),
  };
  const status = singleParam(query, 'status');
  if (status !== undefined) {
    if (!isTaskStatus(status)) throw new BadRequestException(httpMessages.invalidStatus(status, TASK_STATUSES));
    result.status = status;
  }
  const funcName = text(query, 'func_name');
  if (funcName !== undefined && funcName !== '') result.funcName = funcName;
  const q = text(query, 'q');
  if (q !== undefined && q !== '') result.q = q;
  const search = text(query, 'search');
  if (search !== undefined && search !== '') {
    result.search = search;
    if (options.searchArgs) result.searchArgs = true;
  }
  const sort = singleParam(query, 'sort');
  if (sort !== undefined && sort !== '') {
    if (!isTaskSort(sort)) throw new BadRequestException(httpMessages.invalidSort(sort, TASK_SORTS));
    result.sort = sort;
  }
  const since = singleParam(query, 'since');
  if (since !== undefined) {
    const cutoff = parseSince(since, now);
    if (cutoff !== null) result.since = cutoff;
  }
  const tags = parseTags(repeatedParam(query, 'tag'));
  if (tags) result.tags = tags;
  return result;
}

function parseTags(raw: string[]): Record<string, string> | undefined {
  if (raw.length === 0) return undefined;
  if (raw.length > MAX_TAGS) throw new BadRequestException(httpMessages.tooManyTags(MAX_TAGS));
  const tags: Record<string, string> = {};
  for (const item of raw) {
    if (item.length > 2 * MAX_TEXT) throw new BadRequestException(httpMessages.tooLong('tag', 2 * MAX_TEXT));
    const colon = item.indexOf(':');
    if (colon < 1) throw new BadRequestException(httpMessages.invalidTag(item));
    const key = item.slice(0, colon);
    const value = item.slice(colon + 1);
    if (Object.prototype.hasOwnProperty.call(tags, key)) {
      if (tags[key] !== value) throw new BadRequestException(httpMessages.conflictingTag(key));
      continue;
    }
    // defineProperty: a key such as "__proto__" stays an ordinary own key.
    Object.defineProperty(tags, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return tags;
}

/** `POST {path}/retry-failed`: `since` (default `6h`, as in the original system) and `func_name`. */
export function parseRetryFailedQuery(query: unknown, now: number): { since: number | null; funcName?: string } {
  const since = parseSince(singleParam(query, 'since') ?? '6h', now);
  const funcName = text(query, 'func_name');
  return funcName === undefined || funcName === '' ? { since } : { since, funcName };
}

/** `DELETE {path}/history?value=N&unit=min|hour|day` → the epoch-ms cutoff. */
export function parseHistoryQuery(query: unknown, now: number): number {
  const unit = singleParam(query, 'unit');
  if (unit === undefined) throw new BadRequestException(httpMessages.missing('unit'));
  if (unit !== 'min' && unit !== 'hour' && unit !== 'day') throw new BadRequestException(httpMessages.invalidUnit(unit));
  const raw = singleParam(query, 'value');
  if (raw === undefined) throw new BadRequestException(httpMessages.missing('value'));
  const value = parseInteger('value', raw, 1, MAX_HISTORY[unit]);
  return now - value * UNIT_MS[unit];
}

/** `GET {path}/audit?limit&offset`. */
export function parseAuditQuery(query: unknown): { limit: number; offset: number } {
  return {
    limit: optionalInteger(query, 'limit', 1, MAX_LIST_LIMIT, 1000),
    offset: optionalInteger(query, 'offset', 0, Number.MAX_SAFE_INTEGER, 0),
  };
}

/**
 * A `:task_id` path segment. Anything that cannot be an id, and the fixed route
 * names, answer 404 without being looked up (nor echoed back).
 */
export function parseTaskId(raw: unknown, method: string, url: string): string {
  if (typeof raw !== 'string' || !TASK_ID.test(raw)) throw new NotFoundException(httpMessages.taskNotFound());
  if (RESERVED_SEGMENTS.has(raw)) throw new NotFoundException(httpMessages.routeNotFound(method, url));
  return raw;
}

/** `POST {path}/bulk-retry` body: `{task_ids: string[]}` sent as JSON. */
export function parseBulkRetryBody(body: unknown, isJson: boolean): string[] {
  if (!isJson || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestException(httpMessages.bulkBody());
  }
  const ids = own(body, 'task_ids');
  if (ids === undefined) throw new BadRequestException(httpMessages.bulkBody());
  if (!Array.isArray(ids) || ids.length > MAX_BULK_IDS) throw new BadRequestException(httpMessages.bulkIds(MAX_BULK_IDS));
  ids.forEach((id, index) => {
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
      throw new BadRequestException(httpMessages.bulkId(index, MAX_ID_LENGTH));
    }
  });
  return ids as string[];
}

export interface LoginInput {
  username: string;
  password: string;
}

/** `POST {path}/auth/login` body, form or JSON; null when it is not two strings of sane length. */
export function parseLoginBody(body: unknown): LoginInput | { error: string } {
  const username = own(body, 'username');
  const password = own(body, 'password');
  if (typeof username !== 'string' || typeof password !== 'string' || username === '' || password === '') {
    return { error: httpMessages.loginBody() };
  }
  for (const [name, value] of [['username', username], ['password', password]] as const) {
    if (value.length > MAX_CREDENTIAL[name]) return { error: httpMessages.loginFieldTooLong(name, MAX_CREDENTIAL[name]) };
  }
  return { username, password };
}
