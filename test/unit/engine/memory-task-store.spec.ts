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

describe('MemoryTaskStore index by id', () => {
  /** Calls of Map's keyed methods with one of `ids` while `run` runs (the store hashing a task id). */
  function idLookups(ids: Set<string>, run: () => void): number {
    let calls = 0;
    const spies = (['get', 'set', 'has', 'delete'] as const).map((name) => {
      const original = Map.prototype[name] as (this: Map<unknown, unknown>, ...args: unknown[]) => unknown;
      return jest.spyOn(Map.prototype, name).mockImplementation(function (this: Map<unknown, unknown>, ...args: unknown[]) {
        if (ids.has(args[0] as string)) calls++;
        return original.apply(this, args);
      } as never);
    });
    try {
      run();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    return calls;
  }

  it('adds, finishes through the kept entry and evicts a burst without hashing an id, then answers lookups', () => {
    const store = new MemoryTaskStore(10);
    const tasks = Array.from({ length: 50 }, () => blankTask());
    const ids = new Set(tasks.map((t) => t.id));
    const calls = idLookups(ids, () => {
      const entries = tasks.map((task) => store.addNew(task));
      tasks.forEach((task, i) => {
        task.status = 'success';
        store.finish(task, entries[i]);
      });
    });
    expect(calls).toBe(0);
    expect(store.size).toBe(10);
    expect(store.unfinished).toBe(0);
    // The first lookup builds the index from what is held.
    expect(store.get(tasks[39].id)).toBeUndefined();
    expect(store.get(tasks[40].id)).toBe(tasks[40]);
    expect([...store.values()]).toEqual(tasks.slice(40));
  });

  it('keeps the index while lookups come and drops it once it went unread for longer than the records held', () => {
    const store = new MemoryTaskStore(5);
    const first = blankTask();
    store.addNew(first);
    expect(store.get(first.id)).toBe(first); // index built
    const kept = Array.from({ length: 3 }, () => blankTask());
    for (const task of kept) store.addNew(task);
    expect(idLookups(new Set(kept.map((t) => t.id)), () => store.get(kept[2].id))).toBe(1); // indexed as they came
    // More unread changes than records held plus the slack: the index goes, and later tasks are not hashed.
    const burst = Array.from({ length: 1100 }, () => blankTask({ status: 'success' }));
    for (const task of burst) store.addNew(task);
    const late = Array.from({ length: 20 }, () => blankTask());
    expect(idLookups(new Set(late.map((t) => t.id)), () => late.forEach((t) => store.addNew(t)))).toBe(0);
    expect(store.get(late[19].id)).toBe(late[19]);
    expect(store.get(burst[1099].id)).toBe(burst[1099]);
    expect(store.get(burst[1094].id)).toBeUndefined(); // evicted: 5 finished kept
    expect(store.size).toBe(1 + 3 + 5 + 20);
  });

  it('finishes the record stored under the id when the kept entry was replaced', () => {
    const store = new MemoryTaskStore(10);
    const task = blankTask();
    const entry = store.addNew(task);
    const copy: TaskData = { ...task };
    store.add(copy);
    task.status = 'success';
    copy.status = 'success';
    store.finish(task, entry); // stale entry: the copy under the id counts
    expect(store.unfinished).toBe(0);
    store.finish(copy);
    expect(store.unfinished).toBe(0);
    expect(store.get(task.id)).toBe(copy);
  });

  it('walks records in the order they were added while the walk deletes, evicts and adds, as a Map would', () => {
    const store = new MemoryTaskStore(1);
    const tasks = Array.from({ length: 6 }, (_, i) => blankTask({ id: `w${i}` }));
    for (const task of tasks) store.add(task);
    const seen: string[] = [];
    for (const task of store.values()) {
      seen.push(task.id);
      if (task.id === 'w1') {
        store.delete('w1'); // the record the walk stands on
        store.delete('w2'); // and the next
        tasks[3].status = 'success';
        store.finish(tasks[3]);
        tasks[4].status = 'success';
        store.finish(tasks[4]); // evicts w3
        store.add(blankTask({ id: 'w6' }));
      }
    }
    expect(seen).toEqual(['w0', 'w1', 'w4', 'w5', 'w6']);
  });
});

describe('MemoryTaskStore: a removed entry someone still holds', () => {
  it('does not hold the entries added after it once no walk is under way', () => {
    const store = new MemoryTaskStore(1);
    const kept = store.addNew(blankTask({ id: 'k' }));
    store.addNew(blankTask({ id: 'after' }));
    store.delete('k');
    expect(kept.held).toBe(false);
    expect(kept.next).toBeNull();
  });
});

describe('MemoryTaskStore entries: what the engine keeps with a held record', () => {
  it('entryFor gives the held entry by id, the caller’s kept entry while it is still held, and nothing once it is gone', () => {
    const store = new MemoryTaskStore(1);
    const a = blankTask({ id: 'a' });
    const entry = store.addNew(a);
    expect(store.entryFor('a', entry)).toBe(entry);
    expect(store.entryFor('a')).toBe(entry);
    expect(store.entryFor('missing')).toBeUndefined();
    const copy = blankTask({ id: 'a' });
    const newer = store.add(copy);
    // The kept entry no longer holds the record: the lookup by id finds the newer one.
    expect(store.entryFor('a', entry)).toBe(newer);
    store.delete('a');
    expect(store.entryFor('a', newer)).toBeUndefined();
  });

  it('a newer copy of a running record keeps its execution, so a cancel still finds it', () => {
    const store = new MemoryTaskStore(10);
    const running = blankTask({ id: 'r', status: 'running' });
    const execution = { running: 'r' };
    store.add(running).execution = execution;
    const copy = { ...running, version: running.version + 1 };
    expect(store.add(copy).execution).toBe(execution);
    expect(store.entryFor('r')!.execution).toBe(execution);
    expect(store.add(blankTask({ id: 'other' })).execution).toBeNull();
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
