import { HttpException } from '@nestjs/common';

/** Runs `fn` and checks it throws an HttpException with this status and a message matching `message`. */
export function expectHttpError(fn: () => unknown, status: number, message?: RegExp | string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(HttpException);
  const exception = thrown as HttpException;
  expect(exception.getStatus()).toBe(status);
  const body = exception.getResponse() as { statusCode: number; message: string; error: string };
  expect(body).toEqual({ statusCode: status, message: expect.any(String), error: expect.any(String) });
  if (typeof message === 'string') expect(body.message).toBe(message);
  else if (message) expect(body.message).toMatch(message);
}
