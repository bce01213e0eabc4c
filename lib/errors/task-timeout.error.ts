import { messages } from './messages';

/** One attempt ran past the task's `timeout`; the attempt may be retried. */
export class TaskTimeoutError extends Error {
  override readonly name = 'TaskTimeoutError';
  constructor(readonly seconds: number) {
    super(messages.timeout(seconds));
  }
}
