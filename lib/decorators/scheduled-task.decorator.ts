import { BACKGROUND_TASK_METADATA, SCHEDULED_TASK_METADATA } from '../constants';
import { BackgroundTaskOptions } from './background-task.decorator';

export interface ScheduledTaskOptions extends Omit<BackgroundTaskOptions, 'eager'> {
  /** Fire every this many seconds (at least 1), on slots aligned to the epoch. Exclusive with `cron`. */
  every?: number;
  /** A 5-field cron expression (minute hour day-of-month month day-of-week). Exclusive with `every`. */
  cron?: string;
  /** IANA timezone the cron expression is read in (DST-aware). Default 'UTC'. Only with `cron`. */
  timezone?: string;
  /** Also fire once when the application starts. Default false. */
  runOnStartup?: boolean;
  /** Fire even while the previous run is still pending or running. Default false (that slot is skipped). */
  overlap?: boolean;
}

/** Options of the schedule itself; the others are those of @BackgroundTask. */
export const SCHEDULE_ONLY_OPTIONS: readonly string[] = ['every', 'cron', 'timezone', 'runOnStartup', 'overlap'];

/** What @ScheduledTask stores on the method; read by the schedule explorer. */
export interface ScheduledTaskMetadata {
  options: ScheduledTaskOptions;
  /** The @BackgroundTask options it stored too (the method is a registered task). */
  background: BackgroundTaskOptions;
  /** @BackgroundTask was already on the method when @ScheduledTask was applied. */
  alsoBackgroundTask: boolean;
}

/**
 * Fires a provider method on a schedule; every firing is a task record with
 * `source: "scheduled"`. The method is also a registered background task, so
 * `addTask(this.svc.method)` still enqueues it by hand (source "manual").
 *
 * ```ts
 * @ScheduledTask({ cron: '0 9 * * 1-5', timezone: 'Europe/Paris', retries: 2 })
 * async morningReport(): Promise<void> { ... }
 * ```
 */
export function ScheduledTask(options: ScheduledTaskOptions): MethodDecorator {
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const given: Record<string, unknown> = { ...(options ?? {}) };
    const background = Object.fromEntries(Object.entries(given).filter(([key]) => !SCHEDULE_ONLY_OPTIONS.includes(key)));
    const metadata: ScheduledTaskMetadata = {
      options: given as ScheduledTaskOptions,
      background: background as BackgroundTaskOptions,
      alsoBackgroundTask: Reflect.getMetadata(BACKGROUND_TASK_METADATA, method) !== undefined,
    };
    Reflect.defineMetadata(BACKGROUND_TASK_METADATA, background, method);
    Reflect.defineMetadata(SCHEDULED_TASK_METADATA, metadata, method);
    return descriptor;
  };
}
