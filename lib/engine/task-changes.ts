import { Subject } from 'rxjs';
import { TaskData, TaskRecord } from '../task/task-record';

/** The live streams of task changes; a record is presented only when someone listens. */
export class TaskChanges {
  readonly changes = new Subject<TaskRecord>();
  /** The changed tasks themselves, for consumers that present them later (the SSE hub coalesces first). */
  readonly changedTasks = new Subject<TaskData>();
  readonly stopping = new Subject<void>();

  constructor(private readonly present: (task: TaskData) => TaskRecord) {}

  publish(task: TaskData): void {
    if (this.changedTasks.observed) this.changedTasks.next(task);
    if (this.changes.observed) this.changes.next(this.present(task));
  }

  /** Ends every stream at shutdown, `stopping` first. */
  complete(): void {
    this.stopping.next();
    this.stopping.complete();
    this.changes.complete();
    this.changedTasks.complete();
  }
}
