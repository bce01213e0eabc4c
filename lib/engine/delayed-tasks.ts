import { RegisteredTask } from '../discovery/registered-task';
import { TaskData } from '../task/task-record';
import { DueHeap } from './due-heap';
import type { TaskOrigin } from './caller-context';
import { LongTimeout, setLongTimeout } from './long-timeout';
import type { QueuedTask } from './task-queue';

/** A task waiting for its due time: what the queue needs of it, less its place (given when it joins). */
export type WaitingTask = Omit<QueuedTask, 'order' | 'rateKey' | 'entry'>;
/** Due tasks handed on per turn of the event loop at most, so a million due at once cannot hold it. */
const RELEASE_BATCH = 5000;

/**
 * Tasks that are not due yet (`runAt` in the future): held in a heap by due time
 * with one timer, set for the earliest, never one per task. When it fires, every task
 * due by then is handed to `due` (the queue), earliest first; whether and when a due
 * task may start is the queue's business. Times are this process's clock (Date.now()),
 * the same clock that stamps start_time, so a task never starts before its run_at.
 */
export class DelayedTasks {
  private readonly heap = new DueHeap<WaitingTask>();
  private timer: LongTimeout | null = null;
  /** The due time the timer is set for (Infinity when unset). */
  private armedFor = Infinity;
  private stopped = false;

  constructor(private readonly due: (next: WaitingTask) => void) {}

  /** Tasks waiting for their due time. */
  get size(): number {
    return this.heap.size;
  }

  /** Holds `task` until its runAt when that is later than `now`; false when it is due already. */
  hold(task: TaskData, registered: RegisteredTask, origin: TaskOrigin | null = null, now?: number): boolean {
    const runAt = task.runAt;
    // Most tasks have no run_at: no clock read for those.
    if (runAt === null || runAt === undefined) return false;
    now ??= Date.now();
    if (runAt <= now) return false;
    this.heap.push(task.id, runAt, { task, registered, origin });
    if (runAt < this.armedFor) this.arm(now);
    return true;
  }

  /** Takes a waiting task out (cancelled, interrupted, handed back); false when it was not waiting here. */
  remove(id: string): boolean {
    if (!this.heap.remove(id)) return false;
    // A timer set for a task that left finds nothing due when it fires and re-arms for the next.
    if (this.heap.size === 0) this.disarm();
    return true;
  }

  /** No task is handed on from now on (shutdown); the waiting ones stay for the caller to settle. */
  stop(): void {
    this.stopped = true;
    this.disarm();
  }

  private arm(now: number): void {
    this.disarm();
    const next = this.heap.nextDueAt;
    if (next === undefined || this.stopped) return;
    this.armedFor = next;
    this.timer = setLongTimeout(() => this.fire(), next - now);
  }

  private disarm(): void {
    this.timer?.clear();
    this.timer = null;
    this.armedFor = Infinity;
  }

  private fire(): void {
    this.timer = null;
    this.armedFor = Infinity;
    if (this.stopped) return;
    const now = Date.now();
    let handed = 0;
    for (let next = this.heap.popDue(now); next; next = this.heap.popDue(now)) {
      this.due(next);
      if (++handed >= RELEASE_BATCH && this.heap.nextDueAt !== undefined && this.heap.nextDueAt <= now) {
        // The rest on the next turn: timers, I/O and the tasks just queued run in between.
        this.armedFor = now;
        this.timer = setLongTimeout(() => this.fire(), 0);
        return;
      }
    }
    // Timers may fire a little before Date.now() reaches the due time: then nothing was due, and this re-arms.
    this.arm(now);
  }
}
