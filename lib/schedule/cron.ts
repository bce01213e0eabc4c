import { createRequire } from 'node:module';
import type * as Cron from 'cron';

let loaded: typeof Cron | null = null;

/**
 * The `cron` package that @nestjs/schedule ships (and uses for its own CronJobs).
 * Required by name first (npm hoists it next to us); with a strict layout such as
 * pnpm's, it is resolved from @nestjs/schedule's own dependencies instead, so this
 * package needs no dependency of its own and always uses the same copy.
 */
export function cronPackage(): typeof Cron {
  if (loaded) return loaded;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('cron') as typeof Cron;
  } catch {
    loaded = createRequire(require.resolve('@nestjs/schedule'))('cron') as typeof Cron;
  }
  return loaded;
}

export type CronJob = Cron.CronJob;

/** Why a 5-field expression or a timezone is refused, or null when both are fine. */
export function cronProblem(expression: string, timezone: string): { field: 'cron' | 'timezone'; reason: string } | null {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 || expression.trim().startsWith('@')) {
    return { field: 'cron', reason: `expected 5 fields, got ${expression.trim().startsWith('@') ? 'an alias' : fields.length}` };
  }
  const { CronTime } = cronPackage();
  try {
    new CronTime('0 0 * * *', timezone);
  } catch {
    return { field: 'timezone', reason: 'unknown timezone' };
  }
  try {
    new CronTime(expression, timezone);
  } catch (error) {
    return { field: 'cron', reason: error instanceof Error ? error.message : String(error) };
  }
  return null;
}

/** The first slot of `expression` in `timezone` strictly after `after` (epoch ms), DST-aware. */
export function nextCronSlot(expression: string, timezone: string, after: number): number {
  const { CronTime } = cronPackage();
  return new CronTime(expression, timezone).getNextDateFrom(new Date(after), timezone).toMillis();
}
