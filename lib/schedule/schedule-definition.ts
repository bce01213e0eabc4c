import { ScheduledTaskOptions, SCHEDULE_ONLY_OPTIONS } from '../decorators/scheduled-task.decorator';
import { TaskDefinitionError } from '../errors/task-definition.error';
import { describeValue, messages } from '../errors/messages';
import { cronProblem, nextCronSlot } from './cron';

/** When a schedule fires. */
export type ScheduleTrigger = { kind: 'every'; seconds: number } | { kind: 'cron'; expression: string; timezone: string };

/** A validated @ScheduledTask, with defaults applied. */
export interface ScheduleDefinition {
  /** The registered task name (`ClassName.methodName` unless `name` is given). */
  name: string;
  /** `ClassName.methodName`, for messages. */
  location: string;
  trigger: ScheduleTrigger;
  runOnStartup: boolean;
  overlap: boolean;
}

/** Shortest `every`: a slot is a database lease and a task record, so sub-second schedules are refused. */
export const MIN_EVERY_SECONDS = 1;
/** Longest `every`: Node timers hold at most 2^31-1 ms (about 24.8 days); use cron beyond. */
export const MAX_EVERY_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

const BACKGROUND_OPTIONS = ['name', 'retries', 'delay', 'backoff', 'persist', 'requeueOnInterrupt', 'priority', 'timeout'];

/** Applies defaults and rejects a bad schedule at startup, naming class and method. */
export function toScheduleDefinition(options: ScheduledTaskOptions, location: string): ScheduleDefinition {
  const given = (options ?? {}) as Record<string, unknown>;
  const fail = (option: string, allowed: string): never => {
    throw new TaskDefinitionError(messages.scheduleOption(location, option, allowed, describeValue(given[option])));
  };
  for (const key of Object.keys(given)) {
    if (!SCHEDULE_ONLY_OPTIONS.includes(key) && !BACKGROUND_OPTIONS.includes(key)) {
      fail(key, `left out: it is not an option (known: ${[...SCHEDULE_ONLY_OPTIONS, ...BACKGROUND_OPTIONS].join(', ')})`);
    }
  }
  const { every, cron, timezone } = options ?? {};
  if ((every === undefined) === (cron === undefined)) throw new TaskDefinitionError(messages.scheduleTrigger(location));
  for (const flag of ['runOnStartup', 'overlap'] as const) {
    if (given[flag] !== undefined && typeof given[flag] !== 'boolean') fail(flag, 'true or false');
  }
  let trigger: ScheduleTrigger;
  if (every !== undefined) {
    if (typeof every !== 'number' || !Number.isFinite(every) || every < MIN_EVERY_SECONDS || every > MAX_EVERY_SECONDS) {
      fail('every', `a number of seconds from ${MIN_EVERY_SECONDS} to ${MAX_EVERY_SECONDS} (about 24 days; use cron for longer periods)`);
    }
    if (timezone !== undefined) fail('timezone', 'left out with "every" (it applies to cron only)');
    trigger = { kind: 'every', seconds: every as number };
  } else {
    if (typeof cron !== 'string' || cron.trim() === '') fail('cron', "a 5-field cron expression such as '0 9 * * *'");
    if (timezone !== undefined && (typeof timezone !== 'string' || timezone.trim() === ''))
      fail('timezone', "an IANA timezone such as 'Europe/Paris'");
    const expression = (cron as string).trim().replace(/\s+/g, ' ');
    const zone = (timezone as string | undefined)?.trim() ?? 'UTC';
    const problem = cronProblem(expression, zone);
    if (problem?.field === 'timezone') throw new TaskDefinitionError(messages.scheduleTimezone(location, zone));
    if (problem) throw new TaskDefinitionError(messages.scheduleCron(location, expression, problem.reason));
    trigger = { kind: 'cron', expression, timezone: zone };
  }
  return {
    name: (given.name as string | undefined) ?? location,
    location,
    trigger,
    runOnStartup: (given.runOnStartup as boolean | undefined) ?? false,
    overlap: (given.overlap as boolean | undefined) ?? false,
  };
}

/** `every 30s`, `cron 0 9 * * * (Europe/Paris)`: the `trigger` of GET {path}/schedules. */
export function describeTrigger(trigger: ScheduleTrigger): string {
  return trigger.kind === 'every' ? `every ${trigger.seconds}s` : `cron ${trigger.expression} (${trigger.timezone})`;
}

/** The first slot strictly after `after` (epoch ms). Interval slots are multiples of the period since the epoch. */
export function nextSlot(trigger: ScheduleTrigger, after: number): number {
  if (trigger.kind === 'cron') return nextCronSlot(trigger.expression, trigger.timezone, after);
  const ms = intervalMs(trigger.seconds);
  return (Math.floor(after / ms) + 1) * ms;
}

/** The period of an `every` schedule in whole milliseconds. */
export function intervalMs(seconds: number): number {
  return Math.round(seconds * 1000);
}

/** Roughly the time between two slots (seconds), for lease lifetimes and retry windows. */
export function periodSeconds(trigger: ScheduleTrigger, now: number): number {
  if (trigger.kind === 'every') return trigger.seconds;
  const first = nextSlot(trigger, now);
  return Math.max(60, (nextSlot(trigger, first) - first) / 1000);
}
