import { SetMetadata } from '@nestjs/common';
import { BACKGROUND_TASK_METADATA } from '../constants';

export interface BackgroundTaskOptions {
  /** Registered name, the task's `func_name` everywhere. Default `ClassName.methodName`. */
  name?: string;
  /** Extra attempts after a failure. Default 0. */
  retries?: number;
  /** Seconds before the first retry. Default 0. */
  delay?: number;
  /** Multiplier of the delay for each further retry. Default 1. */
  backoff?: number;
  /** Survive restarts even when `requeuePending` is off. Default false. */
  persist?: boolean;
  /** Run again after a crash or shutdown caught it running (else it becomes `interrupted`). Default false. */
  requeueOnInterrupt?: boolean;
  /** Start at once, even inside a request handled by TaskflowInterceptor. Default false. */
  eager?: boolean;
  /** Higher starts first among tasks waiting for a slot. Default none. */
  priority?: number;
  /** Seconds per attempt; a timed-out attempt fails and may be retried. Default none. */
  timeout?: number;
  /**
   * Where each attempt runs: `'async'` on the event loop (default), or `'worker'` on a thread of the
   * `workers` pool, for CPU-bound work. Arguments and results of a worker task must survive structured clone.
   */
  executor?: 'async' | 'worker';
  /**
   * Called with the error of a failed attempt that has retries left: false ends the
   * task `failed` at once (as a thrown NonRetryableError does). Default: always retry.
   */
  retryIf?: (error: unknown) => boolean;
  /**
   * At most this many of its tasks run at once (an integer >= 1), across every instance
   * on a shared database. Default none: only `maxConcurrentTasks` applies.
   */
  concurrency?: number;
  /**
   * At most `max` of its tasks start in any `perSeconds`-long sliding window, across every
   * instance on a shared database. Tasks over the limit stay pending. Default none.
   */
  rateLimit?: { max: number; perSeconds: number };
  /**
   * Partitions `rateLimit`: each key the task's arguments map to has a window of its own
   * (per tenant, per API account). Called with the task's arguments; must return a string.
   */
  rateLimitKey?: (...args: any[]) => string;
}

/**
 * Marks a provider method as a background task, so `TaskManager.addTask(this.svc.method, args)`
 * can run it with retries, tracking and persistence. Calling the method directly still runs it in place.
 */
export function BackgroundTask(options: BackgroundTaskOptions = {}): MethodDecorator {
  return SetMetadata(BACKGROUND_TASK_METADATA, options);
}
