import { RegisteredTask } from '../discovery/registered-task';
import { TaskRegistry } from '../discovery/task.registry';
import { InvalidTransitionError } from '../errors/invalid-transition.error';
import { messages } from '../errors/messages';
import { UnknownTaskError } from '../errors/unknown-task.error';
import { BulkRetryResult, RETRY_FAILED_MAX_PER_CALL, RetryFailedResult } from '../task/bulk-retry-result';
import { TaskData, TaskSource } from '../task/task-record';
import { RETRYABLE_STATUSES } from '../task/task-status';
import { AddTaskOptions } from './add-task-options';
import { TaskRuntime } from './task-runtime';

/** Candidates retry-failed replays between two yields to the event loop (about 3 ms of work). */
const RETRY_YIELD_EVERY = 100;
const MAX_REMEMBERED_RETRIES = 100_000;

/** How a replay is submitted: TaskManager.submit. */
export type SubmitTask = (
  registered: RegisteredTask,
  args: unknown[],
  options: AddTaskOptions,
  source: TaskSource,
  argsCipher: string | null,
) => string;

/**
 * Replays of failed and interrupted tasks as new records (retry, bulk retry,
 * retry-failed), and which originals were replayed, so retry-failed does not
 * replay them again.
 */
export class TaskReplays {
  private readonly replayed = new Set<string>();

  constructor(
    private readonly registry: TaskRegistry,
    private readonly runtime: TaskRuntime,
    private readonly submit: SubmitTask,
  ) {}

  /** The new record with the same args, tags and priority; throws unless the original is failed or interrupted and still registered. */
  copy(original: TaskData): TaskData {
    if (!RETRYABLE_STATUSES.includes(original.status)) {
      throw new InvalidTransitionError(original.id, 'retry', original.status, RETRYABLE_STATUSES);
    }
    const registered = this.registry.find(original.funcName);
    if (!registered) throw new UnknownTaskError(messages.unregisteredOnRetry(original.funcName), original.funcName);
    const key = original.idempotencyKey && !this.runtime.keyHolder(original.idempotencyKey) ? original.idempotencyKey : undefined;
    const options = { tags: original.tags, priority: original.priority ?? undefined, idempotencyKey: key };
    // The encrypted payload is copied at creation, so the first write of the copy already has it.
    const id = this.submit(registered, original.args, options, original.source, original.argsCipher);
    const copy = this.runtime.live(id)!;
    this.replayed.add(original.id);
    if (this.replayed.size > MAX_REMEMBERED_RETRIES) this.replayed.delete(this.replayed.values().next().value as string);
    return copy;
  }

  /** Replays each of `tasks` that can be; the rest of `requested` count as skipped. */
  all(tasks: (TaskData | null)[], requested: number): BulkRetryResult {
    const results: BulkRetryResult['results'] = [];
    for (const task of tasks) {
      if (!task) continue;
      try {
        results.push({ original_task_id: task.id, new_task_id: this.copy(task).id });
      } catch (error) {
        if (!(error instanceof InvalidTransitionError || error instanceof UnknownTaskError)) throw error;
      }
    }
    return { dispatched: results.length, skipped: requested - results.length, results };
  }

  /**
   * retry-failed over its candidates: those not replayed before, RETRY_FAILED_MAX_PER_CALL at
   * most, yielding to the event loop every RETRY_YIELD_EVERY; `remaining` counts the rest.
   */
  async failed(candidates: TaskData[]): Promise<{ result: RetryFailedResult; remaining: number }> {
    const fresh = candidates.filter((t) => !this.replayed.has(t.id));
    const results: BulkRetryResult['results'] = [];
    let tried = 0;
    // Skipped candidates (function no longer registered) do not count towards the cap, or they could block the rest forever.
    for (; tried < fresh.length && results.length < RETRY_FAILED_MAX_PER_CALL; tried++) {
      if (tried > 0 && tried % RETRY_YIELD_EVERY === 0) await new Promise(setImmediate);
      // A concurrent call may have replayed it since this one gathered its candidates.
      if (this.replayed.has(fresh[tried].id)) continue;
      const copy = this.all([fresh[tried]], 1).results[0];
      if (copy) results.push(copy);
    }
    const remaining = fresh.length - tried;
    const result: RetryFailedResult = { dispatched: results.length, skipped: tried - results.length, results };
    if (remaining > 0) result.remaining = remaining;
    return { result, remaining };
  }

  /** A deleted original is forgotten. */
  forget(id: string): void {
    this.replayed.delete(id);
  }
}
