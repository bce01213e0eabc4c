import { TaskData } from '../task/task-record';
import { DEFAULT_LIST_LIMIT, TaskPage, TaskQuery } from '../task/task-query';

/** The list filters of SPEC §4 as a predicate, shared by every in-memory listing. */
export function matchesQuery(task: TaskData, query: TaskQuery): boolean {
  if (query.status !== undefined && task.status !== query.status) return false;
  if (query.funcName !== undefined && task.funcName !== query.funcName) return false;
  if (query.since !== undefined && task.createdAt < query.since) return false;
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
  return true;
}

/**
 * Newest first, paged. `tasks` come in creation order, so tasks created in the
 * same millisecond keep their order (the sort is stable).
 */
export function pageOf(tasks: Iterable<TaskData>, query: TaskQuery): TaskPage<TaskData> {
  const matching: TaskData[] = [];
  for (const task of tasks) if (matchesQuery(task, query)) matching.push(task);
  matching.reverse().sort(newestFirst);
  const offset = query.offset ?? 0;
  const limit = query.limit ?? DEFAULT_LIST_LIMIT;
  return { items: matching.slice(offset, offset + limit), total: matching.length };
}

export function newestFirst(a: TaskData, b: TaskData): number {
  return b.createdAt - a.createdAt;
}
