import { RegisteredTask } from '../discovery/registered-task';
import type { StoreEntry } from '../storage/memory-task.store';
import { TaskTimeoutError } from '../errors/task-timeout.error';
import { TaskLogLevel } from '../observers/task-observer';
import { capResult, TaskAttempt } from '../task/task-attempt';
import { TaskData } from '../task/task-record';
import { closeAttempt, mayRetry, openAttempt } from './attempt-history';
import { AttemptOutcome, AttemptSpan, AttemptTracer } from './attempt-tracer';
import { DETACHED, TaskOrigin } from './caller-context';
import { formatError } from './format-error';
import { AttemptOwner, AttemptRun, settleWith, soon } from './attempt-run';
import { setLongTimeout } from './long-timeout';
import { inTaskContext, logOutsideTask } from './task-context';
import { TaskExecutor, asyncExecutor } from './task-executor';

/** reportProgress() changes of one task are announced at most this often (a value of 1 at once). */
export const PROGRESS_INTERVAL_MS = 100;

/** What an execution reports back to the manager. */
export interface ExecutionHooks {
  /** The record changed (status, logs, progress, retries). */
  changed(task: TaskData): void;
  /** The record reached a terminal status through this execution (`entry`: its storeEntry). */
  settled(task: TaskData, attempt: number, entry: StoreEntry | undefined): void;
  log(task: TaskData, level: TaskLogLevel, message: string, extra: Record<string, unknown>, attempt: number): void;
  retryLine(task: TaskData, attempt: number): void;
}

/**
 * Runs one task: attempts, back-off between them, per-attempt timeout, and
 * cancellation that aborts the running attempt or the back-off wait at once.
 */
export class TaskExecution implements AttemptOwner {
  /** The attempt in flight (null between attempts): what `interrupt` ends, its task context. */
  private running: AttemptRun | null = null;
  private wakeUp: (() => void) | null = null;
  private stopped = false;
  /**
   * Progress throttle: when the last change was announced (0: never, a small integer
   * rather than a boxed -Infinity per execution), and the timer of a held-back one.
   */
  private progressShownAt = 0;
  private progressTimer: NodeJS.Timeout | null = null;
  /** The history entry of the attempt running now. */
  private currentAttempt: TaskAttempt | null = null;
  /** The span of the attempt running now, when it is traced. */
  private span: AttemptSpan | null = null;
  /** Called once when the execution is over (start's callback). */
  private ended: ((error: unknown, execution: TaskExecution) => void) | null = null;
  attempt = 0;
  /** The task's entry in the memory store, set by the runtime and handed back when it settles. */
  storeEntry: StoreEntry | undefined = undefined;
  /** Set by the runtime once it no longer counts this execution as running (it ended, or was cancelled, interrupted or released). */
  detached = false;

  /**
   * `origin`: the async context of the call that created the task, in which every attempt
   * runs (null: none, the attempts run detached from whatever started them).
   */
  constructor(
    readonly task: TaskData,
    private readonly registered: RegisteredTask,
    private readonly args: unknown[],
    private readonly hooks: ExecutionHooks,
    private readonly executor: TaskExecutor = asyncExecutor,
    private readonly origin: TaskOrigin | null = null,
    private readonly tracer: AttemptTracer | null = null,
  ) {}

