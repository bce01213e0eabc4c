/** A database call that did not answer in time: the package treats it as an outage, like a refused connection. */
export class QueryTimeoutError extends Error {
  override readonly name = 'QueryTimeoutError';

  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`${what} did not answer within ${timeoutMs} ms`);
  }
}

/**
 * Settles like `work`, or rejects with a QueryTimeoutError after `timeoutMs`. The work
 * goes on in the background (its outcome is dropped): a caller that stops waiting must
 * also see to what the work holds, a pooled connection say.
 */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      work.catch(() => undefined);
      reject(new QueryTimeoutError(what, timeoutMs));
    }, timeoutMs);
    timer.unref?.();
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
