import { MemoryTaskStore } from '../../../lib/storage/memory-task.store';
import type { TaskData } from '../../../lib/task/task-record';
import { capResult } from '../../../lib/task/task-attempt';
import { blankTask } from '../../support/task-data';

describe('MemoryTaskStore bookkeeping', () => {
  it('counts unfinished tasks and evicts the oldest finished past its bound, telling listeners', () => {
    const store = new MemoryTaskStore(2);
    const evicted: string[] = [];
    store.onEvicted((task) => evicted.push(task.id));
    const tasks = Array.from({ length: 4 }, (_, i) => blankTask({ id: `t${i}` }));
    for (const task of tasks) store.add(task);
    expect(store.unfinished).toBe(4);
    for (const task of tasks) {
      task.status = 'success';
      store.finish(task);
      store.finish(task); // twice: counted once
    }
    expect(store.unfinished).toBe(0);
    expect(evicted).toEqual(['t0', 't1']);
    expect([...store.values()].map((t) => t.id)).toEqual(['t2', 't3']);
    expect(store.get('t0')).toBeUndefined();
    expect(store.get('t3')).toBe(tasks[3]);
  });

  it('keeps its counts through delete and replacement, and skips deleted records when evicting', () => {
    const store = new MemoryTaskStore(1);
    const evicted: string[] = [];
    store.onEvicted((task) => evicted.push(task.id));
    const a = blankTask({ id: 'a', status: 'failed' });
    store.add(a);
    expect(store.delete('a')).toBe(true);
    expect(store.delete('a')).toBe(false);
    // A finished record taken back as pending (a requeue) is unfinished again.
    const b = blankTask({ id: 'b', status: 'success' });
    store.add(b);
    const again: TaskData = { ...b, status: 'pending' };
    store.add(again);
    expect(store.unfinished).toBe(1);
    expect(store.get('b')).toBe(again);
    again.status = 'success';
    store.finish(again);
    const c = blankTask({ id: 'c', status: 'cancelled' });
    store.add(c);
    expect(evicted).toEqual(['b']);
    expect(store.size).toBe(1);
    expect(store.unfinished).toBe(0);
  });
});

describe('capResult fast path', () => {
  it('gives what the JSON round trip gives for scalars', () => {
    for (const value of [undefined, null, 0, -0, 1.5, -7, NaN, Infinity, true, false, '', 'text', '\ud800', () => 1, Symbol('s')]) {
      const viaJson = JSON.stringify(value) === undefined ? null : JSON.parse(JSON.stringify(value));
      expect(Object.is(capResult(value), viaJson)).toBe(true);
    }
  });
});
