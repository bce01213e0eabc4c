import { TaskStatus } from '../task/task-status';
import { LOG_LEVELS, TaskLifecycleEvent, TaskLogEvent, TaskLogLevel } from './task-observer';

const LEVEL_LABELS: Record<TaskLogLevel, string> = { debug: 'DEBUG', info: 'INFO', warning: 'WARN', error: 'ERROR' };

/**
 * One line per event, for files and consoles that are read with `tail -f` and `grep`:
 *
 *     2026-04-30T10:00:01.123Z INFO  [3fa85f64] EmailService.sendEmail attempt=1 Sending to x tags=source=signup
 *     2026-04-30T10:00:02.143Z SUCCESS [3fa85f64] EmailService.sendEmail attempt=1 duration=1.020s
 *
 * Newlines inside a message, error or value are written as `\n`, so one event is one line.
 */
export function formatLogLine(event: TaskLogEvent, withTimestamp = true): string {
  const head = `${LEVEL_LABELS[event.level] ?? 'INFO'}`.padEnd(5);
  const parts = [head, `[${shortId(event.taskId)}]`, oneLine(event.funcName), `attempt=${event.attempt}`, oneLine(event.message)];
  const tags = formatTags(event.tags);
  if (tags) parts.push(tags);
  if (event.extra && Object.keys(event.extra).length > 0) parts.push(`extra=${oneLine(safeJson(event.extra))}`);
  return withTimestamp ? `${stamp(event.timestamp)} ${parts.join(' ')}` : parts.join(' ');
}

export function formatLifecycleLine(event: TaskLifecycleEvent, withTimestamp = true): string {
  const parts = [event.status.toUpperCase(), `[${shortId(event.taskId)}]`, oneLine(event.funcName), `attempt=${event.attempt}`];
  if (event.duration !== null) parts.push(`duration=${event.duration.toFixed(3)}s`);
  if (event.error) parts.push(`error=${JSON.stringify(event.error)}`);
  const tags = formatTags(event.tags);
  if (tags) parts.push(tags);
  return withTimestamp ? `${stamp(event.timestamp)} ${parts.join(' ')}` : parts.join(' ');
}

/** The level a lifecycle event is filtered at: failed is an error, interrupted a warning, the rest info. */
export function lifecycleLevel(status: TaskStatus): TaskLogLevel {
  if (status === 'failed') return 'error';
  if (status === 'interrupted') return 'warning';
  return 'info';
}

/** True when `level` is at or above `minLevel`. */
export function atLeast(level: TaskLogLevel, minLevel: TaskLogLevel): boolean {
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(minLevel);
}

export function shortId(taskId: string): string {
  return String(taskId).slice(0, 8);
}

function formatTags(tags: Record<string, string> | undefined): string {
  const entries = Object.entries(tags ?? {});
  return entries.length === 0 ? '' : `tags=${entries.map(([k, v]) => `${oneLine(k)}=${oneLine(String(v))}`).join(',')}`;
}

function stamp(date: Date | undefined): string {
  const d = date instanceof Date && !Number.isNaN(date.getTime()) ? date : new Date();
  return d.toISOString();
}

function oneLine(text: string): string {
  return String(text).replace(/\r\n|\r|\n/g, '\\n');
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? '{}';
  } catch {
    return '"<unserializable>"';
  }
}

/** Checks a `minLevel` given to a built-in observer. */
export function checkLevel(owner: string, level: unknown): TaskLogLevel {
  if (typeof level === 'string' && (LOG_LEVELS as readonly string[]).includes(level)) return level as TaskLogLevel;
  throw new TypeError(`${owner}: minLevel must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
}
