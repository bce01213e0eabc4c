import { Subject } from 'rxjs';
import { TaskData, TaskRecord } from '../task/task-record';

/** A consumer of every change called directly, without RxJS (see TaskChanges.listen). */
export type ChangeListener = (task: TaskData) => void;

/** The live streams of task changes; a record is presented only when someone listens. */
export class TaskChanges {
  readonly changes = new Subject<TaskRecord>();
  /** The changed tasks themselves, for consumers that present them later (the SSE hub coalesces first). */
  readonly changedTasks = new Subject<TaskData>();
  readonly stopping = new Subject<void>();
  /** Replaced, never changed in place: a listener removed while a change is delivered does not shift the others. */
  private listeners: readonly ChangeListener[] = [];

  constructor(private readonly present: (task: TaskData) => TaskRecord) {}

  /**
   * Calls `listener` with every changed task, before the streams; returns what removes it.
   * For the package's own consumers of every change (the SSE hub hears three per task):
   * RxJS's Subject.next allocates a closure and an iterator per call (~300 B), which a
   * direct call does not. A listener that throws does not stop the change: the error is
   * rethrown outside it, as RxJS reports a subscriber's error.
   */
  listen(listener: ChangeListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  publish(task: TaskData): void {
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i](task);
      } catch (error) {
        setTimeout(() => {
          throw error;
        });
      }
    }
    if (this.changedTasks.observed) this.changedTasks.next(task);
    if (this.changes.observed) this.changes.next(this.present(task));
  }

  /** Ends every stream at shutdown, `stopping` first. Listeners hear no more changes. */
  complete(): void {
    this.stopping.next();
    this.stopping.complete();
    this.changes.complete();
    this.changedTasks.complete();
    this.listeners = [];
  }
}
