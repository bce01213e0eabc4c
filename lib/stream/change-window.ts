import type { TaskData } from '../task/task-record';

/**
 * The task changes of one flush window, merged per task when it ends: each task once,
 * in its latest state, in the order of its first change in the window.
 *
 * A change is only appended here. Merging on arrival (a Map probed and set per change)
 * cost the request that added a task more than the rest of the hub: three changes per
 * task, each a look-up in a table that is cold again by the next request (cache misses,
 * and the table's growth as allocation). Merged at the end, the same look-ups run in one
 * loop over a table that stays in cache.
 */
export class ChangeWindow {
  /** The changes in arrival order; slots past `count` are empty (kept for the next window). */
  private readonly changes: (TaskData | undefined)[] = [];
  private count = 0;
  private readonly merged = new Map<string, TaskData>();

  /** Changes received in this window. */
  get size(): number {
    return this.count;
  }

  add(task: TaskData): void {
    this.changes[this.count++] = task;
  }

  /** The window's tasks, each once with its latest state, by first change; empties the window. */
  take(): TaskData[] {
    const merged = this.merged;
    for (let i = 0; i < this.count; i++) {
      const task = this.changes[i]!;
      // A Map keeps a key where it was first set: the task's first change orders it, its last one gives the state.
      merged.set(task.id, task);
      this.changes[i] = undefined;
    }
    this.count = 0;
    const tasks = [...merged.values()];
    merged.clear();
    return tasks;
  }

  /** Forgets the window's changes (the hub closed). */
  clear(): void {
    this.changes.length = 0;
    this.count = 0;
  }
}
