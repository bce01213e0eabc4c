import { MemoryTaskStore } from '../storage/memory-task.store';
import { TaskData } from '../task/task-record';
import { IdempotencyKeys } from './idempotency-keys';
import { LeaseFence } from './lease-fence';
import { QueuedTask, TaskQueue } from './task-queue';

/**
 * What the runtime gives and takes with other instances on a shared database: waiting
 * durable tasks handed to the shared pool, tasks lost while this instance's lease had
 * lapsed, and the fence that holds durable tasks while the lease may have ended.
 */
export class WorkHandoff {
  /** Durable tasks wait while this instance's lease may have ended (armed by the persistence lifecycle). */
  readonly fence = new LeaseFence();
  /** Tasks another instance took over while this one's lease had lapsed: never started here. */
  private readonly disowned = new Set<string>();

  constructor(
    private readonly queue: TaskQueue,
    private readonly store: MemoryTaskStore,
    private readonly keys: IdempotencyKeys,
    /** Takes a task out of those waiting for their due time; false when it was not one of them. */
    private readonly undelay: (id: string) => boolean,
  ) {}

  /**
   * What the queue does with a task whose turn came. A durable task waits from when the
   * fence closes until its ownership has been checked (reopenFenced), not only until a
   * heartbeat gets through: in between, another instance may have claimed it. One never
   * sent to the database is known to no other instance, so the fence need not hold it.
   */
  admission(task: TaskData): 'drop' | 'hold' | 'start' {
    if (this.disowned.size > 0 && this.disowned.delete(task.id)) return 'drop';
    return task.durable && task.unstored !== true && this.fence.lapsed ? 'hold' : 'start';
  }

  /**
   * Forgets a pending task another instance claimed while this one's lease had lapsed:
   * it leaves memory unwritten (the row is the other's now) and never starts here.
   */
  disown(task: TaskData): void {
    if (task.status !== 'pending' || this.store.get(task.id) !== task) return;
    // One still waiting for its due time never reaches the queue's admission: taken out here instead.
    if (!this.undelay(task.id)) this.disowned.add(task.id);
    this.forget(task);
  }

  /** Tasks queued for a slot. */
  get waitingCount(): number {
    return this.queue.waiting;
  }

  /** Slots free now plus `ahead` more, less the tasks already waiting for one (what this instance could take on). */
  spareSlots(ahead: number): number {
    return Math.max(0, this.queue.free + ahead - this.queue.waiting);
  }

  /**
   * Takes waiting durable tasks beyond `keep` out of the queue so other instances can run
   * them: they are no longer started here. Give back with `keepShared` what could not be
   * offered (a row not committed yet, say).
   */
  takeShareable(keep: number, max: number): QueuedTask[] {
    return this.queue.takeExcess(keep, (task) => task.durable && task.unstored !== true, max);
  }

  /** Forgets tasks handed to the shared pool (their rows now have no owner). */
  shared(tasks: QueuedTask[]): void {
    for (const { task } of tasks) this.forget(task);
  }

  /** Queues again tasks that could not be handed over. */
  keepShared(tasks: QueuedTask[]): void {
    for (const { task, registered, origin } of tasks) this.queue.push(task, registered, origin);
  }

  /** Lets durable tasks held by the fence start again (ownership checked by the caller). */
  reopenFenced(): void {
    this.fence.clear();
    this.queue.reopen();
  }

  private forget(task: TaskData): void {
    this.store.delete(task.id);
    this.keys.forget(task);
  }
}
