import { AsyncResource } from 'node:async_hooks';
import { AttemptTracer } from './attempt-tracer';
import { enableTaskContext } from './task-context';

/**
 * The context of this module's loading, holding no caller's values. Tasks that keep no
 * caller's context run here: otherwise they would run in whatever context started them,
 * such as that of the task whose end freed their slot, or of the first call of a batch.
 */
export const DETACHED = new AsyncResource('taskflow.detached');

/** What a task carries from the call that created it to each of its attempts. */
export interface TaskOrigin {
  /**
   * The creating call's async context (its AsyncLocalStorage values), or DETACHED when it is
   * not kept. An AsyncResource rather than `AsyncLocalStorage.snapshot()`: on Node 20 the
   * snapshot costs ~30 µs (a bound function redefined per call), the resource ~0.1 µs.
   */
  readonly context: AsyncResource;
  /** The span active at that call, for the tracer's link (undefined: none, or no tracer). */
  readonly trace: unknown;
}

/**
 * A kept caller context that is its own TaskOrigin: one object per task, not a resource
 * and a record pointing at it (every task of an application's call makes one).
 */
class CallerResource extends AsyncResource implements TaskOrigin {
  constructor(readonly trace: unknown) {
    super('taskflow.task');
  }

  get context(): AsyncResource {
    return this;
  }
}

let contextEnabled = false;

/**
 * The origin of a task created now by a call of the application (addTask, enqueue, a retry).
 * With `propagate` the whole async context is kept (AsyncLocalStorage values such as
 * nestjs-cls's, OpenTelemetry's active context); otherwise only the active span, for the
 * link, and null when there is nothing to keep.
 */
export function captureOrigin(propagate: boolean, tracer: AttemptTracer | null): TaskOrigin | null {
  const trace = tracer === null ? undefined : tracer.capture();
  if (propagate) {
    if (!contextEnabled) {
      // Before the first resource: its class's objects then have room for the task context's value.
      enableTaskContext();
      contextEnabled = true;
    }
    return new CallerResource(trace);
  }
  return trace === undefined ? null : { context: DETACHED, trace };
}
