import { LongTimeout, setLongTimeout } from './long-timeout';
import { PriorityQueue } from './priority-queue';

/**
 * One timer for many keys that each want a call at some time (rate-limited keys waiting
 * for their window): the timer is set for the earliest, and when it fires every key due
 * is handed to `wake` at once. A key asked for again keeps its earliest time.
 */
export class WakeTimer {
  /** Each key's earliest wanted time; the heap may hold stale entries, skipped when popped. */
  private readonly due = new Map<string, number>();
  private readonly heap = new PriorityQueue<{ key: string; at: number }>();
  private timer: LongTimeout | null = null;
  private armedFor = Infinity;

  constructor(private readonly wake: (keys: string[]) => void) {}

  /** Calls `wake` with `key` at `at` (epoch ms) or soon after. */
  schedule(key: string, at: number): void {
    const known = this.due.get(key);
    if (known !== undefined && known <= at) return;
    this.due.set(key, at);
    this.heap.push({ key, at }, -at);
    if (at < this.armedFor) this.arm(at);
  }

  /** No more calls (shutdown). */
  stop(): void {
    this.timer?.clear();
    this.timer = null;
    this.armedFor = Infinity;
    this.due.clear();
  }

  private arm(at: number): void {
    this.timer?.clear();
    this.armedFor = at;
    this.timer = setLongTimeout(() => this.fire(), at - Date.now());
  }

  private fire(): void {
    this.timer = null;
    this.armedFor = Infinity;
    const now = Date.now();
    const keys: string[] = [];
    for (let top = this.heap.peek(); top && top.at <= now; top = this.heap.peek()) {
      this.heap.pop();
      if (this.due.get(top.key) !== top.at) continue;
      this.due.delete(top.key);
      keys.push(top.key);
    }
    // Drop stale entries at the top so the timer is set for a time some key still wants.
    for (let top = this.heap.peek(); top && this.due.get(top.key) !== top.at; top = this.heap.peek()) this.heap.pop();
    const next = this.heap.peek();
    if (next) this.arm(next.at);
    if (keys.length) this.wake(keys);
  }
}
