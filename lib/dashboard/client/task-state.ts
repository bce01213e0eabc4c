// What a status allows, from the server's own lists, and the order in which a task
// moves through them.

import type { TaskRecord } from '../../task/task-record';
import { RETRYABLE_STATUSES, TASK_STATUSES, TERMINAL_STATUSES, TaskStatus, isTerminal } from '../../task/task-status';

export const TERMINAL: ReadonlySet<string> = new Set<string>(TERMINAL_STATUSES);
export const RETRYABLE: ReadonlySet<string> = new Set<string>(RETRYABLE_STATUSES);
/** A task can be cancelled until it finishes. */
export const CANCELLABLE_STATUSES: readonly TaskStatus[] = TASK_STATUSES.filter((status) => !isTerminal(status));
export const CANCELLABLE: ReadonlySet<string> = new Set<string>(CANCELLABLE_STATUSES);

/** pending < running < finished: a task never goes back (terminal states never change). */
function stage(status: string): number {
  return status === 'pending' ? 0 : status === 'running' ? 1 : 2;
}

/** Whether `next` may replace `current` (an event that raced a fetch must not undo it). */
export function isNewerState(current: TaskRecord | null | undefined, next: TaskRecord): boolean {
  return !current || stage(next.status) >= stage(current.status);
}

/** "42%" for a running task that reports progress, else ''. */
export function progressText(record: TaskRecord): string {
  return record.status === 'running' && record.progress !== null && record.progress !== undefined ? `${Math.round(record.progress * 100)}%` : '';
}
