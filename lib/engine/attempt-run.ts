import { TaskLogLevel } from '../observers/task-observer';
import { TaskData } from '../task/task-record';
import type { LongTimeout } from './long-timeout';
import { AttemptContext, currentAttempt } from './task-context';

/** The execution an attempt belongs to: where its logs, progress and outcome go. */
export interface AttemptOwner {
  attemptLog(attempt: number, level: TaskLogLevel, message: string, extra: Record<string, unknown>): void;
  attemptProgress(attempt: number, fraction: number, message: string | undefined): void;
  /** The attempt's outcome, once (a late one after an interrupt is dropped before it gets here). */
  attemptEnded(run: AttemptRun, ok: boolean, value: unknown): void;
}

/**
 * One attempt in flight: its task context (what getTaskContext() returns in it), the sink its
 * logs and progress go through, its timeout and whether its outcome came. One object.
 */
export class AttemptRun extends AttemptContext {
  #owner: AttemptOwner;
  #done = false;
  #timer: LongTimeout | undefined = undefined;

  constructor(owner: AttemptOwner, task: TaskData, attempt: number) {
    super(task.id, task.funcName, attempt, task.tags);
    this.#owner = owner;
  }

  /** Whether the attempt's outcome came (settle was called). */
  get done(): boolean {
    return this.#done;
  }

  /** The attempt's timeout, cleared when its outcome comes. */
  set timer(timer: LongTimeout) {
    this.#timer = timer;
  }

  override log(level: TaskLogLevel, message: string, extra: Record<string, unknown>): void {
    this.#owner.attemptLog(this.attempt, level, message, extra);
  }

  override progress(fraction: number, message: string | undefined): void {
    this.#owner.attemptProgress(this.attempt, fraction, message);
  }

  /** The attempt's outcome: passed to its owner the first time only. */
  settle(ok: boolean, value: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#timer?.clear();
    this.#owner.attemptEnded(this, ok, value);
  }
}

/**
 * Settles `run` with what its method returned, once that settles. Called in the attempt's task
 * context (inTaskContext): a native promise's callbacks then find the attempt there, so they are
 * two functions shared by every attempt rather than two closures made per attempt.
 */
export function settleWith(run: AttemptRun, result: unknown): void {
  if (result instanceof Promise && result.constructor === Promise) {
    void result.then(fulfilled, rejected);
  } else if (result !== null && typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
    (result as PromiseLike<unknown>).then(
      (value) => run.settle(true, value),
      (error) => run.settle(false, error),
    );
  } else {
    soon(() => run.settle(true, result));
  }
}

function fulfilled(value: unknown): void {
  (currentAttempt() as AttemptRun).settle(true, value);
}

function rejected(error: unknown): void {
  (currentAttempt() as AttemptRun).settle(false, error);
}

/**
 * Runs `fn` on a microtask of the promise queue (not queueMicrotask, which fake timers
 * replace: an attempt's outcome must come as an awaited promise's would).
 */
export function soon(fn: () => void): void {
  void Promise.resolve().then(fn);
}
