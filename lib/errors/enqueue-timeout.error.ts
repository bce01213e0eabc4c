import { messages } from './messages';

/**
 * `enqueue()` could not commit the task's row within `enqueueTimeout` (the database
 * is unreachable or too slow). No task was created: there is no record, and none runs.
 */
export class EnqueueTimeoutError extends Error {
  override readonly name = 'EnqueueTimeoutError';
  constructor(
    readonly funcName: string,
    readonly seconds: number,
    /** The last database error seen meanwhile, if any. */
    override readonly cause?: unknown,
  ) {
    super(messages.enqueueTimeout(funcName, seconds, cause instanceof Error ? `${cause.name}: ${cause.message}` : null));
  }
}
