import { ChangeWindow } from '../../lib/stream/change-window';
import { blankTask } from '../support/task-data';

describe('ChangeWindow', () => {
  it('gives each task once, in its latest state, in the order of its first change, and starts the next window empty', () => {
    const window = new ChangeWindow();
    const a = blankTask({ id: 'a' });
    const b = blankTask({ id: 'b' });
    window.add(a);
    window.add(b);
    a.status = 'running';
    window.add(a);
    // Another object of task b (a change another instance made, a record read again): merged by id, the latest kept.
    const bAgain = { ...b, status: 'success' as const };
    window.add(bAgain);
    expect(window.size).toBe(4);
    const taken = window.take();
    expect(taken.map((t) => [t.id, t.status])).toEqual([
      ['a', 'running'],
      ['b', 'success'],
    ]);
    expect(taken[1]).toBe(bAgain);
    expect(window.size).toBe(0);
    expect(window.take()).toEqual([]);
    window.add(b);
    expect(window.take()).toEqual([b]);
  });

  it('holds no task once taken or cleared', () => {
    const window = new ChangeWindow();
    for (let i = 0; i < 5; i++) window.add(blankTask());
    window.take();
    expect((window as unknown as { changes: unknown[] }).changes.every((slot) => slot === undefined)).toBe(true);
    window.add(blankTask());
    window.clear();
    expect(window.size).toBe(0);
    expect(window.take()).toEqual([]);
  });
});
