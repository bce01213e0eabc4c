import type { TaskData } from '../task/task-record';
import type { TaskQuery } from '../task/task-query';
import { RETRYABLE_STATUSES } from '../task/task-status';
import type { TaskStorage } from './task-storage';

const PAGE = 5000;

/**
 * Every failed and interrupted task of `filter` (created since `since`, epoch ms, null = all;
 * of one function or all), read from the backend page by page for retryFailed.
 */
export async function retryCandidates(storage: TaskStorage, filter: { since: number | null; funcName?: string }): Promise<TaskData[]> {
  const candidates: TaskData[] = [];
  for (const status of RETRYABLE_STATUSES) {
    const query: TaskQuery = { status, funcName: filter.funcName, since: filter.since ?? undefined, limit: PAGE };
    for (let offset = 0; ; offset += PAGE) {
      const page = await storage.list({ ...query, offset });
      candidates.push(...page.items);
      // An in-memory page is a synchronous scan of every record: one per turn of the event loop.
      await new Promise(setImmediate);
      if (page.items.length < PAGE) break;
    }
  }
  return candidates;
}
