/**
 * Thrown by a task to end it `failed` at once, without its remaining retries: for a
 * failure that another attempt would only repeat (bad input, a missing record).
 * `cause` keeps the underlying error, if any.
 */
export class NonRetryableError extends Error {
  override readonly name: string = 'NonRetryableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
