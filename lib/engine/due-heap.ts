interface DueEntry<T> {
  key: string;
  dueAt: number;
  seq: number;
  item: T;
  /** Position in the heap array, kept up to date so an entry can be removed by key. */
  index: number;
}

/**
 * Binary min-heap of items by due time (epoch ms), FIFO among equal times, with removal
 * by key in O(log n): a cancelled task leaves the heap at once instead of waiting there
 * until it would have been due. Push, pop and remove stay O(log n) at millions of entries.
 */
export class DueHeap<T> {
  private readonly heap: DueEntry<T>[] = [];
  private readonly byKey = new Map<string, DueEntry<T>>();
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** The earliest due time, or undefined when empty. */
  get nextDueAt(): number | undefined {
    return this.heap[0]?.dueAt;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Adds `item` due at `dueAt`; an entry already under `key` is replaced. */
  push(key: string, dueAt: number, item: T): void {
    this.remove(key);
    const entry: DueEntry<T> = { key, dueAt, seq: this.seq++, item, index: this.heap.length };
    this.heap.push(entry);
    this.byKey.set(key, entry);
    this.up(entry.index);
  }

  /** The earliest item if it is due at or before `now`, taken out of the heap. */
  popDue(now: number): T | undefined {
    const top = this.heap[0];
    if (!top || top.dueAt > now) return undefined;
    this.removeAt(0);
    return top.item;
  }

  /** Takes the item under `key` out of the heap; false when there was none. */
  remove(key: string): boolean {
    const entry = this.byKey.get(key);
    if (!entry) return false;
    this.removeAt(entry.index);
    return true;
  }

  /** Empties the heap and returns its items, earliest first. */
  drain(): T[] {
    const items: T[] = [];
    for (let top = this.heap[0]; top; top = this.heap[0]) {
      this.removeAt(0);
      items.push(top.item);
    }
    return items;
  }

  private removeAt(i: number): void {
    const heap = this.heap;
    const entry = heap[i];
    this.byKey.delete(entry.key);
    const last = heap.pop()!;
    if (last === entry) return;
    heap[i] = last;
    last.index = i;
    // The moved entry may belong above or below its new place.
    if (i > 0 && this.before(last, heap[(i - 1) >> 1])) this.up(i);
    else this.down(i);
  }

  private before(a: DueEntry<T>, b: DueEntry<T>): boolean {
    return a.dueAt !== b.dueAt ? a.dueAt < b.dueAt : a.seq < b.seq;
  }

  private up(i: number): void {
    const heap = this.heap;
    const entry = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(entry, heap[parent])) break;
      heap[i] = heap[parent];
      heap[i].index = i;
      i = parent;
    }
    heap[i] = entry;
    entry.index = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const entry = heap[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && this.before(heap[r], heap[l]) ? r : l;
      if (!this.before(heap[child], entry)) break;
      heap[i] = heap[child];
      heap[i].index = i;
      i = child;
    }
    heap[i] = entry;
    entry.index = i;
  }
}
