// The view state, kept in the page's query string so that a link reproduces the view:
// ?status=failed&func_name=X&instance=host/1/ab&since=24h&search=timeout&sort=-duration&page=2&size=50&tab=dead&dl_since=7d&task=<id>

import { MAX_QUERY_TEXT, TASK_ID_PATTERN } from '../../task/request-limits';
import { DEFAULT_TASK_SORT, TaskSort, isTaskSort } from '../../task/task-query';
import type { TaskRecord } from '../../task/task-record';
import { isTaskStatus } from '../../task/task-status';
import type { QueryParams } from './api';
import { CONFIG } from './config';
import { parseTime } from './format';

const SINCE = /^(\d{1,7})[hd]$/;
const DL_SINCE = /^(?:(\d{1,7})[hd]|all)$/;
export const TABS = ['tasks', 'dead', 'schedules', 'registered', 'instances', 'audit'] as const;
export type Tab = (typeof TABS)[number];
const SIZES = [25, 50, 100, 200];

export interface View {
  /** A status, or '' for all. */
  status: string;
  func: string;
  /** An instance id (the records' `instance`), or '' for all. */
  instance: string;
  since: string;
  search: string;
  sort: TaskSort;
  page: number;
  size: number;
  tab: Tab;
  dlSince: string;
  dlFunc: string;
  /** Id of the task in the detail panel, or ''. */
  task: string;
}

/** The list filters, as setFilters() changes them. */
export type FilterChanges = Partial<Pick<View, 'status' | 'func' | 'instance' | 'since' | 'search'>>;

const DEFAULT_VIEW: Readonly<View> = {
  status: '',
  func: '',
  instance: '',
  since: '',
  search: '',
  sort: DEFAULT_TASK_SORT,
  page: 1,
  size: 50,
  tab: 'tasks',
  dlSince: '7d',
  dlFunc: '',
  task: '',
};

export const view: View = Object.assign({}, DEFAULT_VIEW);

export function isTab(value: string): value is Tab {
  return (TABS as readonly string[]).includes(value);
}

export function readView(): void {
  const p = new URLSearchParams(location.search);
  const get = (k: string) => (p.get(k) || '').slice(0, MAX_QUERY_TEXT);
  const status = get('status');
  const sort = get('sort');
  const since = get('since');
  const dlSince = get('dl_since');
  const tab = get('tab');
  const size = Number(get('size'));
  const page = Number(get('page'));
  Object.assign(view, {
    status: isTaskStatus(status) ? status : '',
    func: get('func_name'),
    instance: get('instance'),
    since: SINCE.test(since) ? since : '',
    search: get('search'),
    sort: isTaskSort(sort) ? sort : DEFAULT_VIEW.sort,
    page: Number.isInteger(page) && page >= 1 ? page : 1,
    size: SIZES.includes(size) ? size : DEFAULT_VIEW.size,
    tab: isTab(tab) && (tab !== 'audit' || CONFIG.auth) ? tab : 'tasks',
    dlSince: DL_SINCE.test(dlSince) ? dlSince : DEFAULT_VIEW.dlSince,
    dlFunc: get('dl_func'),
    task: TASK_ID_PATTERN.test(get('task')) ? get('task') : '',
  });
}

/** Writes the view to the address bar: a new history entry, or a replacement (typing). */
export function writeView(replace: boolean): void {
  const p = new URLSearchParams();
  if (view.status) p.set('status', view.status);
  if (view.func) p.set('func_name', view.func);
  if (view.instance) p.set('instance', view.instance);
  if (view.since) p.set('since', view.since);
  if (view.search) p.set('search', view.search);
  if (view.sort !== DEFAULT_VIEW.sort) p.set('sort', view.sort);
  if (view.page !== 1) p.set('page', String(view.page));
  if (view.size !== DEFAULT_VIEW.size) p.set('size', String(view.size));
  if (view.tab !== 'tasks') p.set('tab', view.tab);
  if (view.dlSince !== DEFAULT_VIEW.dlSince) p.set('dl_since', view.dlSince);
  if (view.dlFunc) p.set('dl_func', view.dlFunc);
  if (view.task) p.set('task', view.task);
  const qs = p.toString();
  const url = location.pathname + (qs ? `?${qs}` : '');
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
}

/** The list filters of the view as query parameters of GET {path} (without paging). */
export function filterParams(): QueryParams {
  const p: QueryParams = {};
  if (view.status) p.status = view.status;
  if (view.func) p.func_name = view.func;
  if (view.instance) p.instance = view.instance;
  if (view.since) p.since = view.since;
  if (view.search) p.search = view.search;
  return p;
}

/**
 * The query of the page's stream: the list filters and the task of the detail panel,
 * so that the server sends only the changes this page shows (`view=1`: a view stream
 * even without filters).
 */
export function streamQuery(): string {
  const p: QueryParams = Object.assign({ view: '1' }, filterParams());
  if (view.task) p.task = view.task;
  return new URLSearchParams(p).toString();
}

export function hasFilters(): boolean {
  return !!(view.status || view.func || view.instance || view.since || view.search);
}

/** Whether a record matches the current filters, as the server decides it. */
export function matchesView(record: TaskRecord): boolean {
  if (view.status && record.status !== view.status) return false;
  if (view.func && record.func_name !== view.func) return false;
  if (view.instance && record.instance !== view.instance) return false;
  if (view.since) {
    const m = /^(\d+)([hd])$/.exec(view.since)!;
    const cutoff = Date.now() - Number(m[1]) * (m[2] === 'h' ? 3600e3 : 86400e3);
    if (parseTime(record.created_at) < cutoff) return false;
  }
  if (view.search) {
    const needle = view.search.toLowerCase();
    const hay = [record.task_id, record.func_name, record.error || '', JSON.stringify(record.tags || {})];
    if (CONFIG.args && Array.isArray(record.args)) hay.push(JSON.stringify(record.args));
    if (!hay.some((text) => String(text).toLowerCase().includes(needle))) return false;
  }
  return true;
}
