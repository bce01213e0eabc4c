// The REST routes and the dashboard's insight routes, all under CONFIG.base.

import type { BulkRetryResult } from '../../task/bulk-retry-result';
import { MAX_BULK_IDS } from '../../task/request-limits';
import { MAX_LIST_LIMIT } from '../../task/task-query';
import type { TaskRecord } from '../../task/task-record';
import { CONFIG } from './config';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The `message` of an error thrown by api(), or of anything else thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The HTTP status of an ApiError (0: unreachable), undefined for anything else. */
export function errorStatus(error: unknown): number | undefined {
  return error instanceof ApiError ? error.status : undefined;
}

export type QueryParams = Record<string, string>;

export interface ApiOptions {
  method?: string;
  query?: QueryParams | string;
  body?: unknown;
  signal?: AbortSignal;
}

export interface ApiAnswer<T> {
  data: T;
  /** X-Total-Count, when the route sends it. */
  total: number | null;
}

let signingOut = false;

/**
 * `path` is relative to the base ('' is the task list). Resolves with the parsed
 * body and X-Total-Count; rejects with an ApiError carrying the server's message.
 * A 401 with auth on means the session ended: go to the login page.
 */
export async function api<T>(path: string, options?: ApiOptions): Promise<ApiAnswer<T>> {
  const opts = options || {};
  const query = opts.query ? (typeof opts.query === 'string' ? opts.query : new URLSearchParams(opts.query).toString()) : '';
  const url = CONFIG.base + path + (query ? `?${query}` : '');
  const headers: Record<string, string> = { Accept: 'application/json' };
  const init: RequestInit = { method: opts.method || 'GET', headers, credentials: 'same-origin', signal: opts.signal };
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (error instanceof Error && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'The server cannot be reached');
  }
  if (response.status === 401 && CONFIG.auth) {
    if (!signingOut) {
      signingOut = true;
      location.assign(`${CONFIG.base}/auth/login`);
    }
    throw new ApiError(401, 'Your session has ended; sign in again');
  }
  const text = await response.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const body = data as { message?: unknown } | null;
    const message = body && body.message ? (Array.isArray(body.message) ? body.message.join('; ') : String(body.message)) : `HTTP ${response.status}`;
    throw new ApiError(response.status, message);
  }
  const total = response.headers.get('X-Total-Count');
  return { data: data as T, total: total === null ? null : Number(total) };
}

export const taskPath = (id: string): string => `/${encodeURIComponent(id)}`;

/** Number of tasks matching `params` (one row fetched, the header read). */
export async function countTasks(params: QueryParams): Promise<number> {
  const { total } = await api<TaskRecord[]>('', { query: Object.assign({}, params, { limit: '1', offset: '0' }) });
  return total || 0;
}

/** Ids of tasks matching `params`, newest first, at most `cap`, read a full page at a time. */
export async function collectIds(params: QueryParams, cap: number): Promise<string[]> {
  const ids: string[] = [];
  const seen = new Set<string>();
  for (let offset = 0; ids.length < cap; offset += MAX_LIST_LIMIT) {
    const { data } = await api<TaskRecord[]>('', { query: Object.assign({}, params, { limit: String(MAX_LIST_LIMIT), offset: String(offset) }) });
    for (const record of data) {
      if (seen.has(record.task_id)) continue;
      seen.add(record.task_id);
      ids.push(record.task_id);
      if (ids.length >= cap) break;
    }
    if (data.length < MAX_LIST_LIMIT) break;
  }
  return ids;
}

/** POST bulk-retry in chunks of as many ids as one request may carry; sums the answers. */
export async function bulkRetry(ids: readonly string[]): Promise<BulkRetryResult> {
  const total: BulkRetryResult = { dispatched: 0, skipped: 0, results: [] };
  for (let i = 0; i < ids.length; i += MAX_BULK_IDS) {
    const { data } = await api<BulkRetryResult>('/bulk-retry', { method: 'POST', body: { task_ids: ids.slice(i, i + MAX_BULK_IDS) } });
    total.dispatched += data.dispatched;
    total.skipped += data.skipped;
    total.results.push(...data.results);
  }
  return total;
}
