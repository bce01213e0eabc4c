import type { MessagePort } from 'node:worker_threads';
import type { TaskLogLevel } from '../observers/task-observer';

/** One attempt, as the main thread hands it to a worker (with `port` transferred). */
export interface AttemptRequest {
  funcName: string;
  args: unknown[];
  taskId: string;
  attempt: number;
  tags: Record<string, string>;
  /** The attempt's own channel: logs and progress to the main thread, the abort to the worker. */
  port: MessagePort;
}

/** An error as it crosses a thread: structured clone keeps only the built-in error names. */
export interface CrossingError {
  name: string;
  message: string;
  stack: string | undefined;
}

/** How the attempt ended in the worker; the worker never throws to the pool for a task's own failure. */
export type AttemptOutcome = { ok: true; value: unknown } | { ok: false; error: CrossingError };

/** Worker → main thread, on the attempt's port. */
export type WorkerMessage =
  | { type: 'log'; level: TaskLogLevel; message: string; extra: Record<string, unknown> }
  | { type: 'progress'; fraction: number; message: string | undefined };

/** Main thread → worker, on the attempt's port. */
export interface AbortMessage {
  type: 'abort';
  reason: CrossingError;
}

export function toCrossingError(error: unknown): CrossingError {
  if (error instanceof Error) return { name: error.name || error.constructor?.name || 'Error', message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error), stack: undefined };
}

/** An Error with the original name, message and stack, so the record reads as for an async task. */
export function fromCrossingError(crossing: CrossingError): Error {
  const error = new Error(crossing.message);
  Object.defineProperty(error, 'name', { value: crossing.name, configurable: true, writable: true });
  if (crossing.stack !== undefined) error.stack = crossing.stack;
  return error;
}
