import { RegisteredTask } from '../discovery/registered-task';
import { TaskTimeoutError } from '../errors/task-timeout.error';
import { TaskLogLevel } from '../observers/task-observer';
import { capResult, TaskAttempt } from '../task/task-attempt';
import { TaskData } from '../task/task-record';
import { closeAttempt, mayRetry, openAttempt } from './attempt-history';
import { AttemptOutcome, AttemptSpan, AttemptTracer } from './attempt-tracer';
import { DETACHED, TaskOrigin } from './caller-context';
import { formatError } from './format-error';
import { LongTimeout, setLongTimeout } from './long-timeout';
import { AttemptContext, AttemptSink } from './task-context';
import { TaskExecutor, asyncExecutor } from './task-executor';

/** reportProgress() changes of one task are announced at most this often (a value of 1 at once). */
export const PROGRESS_INTERVAL_MS = 100;

/** What an execution reports back to the manager. */
export interface ExecutionHooks {
  /** The record changed (status, logs, progress, retries). */
  changed(task: TaskData): void;
  /** The record reached a terminal status through this execution. */
  settled(task: TaskData, attempt: number): void;
  log(task: TaskData, level: TaskLogLevel, message: string, extra: Record<string, unknown>, attempt: number): void;
  retryLine(task: TaskData, attempt: number): void;
}

/**
 * Runs one task: attempts, back-off between them, per-attempt timeout, and
 * cancellation that aborts the running attempt or the back-off wait at once.
 */
export class TaskExecution {
  /** Ends the running attempt at once (cancel, shutdown, timeout), aborting its signal. */
  private interruptAttempt: ((reason: unknown) => void) | null = null;
  private wakeUp: (() => void) | null = null;
  private stopped = false;
  /** Progress throttle: when the last change was announced, and the timer of a held-back one. */
  private progressShownAt = -Infinity;
  private progressTimer: NodeJS.Timeout | null = null;
  /** The history entry of the attempt running now. */
  private currentAttempt: TaskAttempt | null = null;
  /** The span of the attempt running now, when it is traced. */
  private span: AttemptSpan | null = null;
  attempt = 0;

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
    this.interruptAttempt?.(reason);
    this.wakeUp?.();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  async run(): Promise<void> {
    const { retries, delay, backoff } = this.registered.definition;
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      if (attempt > 1) {
        await this.wait(delay * Math.pow(backoff, attempt - 2) * 1000);
        if (this.stopped) return;
        this.task.retriesUsed = attempt - 1;
        this.hooks.retryLine(this.task, attempt - 1);
      }
      this.attempt = attempt;
      this.currentAttempt = openAttempt(this.task);
      const outcome = await this.runAttempt(attempt);
      if (this.stopped) {
        // Stopped by the runtime, which has set the status by now (pending: handed back at shutdown).
        this.endSpan(this.task.status === 'cancelled' ? 'cancelled' : 'interrupted', undefined);
        return;
      }
      if (outcome.ok) {
        closeAttempt(this.currentAttempt, null);
        this.task.result = capResult(outcome.value);
        this.endSpan('success', undefined);
        this.finish('success', null);
        return;
      }
      const { text, stack } = formatError(outcome.error);
      closeAttempt(this.currentAttempt, text);
      this.task.error = text;
      this.task.stacktrace = stack;
      if (attempt === retries + 1 || !mayRetry(this.registered.definition, outcome.error)) {
        this.endSpan('failed', outcome.error);
        this.finish('failed', text);
        return;
      }
      this.endSpan('retrying', outcome.error);
      this.hooks.changed(this.task);
    }
  }

  private finish(status: 'success' | 'failed', error: string | null): void {
    this.stopped = true;
    // The terminal change carries the latest progress, held back or not.
    this.clearProgressTimer();
    this.task.status = status;
    this.task.endTime = Date.now();
    if (status === 'success') {
      this.task.error = null;
      this.task.stacktrace = null;
      // A task that reported progress ends complete; one that never did keeps null.
      if (this.task.progress !== null) this.task.progress = 1;
    } else {
      this.task.error = error;
    }
    this.hooks.settled(this.task, this.attempt);
  }

  /**
   * One attempt. The AbortController is made only when the task reads its signal
   * (most never do), and the attempt settles through one promise that a cancel or
   * the timeout rejects directly: no listener or race per attempt on the hot path.
   */
  private async runAttempt(attempt: number): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
    const { timeout } = this.registered.definition;
    let timer: LongTimeout | undefined;
    const sink: AttemptSink = {
      log: (level, message, extra) => {
        if (!this.stopped) this.hooks.log(this.task, level, message, extra, attempt);
      },
      progress: (fraction, message) => {
        if (this.stopped) return;
        this.task.progress = fraction;
        if (message) {
          this.progressShown();
          this.hooks.log(this.task, 'info', message, { progress: fraction }, attempt);
        } else {
          this.progressChanged(fraction);
        }
      },
    };
    const context = new AttemptContext(this.task.id, this.task.funcName, attempt, this.task.tags);
    try {
      const value = await new Promise<unknown>((resolve, reject) => {
        this.interruptAttempt = (reason) => {
          context.abort(reason);
          reject(reason);
        };
        if (timeout !== null) timer = setLongTimeout(() => this.interruptAttempt?.(new TaskTimeoutError(timeout)), timeout * 1000);
        let result: unknown;
        const call = () => this.executor.run(this.registered, this.args, context, sink);
        try {
          result = (this.origin?.context ?? DETACHED).runInAsyncScope(this.tracer === null ? call : () => this.traced(attempt, call));
        } catch (error) {
          reject(error);
          return;
        }
        if (result instanceof Promise || (result !== null && typeof (result as PromiseLike<unknown>)?.then === 'function')) {
          (result as PromiseLike<unknown>).then(resolve, reject);
        } else {
          resolve(result);
        }
      });
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error };
    } finally {
      timer?.clear();
      this.interruptAttempt = null;
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

  private wait(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setLongTimeout(done, ms);
      function done() {
        timer.clear();
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        done();
      };
    });
  }
}
