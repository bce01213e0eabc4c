import type { ObserverHub } from '../observers/observer-hub';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import type { TaskData } from '../task/task-record';
import { logTimestamp } from './task-context';
import type { ExecutionHooks } from './task-execution';
import { appendLogLine, ownLogs } from './task-log-buffer';

/** The runtime as the hooks see it: where every change of a record goes. */
export interface ChangeSink {
  changed(task: TaskData): void;
}

/**
 * What every TaskExecution of the runtime reports through, made once: record changes and
 * the terminal status go to the runtime; log lines (and the retry separator) are kept on
 * the record, bounded by `maxLogLines` (read at each line, as options are), and a log line also goes to the observers.
 */
export function runtimeExecutionHooks(
  runtime: ChangeSink,
  settled: ExecutionHooks['settled'],
  observers: ObserverHub,
  options: Pick<ResolvedTaskOptions, 'maxLogLines'>,
): ExecutionHooks {
  return {
    changed: (task) => runtime.changed(task),
    settled,
    log: (task, level, message, extra, attempt) => {
      const now = Date.now();
      appendLogLine(ownLogs(task), `${logTimestamp(now)} ${message}`, options.maxLogLines);
      runtime.changed(task);
      if (observers.size > 0) {
        observers.log({ taskId: task.id, funcName: task.funcName, level, message, attempt, tags: task.tags, extra, timestamp: new Date(now) });
      }
    },
    retryLine: (task, n) => {
      appendLogLine(ownLogs(task), `--- Retry ${n} ---`, options.maxLogLines);
      runtime.changed(task);
    },
  };
}
