import { TaskDefinition } from '../discovery/registered-task';
import { PriorityQueue } from './priority-queue';
import { RateWindow } from './rate-window';
import type { QueuedTask } from './task-queue';

/** One key of a function's rate limit: its window, its tasks the window holds back, and its claims out. */
export interface RateKeyState {
  readonly window: RateWindow;
  readonly held: PriorityQueue<QueuedTask>;
  /** Starts asked of a shared backend and not answered yet: they may use the window's room. */
  claiming: number;
}

/**
 * What one function's limits hold in this process: the tasks holding its concurrency
 * slots (starting or running), its tasks held back by a pause or by its concurrency, and
 * per rate key the window and the tasks it holds back. Held tasks keep their queue order.
 */
export class FunctionGate {
  /** Ids of its tasks holding a slot here: admitted and not ended. */
  readonly holders = new Set<string>();
  /** Held back by a pause or by concurrency. */
  readonly waiting = new PriorityQueue<QueuedTask>();
  readonly keys = new Map<string, RateKeyState>();
  /** Another instance holds every shared slot: let one task at a time try, until one gets through. */
  probing = false;

  constructor(readonly definition: TaskDefinition) {}

  get concurrency(): number | null {
    return this.definition.concurrency ?? null;
  }

  get rateLimit(): { max: number; windowMs: number } | null {
    const limit = this.definition.rateLimit;
    return limit ? { max: limit.max, windowMs: Math.round(limit.perSeconds * 1000) } : null;
  }

  /** Slots free here under its concurrency (Infinity without one). */
  get free(): number {
    const n = this.concurrency;
    return n === null ? Infinity : Math.max(0, n - this.holders.size);
  }

  /** The state of one rate key, made on first use. */
  key(key: string): RateKeyState {
    let state = this.keys.get(key);
    if (!state) {
      const limit = this.rateLimit!;
      state = { window: new RateWindow(limit.max, limit.windowMs), held: new PriorityQueue<QueuedTask>(), claiming: 0 };
      this.keys.set(key, state);
    }
    return state;
  }

  /** Holds a task back until its function may start it. */
  hold(queue: PriorityQueue<QueuedTask>, next: QueuedTask): void {
    queue.push(next, next.task.priority ?? 0, next.order);
  }

  /** Up to `count` held tasks still pending, in queue order; cancelled ones are dropped on the way. */
  take(queue: PriorityQueue<QueuedTask>, count: number): QueuedTask[] {
    const taken: QueuedTask[] = [];
    while (taken.length < count) {
      const next = queue.pop();
      if (!next) break;
      if (next.task.status === 'pending') taken.push(next);
    }
    return taken;
  }

  /** True while it holds tasks back here (pending ones: cancelled ones are dropped first). */
  get holdsTasks(): boolean {
    for (let top = this.waiting.peek(); top && top.task.status !== 'pending'; top = this.waiting.peek()) this.waiting.pop();
    if (this.waiting.size > 0) return true;
    for (const state of this.keys.values()) if (state.held.size > 0) return true;
    return false;
  }

  /** Forgets rate keys with nothing held whose window is empty (so many keys do not pile up). */
  sweep(now: number): void {
    for (const [key, state] of this.keys) if (state.held.size === 0 && state.claiming === 0 && state.window.idle(now)) this.keys.delete(key);
  }
}
