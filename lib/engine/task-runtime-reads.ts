import type { ResolvedTaskOptions } from '../options/resolve-options';
import { MemoryTaskStore } from '../storage/memory-task.store';
import { TaskData, TaskRecord, toTaskRecord } from '../task/task-record';
import { isTerminal } from '../task/task-status';
import type { DelayedTasks } from './delayed-tasks';
import type { FlowControl } from './flow-control';
import type { FunctionGates } from './function-gates';
import type { IdempotencyKeys } from './idempotency-keys';
import { TaskWaiters } from './task-waiters';

/**
 * TaskRuntime's reads: the records it holds, how it presents them and who waits for them.
 * One-line views over its parts, apart from the runtime's writes (task-runtime.ts), which
 * makes the parts (`delays`, `flow`, `keys`) and extends this.
 */
export abstract class TaskRuntimeReads {
  protected abstract readonly delays: DelayedTasks;
  protected abstract readonly flow: FlowControl;
  protected abstract readonly keys: IdempotencyKeys;
  protected readonly waiters = new TaskWaiters((task) => this.present(task));

  constructor(
    protected readonly options: ResolvedTaskOptions,
    protected readonly store: MemoryTaskStore,
  ) {}

  /** Each function's admission check: paused, concurrency, rate limit. */
  get gates(): FunctionGates {
    return this.flow.gates;
  }

  /** The task as this instance holds it in memory, if it does. */
  live(id: string): TaskData | undefined {
    return this.store.get(id);
  }

  /** True for a task this instance holds that has not finished: it can be cancelled or awaited here. */
  isLive(task: TaskData): boolean {
    return !isTerminal(task.status) && this.store.get(task.id) === task;
  }

  /** Pending and running tasks held here. */
  unfinishedTasks(): TaskData[] {
    const unfinished: TaskData[] = [];
    for (const task of this.store.values()) if (!isTerminal(task.status)) unfinished.push(task);
    return unfinished;
  }

  /** Tasks held here that run now. */
  protected runningTasks(): TaskData[] {
    const running: TaskData[] = [];
    for (const task of this.store.values()) if (task.status === 'running') running.push(task);
    return running;
  }

  /** Pending tasks held here whose run_at has not come yet. */
  get delayedCount(): number {
    return this.delays.size;
  }

  /** Records held in memory (live and recently finished). */
  get heldInMemory(): number {
    return this.store.size;
  }

  /** The id of the live task holding `key`, if any. */
  keyHolder(key: string): string | undefined {
    return this.keys.holder(key);
  }

  /** Resolves with the terminal record of a live task. */
  waitFor(id: string): Promise<TaskRecord> {
    return this.waiters.forTask(id);
  }

  drain(): Promise<void> {
    return this.waiters.forDrain(this.store.unfinished);
  }

  present(task: TaskData): TaskRecord {
    return toTaskRecord(task, this.options.displayFuncArgs);
  }

  /** The detail record of one task: with its attempt history. */
  presentDetail(task: TaskData): TaskRecord {
    return toTaskRecord(task, this.options.displayFuncArgs, true);
  }
}
