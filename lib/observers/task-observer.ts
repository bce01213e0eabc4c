import { TaskData } from '../task/task-record';
import { TaskStatus } from '../task/task-status';

export type TaskLogLevel = 'debug' | 'info' | 'warning' | 'error';

export const LOG_LEVELS: readonly TaskLogLevel[] = ['debug', 'info', 'warning', 'error'];

export interface TaskLogEvent {
  taskId: string;
  funcName: string;
  level: TaskLogLevel;
  message: string;
  attempt: number;
  tags: Record<string, string>;
  extra: Record<string, unknown>;
  timestamp: Date;
}

export interface TaskLifecycleEvent {
  taskId: string;
  funcName: string;
  status: TaskStatus;
  attempt: number;
  /** Seconds since the task started, for terminal events. */
  duration: number | null;
  error: string | null;
  tags: Record<string, string>;
  timestamp: Date;
}

/** Receives task logs and lifecycle events. Failures and hangs of an observer never affect tasks. */
export abstract class TaskObserver {
  /** Events below this level are not delivered to onLog. */
  minLevel: TaskLogLevel = 'info';
  onLog?(event: TaskLogEvent): void | Promise<void>;
  onLifecycle?(event: TaskLifecycleEvent): void | Promise<void>;
  startup?(): void | Promise<void>;
  close?(): void | Promise<void>;
}

/** The lifecycle event of a task as it is now; `duration` covers the whole run, like the record's. */
export function toLifecycleEvent(task: TaskData, attempt: number): TaskLifecycleEvent {
  return {
    taskId: task.id,
    funcName: task.funcName,
    status: task.status,
    attempt,
    duration: task.startTime !== null && task.endTime !== null ? (task.endTime - task.startTime) / 1000 : null,
    error: task.error,
    tags: task.tags,
    timestamp: new Date(),
  };
}
