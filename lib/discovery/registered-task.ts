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
}

/** A discovered @BackgroundTask method bound to its provider instance. */
export interface RegisteredTask {
  definition: TaskDefinition;
  /** `ClassName.methodName`, for messages. */
  location: string;
  instance: object;
  method: (...args: unknown[]) => unknown;
}
