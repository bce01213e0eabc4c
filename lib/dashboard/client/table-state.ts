// What the task table shows: the records of the page, their rows, the selection.

import type { TaskRecord } from '../../task/task-record';

export const table = {
  /** The page's records, in display order. */
  records: [] as TaskRecord[],
  /** Row of each record on screen, by task id. */
  rows: new Map<string, HTMLTableRowElement>(),
  /** Tasks matching the filters (X-Total-Count). */
  total: 0,
  /** Number of the latest load; an older answer is dropped. */
  seq: 0,
  loadedOnce: false,
  selected: new Set<string>(),
  /** Every task matching the filters is selected, not only those listed. */
  allMatching: false,
  /** Tasks that arrived live and match, but are not shown (not page 1, or another sort). */
  newCount: 0,
  /** The tasks counted in newCount (a task changes several times). */
  newIds: new Set<string>(),
};
