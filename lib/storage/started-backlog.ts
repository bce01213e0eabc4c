import { TaskData } from '../task/task-record';

/**
 * How far the engine ran ahead of the write-behind: the unwritten changes of tasks that
 * started (running or finished), the batches being written included. Each holds a record
 * the memory store may already have let go of, so this, not the whole backlog, is what
 * grows memory when tasks run faster than rows are stored; past `max`, hasRoom says no
 * and the engine starts nothing until a commit brings the count back under it.
 * Pending tasks are not counted: holding a burst of new tasks is their caller's choice,
 * and their first rows ride along with the started ones.
 */
export class StartedBacklog {
  /** Queued ids whose task had started at its last change. */
  private readonly queued = new Set<string>();
  /** Of the batches being written now, the tasks that had started. */
  private inFlight = 0;
  /** Called once there is room again (a set: a function given twice is called once). */
  private readonly waiters = new Set<() => void>();
  private open = false;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.queued.size + this.inFlight;
  }

  /** A change of `task` was queued for writing. */
  changed(task: TaskData): void {
    if (task.status === 'pending') this.queued.delete(task.id);
    else this.queued.add(task.id);
  }

  /** The ids of the queued changes of started tasks, oldest first. */
  queuedIds(): IterableIterator<string> {
    return this.queued.values();
  }

  /** A queued change was dropped unwritten (its caller gave up on it). */
  dropped(id: string): void {
    this.queued.delete(id);
  }

  /** These changes left the queue for a batch being written; returns how many of them had started (for settled). */
  taken(batch: readonly TaskData[]): number {
    let started = 0;
    for (const task of batch) if (this.queued.delete(task.id)) started++;
    this.inFlight += started;
    return started;
  }

  /**
   * A batch holding `started` changes of started tasks (taken's answer) committed, or failed
   * and `requeued` of its tasks are queued again.
   */
  settled(started: number, requeued: readonly TaskData[] = []): void {
    this.inFlight -= started;
    for (const task of requeued) this.changed(task);
    this.offer();
  }

  /** True while under the bound (always once opened for good); otherwise false, and `wake` is called once there is room. */
  hasRoom(wake: () => void): boolean {
    if (this.open || this.size < this.max) return true;
    this.waiters.add(wake);
    return false;
  }

  /** No bound from now on (the writer stopped): everyone waiting goes. */
  openForGood(): void {
    this.open = true;
    this.offer();
  }

  private offer(): void {
    if (this.waiters.size === 0 || (!this.open && this.size >= this.max)) return;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }
}
