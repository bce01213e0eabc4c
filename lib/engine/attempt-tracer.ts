import { TaskData } from '../task/task-record';

/** DI token of the tracer of attempts; absent or null, attempts are not traced (lib/integrations/opentelemetry provides it). */
export const ATTEMPT_TRACER = Symbol('TASKFLOW_ATTEMPT_TRACER');

/**
 * How one attempt ended, as its span records it: `retrying` is a failed attempt another
 * follows, `failed` the last one; `interrupted` covers shutdown.
 */
export type AttemptOutcome = 'success' | 'failed' | 'retrying' | 'cancelled' | 'interrupted';

/** The span of one running attempt. Neither method throws. */
export interface AttemptSpan {
  /** Runs the attempt with this span active, so spans the task starts are its children. */
  run<R>(fn: () => R): R;
  end(outcome: AttemptOutcome, error: unknown): void;
}

/**
 * Traces attempts. The engine calls it only when one is provided, so without a tracer
 * (or its package) an attempt costs one null check.
 */
export interface AttemptTracer {
  /** At the call that creates a task: the span active there, which its attempts link to; undefined when there is none. */
  capture(): unknown;
  /**
   * The span of one attempt, a child of the context active now (the creating call's when it
   * was kept), linked to `link` (what `capture` returned); null while nothing records spans.
   */
  begin(task: TaskData, attempt: number, link: unknown): AttemptSpan | null;
  /** False while nothing records spans: the attempt then runs as without a tracer (begin would return null). */
  isRecording?(): boolean;
}
