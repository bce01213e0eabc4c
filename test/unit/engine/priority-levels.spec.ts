import { PriorityLevels } from '../../../lib/engine/priority-levels';
import { PriorityQueue } from '../../../lib/engine/priority-queue';

describe('PriorityLevels (the task queue order)', () => {
  it('pops the highest priority first, FIFO among equals, as the heap does', () => {
    const levels = new PriorityLevels<number>();
    const heap = new PriorityQueue<number>();
    let seed = 11;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const out: [number[], number[]] = [[], []];
    for (let i = 0; i < 3000; i++) {
      const priority = Math.floor(random() * 4) - 1;
      levels.push(i, priority);
      heap.push(i, priority);
      // Pops interleaved with pushes, as slots free up during a burst.
      if (random() < 0.4) {
        out[0].push(levels.pop()!);
        out[1].push(heap.pop()!);
      }
    }
    while (heap.size > 0) {
      out[0].push(levels.pop()!);
      out[1].push(heap.pop()!);
    }
    expect(levels.size).toBe(0);
    expect(levels.pop()).toBeUndefined();
    expect(out[0]).toEqual(out[1]);
  });

  it('puts an item pushed back with its old sequence number at its place again', () => {
    const levels = new PriorityLevels<string>();
    const seqs = new Map(['a', 'b', 'c', 'd', 'e'].map((item) => [item, levels.push(item, 0)]));
    expect(levels.pop()).toBe('a');
    expect(levels.pop()).toBe('b');
    expect(levels.pop()).toBe('c');
    // Parked and let go again: a before d (the head moves back), then c in the middle.
    levels.push('a', 0, seqs.get('a'));
    expect(levels.peek()).toBe('a');
    levels.push('c', 0, seqs.get('c'));
    levels.push('f', 0);
    expect([levels.pop(), levels.pop(), levels.pop(), levels.pop(), levels.pop()]).toEqual(['a', 'c', 'd', 'e', 'f']);
  });

  it('keeps order across its compaction of a long FIFO', () => {
    const levels = new PriorityLevels<number>();
    for (let i = 0; i < 5000; i++) levels.push(i, 0);
    const out: number[] = [];
    for (let i = 0; i < 4000; i++) out.push(levels.pop()!);
    for (let i = 5000; i < 6000; i++) levels.push(i, 0);
    while (levels.size > 0) out.push(levels.pop()!);
    expect(out).toEqual(Array.from({ length: 6000 }, (_, i) => i));
  });

  it('keeps the order when it empties after each item, as a queue holding one task per request does', () => {
    const levels = new PriorityLevels<number>();
    const heap = new PriorityQueue<number>();
    const out: [(number | undefined)[], (number | undefined)[]] = [[], []];
    // Mostly one priority, now and then others, one or two items in the queue at a time.
    const priorities = [0, 0, 0, 5, 0, -2, -2, 0, 3, 0, 0, -1, 7, 0];
    for (let i = 0; i < 600; i++) {
      const priority = priorities[i % priorities.length];
      levels.push(i, priority);
      heap.push(i, priority);
      if (i % 3 === 1) {
        levels.push(-i, priority - 1);
        heap.push(-i, priority - 1);
      }
      expect(levels.peek()).toBe(heap.peek());
      while (heap.size > (i % 5 === 0 ? 1 : 0)) {
        out[0].push(levels.pop());
        out[1].push(heap.pop());
      }
      expect(levels.size).toBe(heap.size);
    }
    while (heap.size > 0) {
      out[0].push(levels.pop());
      out[1].push(heap.pop());
    }
    expect(levels.pop()).toBeUndefined();
    expect(levels.peek()).toBeUndefined();
    expect(out[0]).toEqual(out[1]);
  });

  it('starts an emptied level again from its first slot, and lets go of a burst-sized one', () => {
    const levels = new PriorityLevels<number>();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3000; i++) levels.push(round * 10_000 + i, 0);
      for (let i = 0; i < 3000; i++) expect(levels.pop()).toBe(round * 10_000 + i);
      expect(levels.size).toBe(0);
      levels.push(1, 0);
      levels.push(2, 0);
      expect([levels.pop(), levels.pop(), levels.pop()]).toEqual([1, 2, undefined]);
    }
  });
});
