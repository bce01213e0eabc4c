import { RegisteredTask } from '../discovery/registered-task';
import { AttemptContext, AttemptSink } from './task-context';

/**
 * Where one attempt of a task runs. TaskExecution owns attempts, retries, timeouts and
 * cancellation; an executor only starts the method and reports what it returns.
 */
export interface TaskExecutor {
  /**
   * Starts one attempt and returns its result or a promise of it. Called in the attempt's task
   * context (getTaskContext() is `context`). Logs and progress go to `sink`; when `context` is
   * aborted (cancel, timeout, shutdown) the attempt must end.
   */
  run(registered: RegisteredTask, args: unknown[], context: AttemptContext, sink: AttemptSink): unknown;
  /** Refuses, at addTask, arguments this executor cannot carry (throws naming the path). */
  checkArgs?(funcName: string, args: unknown[]): void;
}

/** DI token of the worker-thread executor (absent when the manager runs no worker task). */
export const WORKER_EXECUTOR = Symbol('TASKFLOW_WORKER_EXECUTOR');

/**
 * Runs the method on the event loop. TaskExecution calls every executor in the attempt's task
 * context (`context` is the AsyncLocalStorage store already), so this is the call alone.
 */
export const asyncExecutor: TaskExecutor = {
  run: (registered, args) => registered.method.apply(registered.instance, args),
};
