import { TaskData } from '../task/task-record';
import { DEFAULT_LIST_LIMIT, DEFAULT_TASK_SORT, TaskPage, TaskQuery, TaskSort } from '../task/task-query';

/** What the filters of `GET {path}` look at in a task. */
export type FilteredFields = Pick<TaskData, 'id' | 'funcName' | 'status' | 'createdAt' | 'tags' | 'error' | 'args' | 'argsCipher' | 'owner'>;

/**
 * The filters of `GET {path}` (status, func_name, q, tag, since) as a predicate, shared
 * by every in-memory listing and by the dashboard's filtered stream.
 */
export function matchesQuery(task: FilteredFields, query: TaskQuery): boolean {
  if (query.status !== undefined && task.status !== query.status) return false;
  if (query.funcName !== undefined && task.funcName !== query.funcName) return false;
  if (query.since !== undefined && task.createdAt < query.since) return false;
  if (query.instance !== undefined && task.owner !== query.instance) return false;
  if (query.tags) {
    for (const [key, value] of Object.entries(query.tags)) {
      if (task.tags[key] !== value) return false;
    }
  }
  if (query.q) {
    const needle = query.q.toLowerCase();
    if (
      !task.id.toLowerCase().includes(needle) &&
      !task.funcName.toLowerCase().includes(needle) &&
      !(task.error ?? '').toLowerCase().includes(needle)
    ) {
      return false;
    }
  }
  if (query.search && !matchesSearch(task, query.search.toLowerCase(), query.searchArgs === true)) return false;
  return true;
}

/**
 * The wider search: id, name, error, the tags' JSON text and (when allowed and not
 * encrypted) the arguments' JSON text, as the database columns hold them.
 */
function matchesSearch(task: FilteredFields, needle: string, withArgs: boolean): boolean {
  if (task.id.toLowerCase().includes(needle)) return true;
  if (task.funcName.toLowerCase().includes(needle)) return true;
  if ((task.error ?? '').toLowerCase().includes(needle)) return true;
  if (jsonText(task.tags).toLowerCase().includes(needle)) return true;
  return withArgs && task.argsCipher === null && jsonText(task.args).toLowerCase().includes(needle);
}

function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? '';
  } catch {
    return '';
  }
}

/**
 * Filtered, sorted (newest first by default), paged. `tasks` come in creation
 * order, so tasks created in the same millisecond keep their order (the sort is stable).
 */
export function pageOf(tasks: Iterable<TaskData>, query: TaskQuery): TaskPage<TaskData> {
  const matching: TaskData[] = [];
  for (const task of tasks) if (matchesQuery(task, query)) matching.push(task);
  matching.reverse().sort(comparator(query.sort ?? DEFAULT_TASK_SORT));
  const offset = query.offset ?? 0;
  const limit = query.limit ?? DEFAULT_LIST_LIMIT;
  return { items: matching.slice(offset, offset + limit), total: matching.length };
}

export function newestFirst(a: TaskData, b: TaskData): number {
  return b.createdAt - a.createdAt;
}

function durationOf(task: TaskData): number | null {
  return task.startTime !== null && task.endTime !== null ? Math.max(0, task.endTime - task.startTime) : null;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The order of a TaskSort, as the database applies it: equal keys newest first, no duration last. */
export function comparator(sort: TaskSort): (a: TaskData, b: TaskData) => number {
  const descending = sort.startsWith('-');
  const key = descending ? sort.slice(1) : sort;
  const sign = descending ? -1 : 1;
  let primary: (a: TaskData, b: TaskData) => number;
  switch (key) {
    case 'duration':
      primary = (a, b) => {
        const da = durationOf(a);
        const db = durationOf(b);
        if (da === null || db === null) return da === db ? 0 : da === null ? 1 : -1;
        return sign * (da - db);
      };
      break;
    case 'func_name':
      primary = (a, b) => sign * compareText(a.funcName, b.funcName);
      break;
    case 'status':
      primary = (a, b) => sign * compareText(a.status, b.status);
      break;
    default:
      primary = (a, b) => sign * (a.createdAt - b.createdAt);
  }
  return (a, b) => primary(a, b) || newestFirst(a, b);
}
