import { TaskData } from '../task/task-record';
import { isTerminal } from '../task/task-status';

/**
 * Live tasks and the most recent finished ones. Pending and running tasks are
 * never evicted; past `maxFinished` finished records the oldest-finished goes first.
 */
export class MemoryTaskStore {
  private readonly tasks = new Map<string, TaskData>();
  /** Ids in the order they finished. A FIFO with a moving head: a Map used as one slows
   * down as deleted head slots pile up until V8 rehashes it. */
  private finishedOrder: string[] = [];
  private head = 0;
  private readonly finished = new Set<string>();
  private unfinishedCount = 0;
  private readonly evictionListeners: ((task: TaskData) => void)[] = [];

  constructor(private readonly maxFinished: number) {}

  /** Calls `listener` with each finished record pushed out by newer ones. */
  onEvicted(listener: (task: TaskData) => void): void {
    this.evictionListeners.push(listener);
  }

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
    const previous = this.tasks.get(task.id);
    if (previous) this.delete(task.id);
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
    // Its slot in finishedOrder stays and is skipped when reached.
    if (!this.finished.delete(id)) this.unfinishedCount--;
    return true;
  }

  private markFinished(task: TaskData): void {
    this.finished.add(task.id);
    this.finishedOrder.push(task.id);
    while (this.finished.size > this.maxFinished) {
      const oldest = this.finishedOrder[this.head++];
      if (!this.finished.delete(oldest)) continue; // deleted meanwhile
      const evicted = this.tasks.get(oldest);
      this.tasks.delete(oldest);
      if (evicted) for (const listener of this.evictionListeners) listener(evicted);
    }
    if (this.head > 1024 && this.head * 2 > this.finishedOrder.length) {
      this.finishedOrder = this.finishedOrder.slice(this.head);
      this.head = 0;
    }
  }
}
