import { DueHeap } from '../../lib/engine/due-heap';

/** A deterministic pseudo-random sequence (xorshift), so a failure can be replayed. */
function randoms(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('DueHeap', () => {
  it('pops only what is due, earliest first, FIFO among equal times', () => {
    const heap = new DueHeap<string>();
    heap.push('c', 30, 'c');
    heap.push('a', 10, 'a');
    heap.push('b1', 20, 'b1');
    heap.push('b2', 20, 'b2');
    expect(heap.nextDueAt).toBe(10);
    expect(heap.popDue(9)).toBeUndefined();
    expect([heap.popDue(25), heap.popDue(25), heap.popDue(25), heap.popDue(25)]).toEqual(['a', 'b1', 'b2', undefined]);
    expect(heap.size).toBe(1);
  });

  it('removes by key from anywhere in the heap and keeps the order of the rest', () => {
    const heap = new DueHeap<number>();
    const next = randoms(7);
    const due = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const at = Math.floor(next() * 500);
      due.set(`k${i}`, at);
      heap.push(`k${i}`, at, i);
    }
    for (let i = 0; i < 2000; i += 3) expect(heap.remove(`k${i}`)).toBe(true);
    expect(heap.remove('k0')).toBe(false);
    expect(heap.has('k1')).toBe(true);
    const out = heap.drain();
    expect(out).toHaveLength(2000 - 667);
    expect(out.some((i) => i % 3 === 0)).toBe(false);
    const times = out.map((i) => due.get(`k${i}`)!);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('replaces the entry of a key pushed again', () => {
    const heap = new DueHeap<string>();
    heap.push('x', 50, 'first');
    heap.push('x', 5, 'second');
    expect(heap.size).toBe(1);
    expect(heap.popDue(5)).toBe('second');
  });

  it('holds 1,000,000 entries: pushes, removals of 10 % and pops in due order', () => {
    const n = 1_000_000;
    const heap = new DueHeap<number>();
    const next = randoms(42);
    const due = new Float64Array(n);
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      due[i] = Math.floor(next() * 86_400_000);
      heap.push(String(i), due[i], i);
    }
    for (let i = 0; i < n; i += 10) heap.remove(String(i));
    let last = -Infinity;
    let count = 0;
    let ordered = true;
    for (let item = heap.popDue(Infinity); item !== undefined; item = heap.popDue(Infinity)) {
      if (due[item] < last || item % 10 === 0) ordered = false;
      last = due[item];
      count++;
    }
    const seconds = (performance.now() - started) / 1000;
    expect(ordered).toBe(true);
    expect(count).toBe(n - n / 10);
    // A sanity bound only (about 2 s on a quiet machine, 21 s once with the cores shared by
    // several test runs): n log n, not n², which would take hours at this n.
    expect(seconds).toBeLessThan(60);
  }, 120_000);
});
