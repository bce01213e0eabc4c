import { TaskData, TaskRecord } from '../task/task-record';

/** Callers waiting for one task to finish (`waitFor`) or for every task to finish (`drain`). */
export class TaskWaiters {
  private readonly byTask = new Map<string, ((record: TaskRecord) => void)[]>();
  private drained: (() => void)[] = [];

  constructor(private readonly present: (task: TaskData) => TaskRecord) {}

  /** Resolves with the terminal record of task `id`. */
  forTask(id: string): Promise<TaskRecord> {
    return new Promise((resolve) => {
      const list = this.byTask.get(id) ?? [];
      list.push(resolve);
      this.byTask.set(id, list);
    });
  }

  /** Resolves once nothing is unfinished (`unfinished` counts what is now). */
  forDrain(unfinished: number): Promise<void> {
    if (unfinished === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** A task reached a terminal status; `unfinished` counts what is left. The record is built only for a waiter. */
  settled(task: TaskData, unfinished: number): void {
    // Most tasks have no waiter: no lookup by id (nor the id's hash computed) for those.
    const waiting = this.byTask.size === 0 ? undefined : this.byTask.get(task.id);
    if (waiting) {
      this.byTask.delete(task.id);
      const record = this.present(task);
      for (const resolve of waiting) resolve(record);
    }
    if (unfinished === 0 && this.drained.length > 0) {
      const waiters = this.drained;
      this.drained = [];
      for (const resolve of waiters) resolve();
    }
  }
}
