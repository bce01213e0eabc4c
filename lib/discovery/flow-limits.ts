import { BackgroundTaskOptions } from '../decorators/background-task.decorator';
import { TaskDefinition } from './registered-task';

/** Longest rate window: a day (the window of one start is kept in memory and in the database). */
export const MAX_RATE_WINDOW_SECONDS = 86_400;
/** Most starts per window: each is a slot row per key in a shared database. */
export const MAX_RATE_STARTS = 10_000;
/** Largest concurrency: each unit is a slot row in a shared database. */
export const MAX_CONCURRENCY = 10_000;

/**
 * The flow-control options of @BackgroundTask (`concurrency`, `rateLimit`, `rateLimitKey`),
 * checked; `fail(option, allowed)` throws the startup error naming class and method.
 */
export function toFlowLimits(
  options: BackgroundTaskOptions,
  fail: (option: string, allowed: string) => never,
): Pick<TaskDefinition, 'concurrency' | 'rateLimit' | 'rateLimitKey'> {
  const { concurrency, rateLimit, rateLimitKey } = options;
  if (
    concurrency !== undefined &&
    (typeof concurrency !== 'number' || !Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY)
  ) {
    fail('concurrency', `an integer from 1 to ${MAX_CONCURRENCY}`);
  }
  if (rateLimit !== undefined) {
    const { max, perSeconds } = (rateLimit ?? {}) as { max?: unknown; perSeconds?: unknown };
    const maxOk = typeof max === 'number' && Number.isInteger(max) && max >= 1 && max <= MAX_RATE_STARTS;
    const windowOk = typeof perSeconds === 'number' && Number.isFinite(perSeconds) && perSeconds > 0 && perSeconds <= MAX_RATE_WINDOW_SECONDS;
    if (rateLimit === null || typeof rateLimit !== 'object' || !maxOk || !windowOk) {
      fail(
        'rateLimit',
        `{ max, perSeconds }: max an integer from 1 to ${MAX_RATE_STARTS}, perSeconds a number of seconds > 0 and <= ${MAX_RATE_WINDOW_SECONDS}`,
      );
    }
  }
  if (rateLimitKey !== undefined) {
    if (typeof rateLimitKey !== 'function') fail('rateLimitKey', 'a function (...args) => string');
    if (rateLimit === undefined) fail('rateLimitKey', 'given with rateLimit (it partitions the rate limit)');
  }
  return {
    concurrency: concurrency ?? null,
    rateLimit: rateLimit ? { max: rateLimit.max, perSeconds: rateLimit.perSeconds } : null,
    rateLimitKey: rateLimitKey ?? null,
  };
}
