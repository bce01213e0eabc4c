import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../constants';
import { LOG_LEVELS, TaskLogLevel } from '../observers/task-observer';
import { NO_TAGS } from '../task/task-record';

/** What `getTaskContext()` returns inside a running task. */
export interface TaskContext {
  readonly taskId: string;
  readonly funcName: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly tags: Readonly<Record<string, string>>;
  /** Aborted when the task is cancelled or the attempt times out. */
  readonly signal: AbortSignal;
}

/**
 * The context of one attempt, and the task context's store itself (getTaskContext() returns
 * it): one object per attempt rather than a context, a sink and a record of the two. A class
 * rather than an object literal: a literal with a getter is built on V8's slow path (a runtime
 * call per accessor), and this runs for every attempt of every task. Its logs and progress go
 * to its sink (the engine's attempts, AttemptRun, override `log` and `progress`); what else it
 * holds is in private fields, so the object a task sees has only TaskContext's own keys.
 */
export class AttemptContext implements TaskContext, AttemptSink {
  readonly tags: Readonly<Record<string, string>>;
  #controller: AbortController | null = null;
  #abortedWith: unknown;
  #sink: AttemptSink | null = null;

  constructor(
    readonly taskId: string,
    readonly funcName: string,
    readonly attempt: number,
    tags: Record<string, string>,
  ) {
    this.tags = frozenCopy(tags);
  }

  /** Made on first read: most tasks never read it. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#abortedWith !== undefined) this.#controller.abort(this.#abortedWith);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    this.#abortedWith = reason;
    this.#controller?.abort(reason);
  }

  log(level: TaskLogLevel, message: string, extra: Record<string, unknown>): void {
    this.#sink?.log(level, message, extra);
  }

  progress(fraction: number, message: string | undefined): void {
    this.#sink?.progress(fraction, message);
  }

  /** Sends the logs and progress of `context` to `sink` (a worker thread's side of an attempt). */
  static useSink(context: AttemptContext, sink: AttemptSink): void {
    context.#sink = sink;
  }
}

/** A frozen copy of the tags; most tasks have none and share one empty object. */
function frozenCopy(tags: Record<string, string>): Readonly<Record<string, string>> {
  if (tags === NO_TAGS) return NO_TAGS; // the usual case, without a for-in
  for (const _ in tags) return Object.freeze({ ...tags });
  return NO_TAGS;
}

/** The engine side of a running attempt: where logs and progress go. */
export interface AttemptSink {
  log(level: TaskLogLevel, message: string, extra: Record<string, unknown>): void;
  progress(fraction: number, message: string | undefined): void;
}

const storage = new AsyncLocalStorage<AttemptContext>();
const fallbackLogger = new Logger(LOGGER_CONTEXT);

/**
 * Calls the task's method with `args` in the task context, available to everything it calls
 * and awaits, its logs and progress going to `sink` (a worker thread's side of an attempt; the
 * engine's own attempts enter theirs through inTaskContext).
 */
export function callInTaskContext(
  context: AttemptContext,
  sink: AttemptSink,
  method: (...args: unknown[]) => unknown,
  instance: unknown,
  args: unknown[],
): unknown {
  AttemptContext.useSink(context, sink);
  return storage.run(context, applyMethod, method, instance, args);
}

function applyMethod(method: (...args: unknown[]) => unknown, instance: unknown, args: unknown[]): unknown {
  return method.apply(instance, args);
}

/**
 * Calls `fn(context, arg)` with `context` as the task context: what it calls and awaits sees
 * it, and so do the callbacks of a `then` it attaches (currentAttempt() there is `context`).
 */
export function inTaskContext<C extends AttemptContext, A, R>(context: C, fn: (context: C, arg: A) => R, arg: A): R {
  return storage.run(context, fn, context, arg);
}

/**
 * Turns the task context's AsyncLocalStorage on now rather than at the first attempt: call it
 * before making the first object that AsyncLocalStorage values are copied onto (a task's caller
 * context, caller-context.ts). V8 sizes a class's objects by the properties its first few
 * instances got; an object made before this storage was on gets its slot later, out of line
 * (one more allocation of 40 B on each of the many made afterwards).
 */
export function enableTaskContext(): void {
  // Outside any attempt (none has run yet, or the storage would be on): the store stays undefined.
  if (storage.getStore() === undefined) storage.enterWith(undefined as unknown as AttemptContext);
}

/** The attempt whose task context this code runs in, if any. */
export function currentAttempt(): AttemptContext | undefined {
  return storage.getStore();
}

/** The running task's context, or undefined outside a task. */
export function getTaskContext(): TaskContext | undefined {
  return storage.getStore();
}

export interface TaskLogOptions {
  level?: TaskLogLevel;
  [extra: string]: unknown;
}

/**
 * Appends `"YYYY-MM-DDTHH:MM:SS message"` (UTC) to the running task's logs and tells observers;
 * outside a task it goes to Nest's Logger.
 */
export function taskLog(message: string, options: TaskLogOptions = {}): void {
  const { level = 'info', ...extra } = options;
  const safeLevel: TaskLogLevel = LOG_LEVELS.includes(level) ? level : 'info';
  const text = String(message);
  const context = storage.getStore();
  if (context) {
    context.log(safeLevel, text, extra);
    return;
  }
  logOutsideTask(safeLevel, text);
}

/**
 * A line with no running attempt to take it: to Nest's logger. Also a stopped attempt's
 * late line, and one written by code the engine runs in a finished attempt's context (an
 * observer of its end): dropped, it was lost.
 */
export function logOutsideTask(safeLevel: TaskLogLevel, text: string): void {
  switch (safeLevel) {
    case 'debug':
      fallbackLogger.debug(text);
      break;
    case 'warning':
      fallbackLogger.warn(text);
      break;
    case 'error':
      fallbackLogger.error(text);
      break;
    default:
      fallbackLogger.log(text);
  }
}

/** Sets the running task's `progress` (0..1); the optional message is logged too. No-op outside a task. */
export function reportProgress(fraction: number, message?: string): void {
  if (typeof fraction !== 'number' || Number.isNaN(fraction)) {
    throw new RangeError('reportProgress: fraction must be a number between 0 and 1');
  }
  storage.getStore()?.progress(Math.min(1, Math.max(0, fraction)), message);
}

/** `2026-04-30T10:00:01` for log lines (UTC, second precision). */
export function logTimestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}
