import { PriorityQueue } from '../../lib/engine/priority-queue';

describe('PriorityQueue', () => {
  it('pops the highest priority first', () => {
    const queue = new PriorityQueue<string>();
    for (const [item, priority] of [
      ['low', -5],
      ['mid', 0],
      ['top', 10],
      ['high', 3],
    ] as const)
      queue.push(item, priority);
    expect([queue.pop(), queue.pop(), queue.pop(), queue.pop(), queue.pop()]).toEqual(['top', 'high', 'mid', 'low', undefined]);
    expect(queue.size).toBe(0);
  });

  it('keeps FIFO order among equal priorities, also when pushes and pops interleave', () => {
    const queue = new PriorityQueue<number>();
    for (let i = 0; i < 50; i++) queue.push(i, i % 2);
    const out: number[] = [];
    for (let i = 0; i < 10; i++) out.push(queue.pop()!);
    for (let i = 50; i < 60; i++) queue.push(i, 1);
    while (queue.size > 0) out.push(queue.pop()!);
    const odd = out.filter((n) => n % 2 === 1 || n >= 50);
    const even = out.filter((n) => n % 2 === 0 && n < 50);
    // Every priority-1 item before any priority-0 one, each group in insertion order.
    expect(out).toEqual([...odd, ...even]);
    expect(odd).toEqual([...odd].sort((a, b) => a - b));
    expect(even).toEqual([...even].sort((a, b) => a - b));
    expect(out).toHaveLength(60);
  });

  it('stays ordered over many random pushes', () => {
    const queue = new PriorityQueue<{ p: number; seq: number }>();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const items = Array.from({ length: 2000 }, (_, seq) => ({ p: Math.floor(random() * 10), seq }));
    for (const item of items) queue.push(item, item.p);
    const popped = Array.from({ length: items.length }, () => queue.pop()!);
    expect(popped).toEqual([...items].sort((a, b) => b.p - a.p || a.seq - b.seq));
  });
});
