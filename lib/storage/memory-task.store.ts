import { TaskData } from '../task/task-record';
import { isTerminal } from '../task/task-status';

/** A record held, and whether it counts as finished (one hash lookup answers both). */
interface Held {
  readonly task: TaskData;
  finished: boolean;
  /** False once deleted or replaced: its slot in the finished FIFO is then skipped. */
  held: boolean;
}

/**
 * Live tasks and the most recent finished ones. Pending and running tasks are
 * never evicted; past `maxFinished` finished records the oldest-finished goes first.
 */
export class MemoryTaskStore {
  private readonly tasks = new Map<string, Held>();
  /** Finished records in the order they finished. A FIFO with a moving head: a Map used as
   * one slows down as deleted head slots pile up until V8 rehashes it. */
  private finishedOrder: (Held | undefined)[] = [];
  private head = 0;
  private finishedCount = 0;
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
    return this.tasks.get(id)?.task;
  }

  *values(): IterableIterator<TaskData> {
    for (const held of this.tasks.values()) yield held.task;
  }

  add(task: TaskData): void {
    if (this.tasks.has(task.id)) this.delete(task.id);
    const held: Held = { task, finished: false, held: true };
    this.tasks.set(task.id, held);
    if (isTerminal(task.status)) this.markFinished(held);
    else this.unfinishedCount++;
  }

  /** Call after a task moved to a terminal status. */
  finish(task: TaskData): void {
    // What is stored under its id (a newer copy, possibly) is what counts as finished.
    const held = this.tasks.get(task.id);
    if (!held || held.finished) return;
    this.unfinishedCount--;
    this.markFinished(held);
  }

  delete(id: string): boolean {
    const held = this.tasks.get(id);
    if (!held) return false;
    this.tasks.delete(id);
    held.held = false;
    // Its slot in finishedOrder stays and is skipped when reached.
    if (held.finished) this.finishedCount--;
    else this.unfinishedCount--;
    return true;
  }

  private markFinished(held: Held): void {
    held.finished = true;
    this.finishedCount++;
    this.finishedOrder.push(held);
    while (this.finishedCount > this.maxFinished) {
      const oldest = this.finishedOrder[this.head]!;
      this.finishedOrder[this.head++] = undefined;
      if (!oldest.held) continue; // deleted meanwhile
      oldest.held = false;
      this.finishedCount--;
      this.tasks.delete(oldest.task.id);
      for (const listener of this.evictionListeners) listener(oldest.task);
    }
    if (this.head > 1024 && this.head * 2 > this.finishedOrder.length) {
      this.finishedOrder = this.finishedOrder.slice(this.head);
      this.head = 0;
    }
  }
}
