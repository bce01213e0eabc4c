import { NonRetryableError } from '../errors/non-retryable.error';
import { TaskDefinition } from '../discovery/registered-task';
import { MAX_KEPT_ATTEMPTS, TaskAttempt } from '../task/task-attempt';
import { TaskData } from '../task/task-record';

/**
 * Opens the task's next attempt entry. Numbered from the entries already there, so
 * a task requeued after a restart continues its count rather than showing a second
 * "attempt 1".
 */
export function openAttempt(task: TaskData, now = Date.now()): TaskAttempt {
  const attempts = task.attempts;
  if (!attempts) {
    // A literal of one: an empty array's first push reserves room for 17.
    const first: TaskAttempt = { attempt: 1, startTime: now, endTime: null, error: null };
    task.attempts = [first];
    return first;
  }
  const previous = attempts.length ? attempts[attempts.length - 1].attempt : 0;
  const entry: TaskAttempt = { attempt: previous + 1, startTime: now, endTime: null, error: null };
  attempts.push(entry);
  if (attempts.length > MAX_KEPT_ATTEMPTS) attempts.splice(0, attempts.length - MAX_KEPT_ATTEMPTS);
  return entry;
}

/** Ends an open attempt entry (once: a later call, say the attempt's own rejection after a cancel, changes nothing). */
export function closeAttempt(entry: TaskAttempt | null, error: string | null, now = Date.now()): void {
  if (!entry || entry.endTime !== null) return;
  entry.endTime = now;
  entry.error = error;
}

/**
 * Whether a failed attempt may be followed by another: not for a NonRetryableError,
 * nor when the task's `retryIf` says no. A `retryIf` that throws counts as no, so a
 * broken predicate cannot loop through every retry.
 */
export function mayRetry(definition: TaskDefinition, error: unknown): boolean {
  if (error instanceof NonRetryableError) return false;
  if (!definition.retryIf) return true;
  try {
    return definition.retryIf(error) === true;
  } catch {
    return false;
  }
}