  /** Stops the execution: the current attempt's signal is aborted, no further attempt starts. */
  stop(reason: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.clearProgressTimer();
    // Before the caller settles the task: its terminal write carries the ended attempt.
    closeAttempt(this.currentAttempt, formatError(reason).text);
    this.interrupt(reason);
    this.wakeUp?.();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Runs the attempts; resolves once the execution has ended (see `start`). */
  run(): Promise<void> {
    return new Promise((resolve, reject) => this.start((error) => (error === undefined ? resolve() : reject(error))));
  }

  /**
   * Runs the attempts and calls `ended` once the execution is over (with what a hook
   * threw, if one did, and this execution: one callback can serve every execution, so
   * none is made per task). Callbacks, not an async loop: an attempt that settles at
   * once costs no promise of the engine's own beyond the one its result is read through.
   */
  start(ended: (error: unknown, execution: TaskExecution) => void): void {
    this.ended = ended;
    this.next(1);
  }

  /** Attempt `attempt`, after its back-off for a retry. */
  private next(attempt: number): void {
    if (attempt === 1) return this.begin(1);
    const { delay, backoff } = this.registered.definition;
    this.wait(delay * Math.pow(backoff, attempt - 2) * 1000, () => {
      if (this.stopped) return this.end();
      try {
        this.task.retriesUsed = attempt - 1;
        this.hooks.retryLine(this.task, attempt - 1);
        this.begin(attempt);
      } catch (error) {
        this.end(error);
      }
    });
  }

  private begin(attempt: number): void {
    this.attempt = attempt;
    // The first attempt starts when the task does: no second clock read.
    const startTime = this.task.startTime;
    this.currentAttempt = openAttempt(this.task, attempt === 1 && startTime !== null ? startTime : Date.now());
    this.runAttempt(attempt);
  }

  /** The attempt's outcome (once per attempt: AttemptRun.settle drops a late one after an interrupt). */
  attemptEnded(run: AttemptRun, ok: boolean, value: unknown): void {
    this.running = null;
    try {
      this.afterAttempt(run.attempt, ok, value);
    } catch (error) {
      this.end(error);
    }
  }

  private afterAttempt(attempt: number, ok: boolean, value: unknown): void {
    if (this.stopped) {
      // Stopped by the runtime, which has set the status by now (pending: handed back at shutdown).
      this.endSpan(this.task.status === 'cancelled' ? 'cancelled' : 'interrupted', undefined);
      return this.end();
    }
    // The attempt and, when it is the last, the task end at the same instant (one clock read).
    const now = Date.now();
    if (ok) {
      closeAttempt(this.currentAttempt, null, now);
      this.task.result = capResult(value);
      this.endSpan('success', undefined);
      this.finish('success', null, now);
      return this.end();
    }
    const { text, stack } = formatError(value);
    closeAttempt(this.currentAttempt, text, now);
    this.task.error = text;
    this.task.stacktrace = stack;
    if (attempt === this.registered.definition.retries + 1 || !mayRetry(this.registered.definition, value)) {
      this.endSpan('failed', value);
      this.finish('failed', text, now);
      return this.end();
    }
    this.endSpan('retrying', value);
    this.hooks.changed(this.task);
    this.next(attempt + 1);
  }

  private end(error?: unknown): void {
    const ended = this.ended;
    this.ended = null;
    ended?.(error, this);
  }

  private finish(status: 'success' | 'failed', error: string | null, now: number): void {
    this.stopped = true;
    // The terminal change carries the latest progress, held back or not.
    this.clearProgressTimer();
    this.task.status = status;
    this.task.endTime = now;
    if (status === 'success') {
      this.task.error = null;
      this.task.stacktrace = null;
      // A task that reported progress ends complete; one that never did keeps null.
      if (this.task.progress !== null) this.task.progress = 1;
    } else {
      this.task.error = error;
    }
    this.hooks.settled(this.task, this.attempt, this.storeEntry);
  }

  /**
   * One attempt. The AbortController is made only when the task reads its signal
   * (most never do), and a cancel or the timeout ends the attempt directly: no
   * listener or race per attempt on the hot path.
   */
  private runAttempt(attempt: number): void {
    const { timeout } = this.registered.definition;
    const run = new AttemptRun(this, this.task, attempt);
    this.running = run;
    if (timeout !== null) run.timer = setLongTimeout(() => this.interrupt(new TaskTimeoutError(timeout)), timeout * 1000);
    try {
      const scope = this.origin?.context ?? DETACHED;
      if (this.tracer === null || this.tracer.isRecording?.() === false) scope.runInAsyncScope(inTaskContext, null, run, enterAttempt, this);
      else scope.runInAsyncScope(() => this.traced(attempt, () => inTaskContext(run, enterAttempt, this)));
    } catch (error) {
      soon(() => run.settle(false, error));
    }
  }

  /** The attempt's call of its executor, in its task context (enterAttempt); its outcome settles `run`. */
  callExecutor(run: AttemptRun): void {
    settleWith(run, this.executor.run(this.registered, this.args, run, run));
  }

  /**
   * Ends the attempt in flight at once (cancel, shutdown, timeout), aborting its signal.
   * A method over the current attempt, not a closure made per attempt.
   */
  private interrupt(reason: unknown): void {
    const run = this.running;
    if (!run) return;
    run.abort(reason);
    // After the caller's own change (cancel sets the status once this returns), as an await would.
    soon(() => run.settle(false, reason));
  }

  /** The sink's side of an attempt: its logs and progress, unless the execution has stopped. */
  attemptLog(attempt: number, level: TaskLogLevel, message: string, extra: Record<string, unknown>): void {
    if (!this.stopped) this.hooks.log(this.task, level, message, extra, attempt);
    else logOutsideTask(level, message);
  }

  attemptProgress(attempt: number, fraction: number, message: string | undefined): void {
    if (this.stopped) return;
    this.task.progress = fraction;
    if (message) {
      this.progressShown();
      this.hooks.log(this.task, 'info', message, { progress: fraction }, attempt);
    } else {
      this.progressChanged(fraction);
    }
  }

  /** Runs `call` in a span of this attempt, when the tracer records one. Called in the origin's context: the span's parent is there. */
  private traced(attempt: number, call: () => unknown): unknown {
    this.span = this.tracer!.begin(this.task, attempt, this.origin?.trace);
    return this.span ? this.span.run(call) : call();
  }

  private endSpan(outcome: AttemptOutcome, error: unknown): void {
    const span = this.span;
    this.span = null;
    span?.end(outcome, error);
  }

  /**
   * Throttles change events of reportProgress() without a message: at most one per
   * PROGRESS_INTERVAL_MS, a value of 1 at once, and a held-back value is announced
   * when the interval ends (the record always holds the latest value).
   */
  private progressChanged(fraction: number): void {
    const wait = this.progressShownAt + PROGRESS_INTERVAL_MS - Date.now();
    if (fraction >= 1 || wait <= 0) {
      this.progressShown();
      this.hooks.changed(this.task);
    } else {
      this.progressTimer ??= setTimeout(() => {
        this.progressTimer = null;
        if (this.stopped) return;
        this.progressShown();
        this.hooks.changed(this.task);
      }, wait);
    }
  }

  private progressShown(): void {
    this.progressShownAt = Date.now();
    this.clearProgressTimer();
  }

  private clearProgressTimer(): void {
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.progressTimer = null;
  }

  /** Calls `then` after `ms`, or on the next microtask once stop() wakes it (as an awaited timer would). */
  private wait(ms: number, then: () => void): void {
    if (ms <= 0) return then();
    let woken = false;
    const timer = setLongTimeout(() => wake(then), ms);
    const wake = (go: () => void) => {
      if (woken) return;
      woken = true;
      timer.clear();
      this.wakeUp = null;
      go();
    };
    this.wakeUp = () => wake(() => soon(then));
  }
}

/** An attempt's start in its task context: a function, not a closure per attempt. */
function enterAttempt(run: AttemptRun, execution: TaskExecution): void {
  execution.callExecutor(run);
}
