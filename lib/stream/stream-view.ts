import { FilteredFields, matchesQuery } from '../storage/task-filter';
import type { TaskQuery } from '../task/task-query';
import type { TaskRecord } from '../task/task-record';
import { TASK_STATUSES, TaskStatus } from '../task/task-status';

/**
 * What a dashboard page shows, as its stream's query says: the table's filters and the
 * task open in its detail panel. A stream opened with one is a view stream: it carries
 * the changes of that view only (see ViewClient), not every change.
 */
export interface StreamView {
  /** The filters of `GET {path}` (status, func_name, q, search, tag, since); paging and sort play no part. */
  filter: TaskQuery;
  /** A task whose every change is sent whatever the filters, or null. */
  task: string | null;
}

const BITS = new Map<TaskStatus, number>(TASK_STATUSES.map((status, i) => [status, 1 << i]));

/** A status as one bit of a set of statuses. */
export function statusBit(status: TaskStatus): number {
  return BITS.get(status) ?? 0;
}

/** Every status: what a task may have held when the hub does not know. */
export const ANY_STATUS = (1 << TASK_STATUSES.length) - 1;

/**
 * A view's filters as a predicate over task changes. A change belongs to the view when
 * the task matches the filters now, or matched them until this change: a task leaving a
 * status filter (a running task that finished, under `status=running`) is still sent, so
 * that a page showing it sees it leave. Only the status changes along a task's life that
 * the filters look at (the error aside, which only a failure sets): so "matched until now"
 * is the other filters now, and the status filter on the statuses held before.
 */
export class ViewMatcher {
  private readonly others: TaskQuery;
  private readonly status: number;
  /** No filter at all: every change belongs to the view. */
  readonly everything: boolean;

  constructor(readonly view: StreamView) {
    const { status, ...others } = view.filter;
    this.others = others;
    this.status = status === undefined ? 0 : statusBit(status);
    this.everything = Object.values(view.filter).every((value) => value === undefined || value === false);
  }

  /** `held`: the statuses the task held since its previous event (ANY_STATUS when unknown; 0 for a new task). */
  matches(task: FilteredFields, held: number): boolean {
    if (this.everything || task.id === this.view.task) return true;
    if (!matchesQuery(task, this.others)) return false;
    return this.status === 0 || ((statusBit(task.status) | held) & this.status) !== 0;
  }
}

/** The fields the filters read, from a record as REST shows it (its arguments are not searched). */
export function recordFields(record: TaskRecord): FilteredFields {
  return {
    id: record.task_id,
    funcName: record.func_name,
    status: record.status,
    createdAt: Date.parse(record.created_at),
    tags: record.tags,
    error: record.error,
    args: [],
    argsCipher: null,
    owner: record.instance,
  };
}
