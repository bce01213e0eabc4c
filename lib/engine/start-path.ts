import type { MemoryTaskStore } from '../storage/memory-task.store';
import { DelayedTasks } from './delayed-tasks';
import { FlowControl } from './flow-control';
import type { IdempotencyKeys } from './idempotency-keys';
import type { TaskArguments } from './task-arguments';
import { QueuedTask, TaskQueue } from './task-queue';
import type { TaskStorage } from './task-storage';
import { WorkHandoff } from './work-handoff';

/** The parts a task passes through between admission and its start, wired to each other. */
export interface StartPath {
  readonly queue: TaskQueue;
  /** Tasks whose run_at is still ahead: they reach the queue when due. */
  readonly delays: DelayedTasks;
  /** Work given to and taken from other instances on a shared database, and the lease fence. */
  readonly handoff: WorkHandoff;
  /** Each function's admission check before its task starts (paused, concurrency, rate limit), across instances too. */
  readonly flow: FlowControl;
}

/** What the start path calls back into the runtime for: each callback is made once, not per task. */
export interface StartPathHooks {
  /** Starts a queued task its gates admitted; false when it failed before running. */
  start: (next: QueuedTask) => boolean;
  /** Ends a task that cannot start (its rate-limit key failed) as failed. */
  fail: (next: QueuedTask, error: unknown) => void;
}

/**
 * Builds the start path of TaskRuntime: the queue with its cap asks the handoff (is the
 * task still ours, does the fence let it start) and then the function's flow control
 * whether a task may start; delayed tasks join the queue when due; the handoff takes
 * tasks out of both when another instance has them.
 */
export function wireStartPath(
  cap: number,
  store: MemoryTaskStore,
  storage: TaskStorage,
  keys: IdempotencyKeys,
  args: TaskArguments,
  hooks: StartPathHooks,
): StartPath {
  // The closures below read `queue` and `handoff` only once tasks flow, after all four exist.
  const flow: FlowControl = new FlowControl(storage, args, () => handoff.fence.open, {
    requeue: (next) => queue.requeue(next),
    fail: hooks.fail,
  });
  const queue: TaskQueue = new TaskQueue(
    cap,
    hooks.start,
    (next) => {
      const admission = handoff.admission(next.task);
      return admission === 'start' ? flow.admit(next) : admission;
    },
    (wake) => storage.hasWriteRoom(wake),
  );
  const delays = new DelayedTasks(({ task, registered, origin }) => {
    // Settled or forgotten while it waited (cancelled, handed over): nothing to start.
    if (task.status === 'pending' && store.get(task.id) === task) queue.push(task, registered, origin);
  });
  const handoff: WorkHandoff = new WorkHandoff(queue, store, keys, (id) => delays.remove(id));
  return { queue, delays, handoff, flow };
}
