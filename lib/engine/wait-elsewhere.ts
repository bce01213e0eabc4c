import { TaskNotFoundError } from '../errors/task-not-found.error';
import { TaskData, TaskRecord } from '../task/task-record';
import { isTerminal } from '../task/task-status';

/** How often `waitFor` reads a task that another instance holds (or the shared pool). */
export const WAIT_ELSEWHERE_POLL_MS = 500;

export interface WaitElsewhereDeps {
  /** The task as stored now (this instance's live record first). */
  find(id: string): Promise<TaskData | null>;
  /** True when this instance runs the task (it claimed it meanwhile): its own waiters then serve. */
  isLive(task: TaskData): boolean;
  waitHere(id: string): Promise<TaskRecord>;
  present(task: TaskData): TaskRecord;
}

/**
 * Waits for a task this instance does not run: another replica runs it, or it waits in
 * the shared pool. The database is the truth on every backend (a change feed may be
 * silent, e.g. behind PgBouncer), so its row is read every WAIT_ELSEWHERE_POLL_MS until
 * it is terminal; a task claimed here meanwhile is waited for locally. Rejects with
 * TaskNotFoundError if the row goes (deleted from the history).
 */
export async function waitElsewhere(id: string, deps: WaitElsewhereDeps, pollMs = WAIT_ELSEWHERE_POLL_MS): Promise<TaskRecord> {
  for (;;) {
    // unref: a waiter alone does not keep the process alive.
    await new Promise<void>((resolve) => setTimeout(resolve, pollMs).unref());
    const task = await deps.find(id);
    if (!task) throw new TaskNotFoundError(id);
    if (deps.isLive(task)) return deps.waitHere(id);
    if (isTerminal(task.status)) return deps.present(task);
  }
}
