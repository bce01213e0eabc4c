import { TaskData } from '../task/task-record';
import { isTerminal } from '../task/task-status';

/**
 * Live tasks and the most recent finished ones. Pending and running tasks are
 * never evicted; past `maxFinished` finished records the oldest-finished goes first.
 */
export class MemoryTaskStore {
  private readonly tasks = new Map<string, TaskData>();
  /** Finished ids in the order they finished (Map keeps insertion order). */
  private readonly finished = new Map<string, true>();
  private unfinishedCount = 0;

  constructor(
    private readonly maxFinished: number,
    private readonly onEvict: (task: TaskData) => void = () => undefined,
  ) {}

  get size(): number {
    return this.tasks.size;
  }

  /** Pending plus running. */
  get unfinished(): number {
    return this.unfinishedCount;
  }

  get(id: string): TaskData | undefined {
    return this.tasks.get(id);
  }

  values(): IterableIterator<TaskData> {
    return this.tasks.values();
  }

  add(task: TaskData): void {
    this.tasks.set(task.id, task);
    if (isTerminal(task.status)) this.markFinished(task);
    else this.unfinishedCount++;
  }

  /** Call after a task moved to a terminal status. */
  finish(task: TaskData): void {
    if (!this.tasks.has(task.id) || this.finished.has(task.id)) return;
    this.unfinishedCount--;
    this.markFinished(task);
  }

  delete(id: string): boolean {
    const task = this.tasks.get(id);
    if (!task) return false;
    this.tasks.delete(id);
    if (!this.finished.delete(id)) this.unfinishedCount--;
    return true;
  }

  private markFinished(task: TaskData): void {
    this.finished.set(task.id, true);
    while (this.finished.size > this.maxFinished) {
      const oldest = this.finished.keys().next().value as string;
      this.finished.delete(oldest);
      const evicted = this.tasks.get(oldest);
      this.tasks.delete(oldest);
      if (evicted) this.onEvict(evicted);
    }
  }
}
