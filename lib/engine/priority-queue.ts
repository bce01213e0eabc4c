/**
 * Binary heap: highest priority first, FIFO among equals (a sequence number breaks ties).
 * Tasks without a priority rank as 0. An item pushed back with the sequence number it
 * had (`seq`) regains its place among equals.
 */
export class PriorityQueue<T> {
  private readonly heap: { priority: number; seq: number; item: T }[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Returns the item's sequence number (the one given, else the next one). */
  push(item: T, priority: number, seq?: number): number {
    const order = seq ?? this.seq++;
    this.heap.push({ priority, seq: order, item });
    this.up(this.heap.length - 1);
    return order;
  }

  /** The item `pop()` would return, left in place. */
  peek(): T | undefined {
    return this.heap[0]?.item;
  }

  pop(): T | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.down(0);
    }
    return top.item;
  }

  private before(a: number, b: number): boolean {
    const x = this.heap[a];
    const y = this.heap[b];
    return x.priority !== y.priority ? x.priority > y.priority : x.seq < y.seq;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < n && this.before(l, best)) best = l;
      if (r < n && this.before(r, best)) best = r;
      if (best === i) return;
      this.swap(i, best);
      i = best;
    }
  }

  private swap(a: number, b: number): void {
    const t = this.heap[a];
    this.heap[a] = this.heap[b];
    this.heap[b] = t;
  }
}
