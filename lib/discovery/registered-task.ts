/** Options of a registered task with defaults applied. */
export interface TaskDefinition {
  name: string;
  retries: number;
  delay: number;
  backoff: number;
  persist: boolean;
  requeueOnInterrupt: boolean;
  eager: boolean;
  priority: number | null;
  timeout: number | null;
  executor: 'async' | 'worker';
  /** False for an error that must not be retried (see BackgroundTaskOptions.retryIf). */
  retryIf?: ((error: unknown) => boolean) | null;
  /** Tasks of this function running at once, at most (across instances on a shared database); null: no limit of its own. */
  concurrency?: number | null;
  /** Starts in any sliding window of `perSeconds`, at most; null: no rate limit. */
  rateLimit?: { max: number; perSeconds: number } | null;
  /** The rate limit's partition of a task, from its arguments; null: one window for the function. */
  rateLimitKey?: ((...args: any[]) => string) | null;
}

/** A discovered @BackgroundTask method bound to its provider instance. */
export interface RegisteredTask {
  definition: TaskDefinition;
  /** `ClassName.methodName`, for messages. */
  location: string;
  instance: object;
  method: (...args: unknown[]) => unknown;
}
