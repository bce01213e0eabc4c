export const TASK_STATUSES = ['pending', 'running', 'success', 'failed', 'interrupted', 'cancelled'] as const;

export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Statuses a record never leaves: a retry creates a new record instead. */
export const TERMINAL_STATUSES: readonly TaskStatus[] = ['success', 'failed', 'interrupted', 'cancelled'];

/** Statuses from which `retry` is allowed. */
export const RETRYABLE_STATUSES: readonly TaskStatus[] = ['failed', 'interrupted'];

/** Statuses that no longer hold an idempotency key: the same key may enqueue again. */
export const KEY_RELEASING_STATUSES: readonly TaskStatus[] = ['failed', 'interrupted', 'cancelled'];

export function isTaskStatus(value: unknown): value is TaskStatus {
  return typeof value === 'string' && (TASK_STATUSES as readonly string[]).includes(value);
}

export function isTerminal(status: TaskStatus): boolean {
  return status !== 'pending' && status !== 'running';
}
