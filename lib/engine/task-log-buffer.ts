import { NO_LOGS, TaskData } from '../task/task-record';

/** The task's own logs array to append to, made on its first line (new tasks share NO_LOGS). */
export function ownLogs(task: TaskData): string[] {
  if (task.logs === NO_LOGS) task.logs = [];
  return task.logs;
}

/**
 * Appends a line to a task's logs, keeping at most `max` lines: past that the
 * first half stays, then one marker line counting what was left out, then the
 * newest lines, so a chatty task cannot exhaust memory but its start and end stay readable.
 */
export function appendLogLine(logs: string[], line: string, max: number): void {
  if (logs.length < max) {
    logs.push(line);
    return;
  }
  const head = Math.max(1, Math.floor(max / 2));
  const marker = /^\.\.\. (\d+) lines omitted \.\.\.$/.exec(logs[head] ?? '');
  if (marker) {
    logs[head] = `... ${Number(marker[1]) + 1} lines omitted ...`;
    logs.splice(head + 1, 1);
  } else {
    logs.splice(head, 2, '... 2 lines omitted ...');
  }
  logs.push(line);
}
