import type { EntityManager } from 'typeorm';

/** Per-call options of `TaskManager.addTask`. */
export interface AddTaskOptions {
  /** String tags shown in the dashboard and filterable (`tag=key:value`). */
  tags?: Record<string, string>;
  /** While a task with this key is pending, running or succeeded, its id is returned instead. */
  idempotencyKey?: string;
  /** Overrides the decorator's priority: higher starts first among waiting tasks. */
  priority?: number;
  /** Start at once, even inside a request handled by TaskflowInterceptor. */
  eager?: boolean;
  /**
   * Seconds to wait before the task may start: it stays `pending`, with `run_at` set,
   * until then. Not with `runAt`. (The decorator's `delay` is the wait between retries.)
   */
  delay?: number;
  /** The time before which the task does not start; a time already past means now. Not with `delay`. */
  runAt?: Date;
}

/** addTask's options when none are given: one shared object, not one per call (nothing writes to them). */
export const NO_ADD_TASK_OPTIONS: AddTaskOptions = Object.freeze({});

/** addTask's arguments when none are given: one shared empty array, not one per call (nothing writes to a task's args). */
export const NO_ARGS: unknown[] = Object.freeze([]) as unknown as unknown[];

/** Who performed an admin action, for the audit log. */
export interface ActorOptions {
  actor?: string;
  /** The actor's role (`viewer`, `operator`, `admin`), recorded in the entry's `detail.role`. */
  role?: string;
}

/**
 * `args` typed against the method's parameters; optional when it takes none.
 */
export type TaskArgs<F> = F extends (...args: infer P) => unknown ? P : never;

/** Per-call options of `TaskManager.enqueue`: those of addTask, plus the application's transaction. */
export interface EnqueueOptions extends AddTaskOptions {
  /**
   * The EntityManager of an open transaction on the package's own database (the
   * DataSource given as `database`): the task's row is written through it, the task
   * starts only once that transaction commits and never exists if it rolls back.
   */
  transaction?: EntityManager;
}
