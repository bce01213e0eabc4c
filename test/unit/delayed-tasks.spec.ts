import { DelayedTasks, WaitingTask } from '../../lib/engine/delayed-tasks';
import { RegisteredTask } from '../../lib/discovery/registered-task';
import { blankTask } from '../support/task-data';

const registered = {} as RegisteredTask;

describe('DelayedTasks', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('holds 20,000 tasks on one timer and hands them on in due order, at most 5,000 per turn', async () => {
    const handed: WaitingTask[] = [];
    const delays = new DelayedTasks((next) => handed.push(next));
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      // Due within one second, added in a scrambled order: the order must come from the heap.
      delays.hold(blankTask({ id: `t${i}`, runAt: 1_001_000 + ((i * 7919) % n) / 20 }), registered);
    }
    expect(delays.size).toBe(n);
    expect(jest.getTimerCount()).toBe(1);
    // All of them due when the timer fires: one batch, then the rest on later turns.
    jest.setSystemTime(1_005_000);
    jest.advanceTimersToNextTimer();
    expect(handed).toHaveLength(5000);
    expect(jest.getTimerCount()).toBe(1);
    await jest.advanceTimersByTimeAsync(100);
    expect(handed).toHaveLength(n);
    const times = handed.map((q) => q.task.runAt!);
    expect(times.every((t, i) => i === 0 || times[i - 1] <= t)).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  }, 60_000);

  it('does not hold a task without a run_at, or one already due', () => {
    const delays = new DelayedTasks(() => undefined);
    expect(delays.hold(blankTask({ runAt: null }), registered)).toBe(false);
    expect(delays.hold(blankTask({ runAt: Date.now() }), registered)).toBe(false);
    expect(delays.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('re-arms for an earlier task and disarms when the last one leaves', () => {
    const handed: string[] = [];
    const delays = new DelayedTasks((next) => handed.push(next.task.id));
    delays.hold(blankTask({ id: 'late', runAt: Date.now() + 10_000 }), registered);
    delays.hold(blankTask({ id: 'early', runAt: Date.now() + 100 }), registered);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(100);
    expect(handed).toEqual(['early']);
    expect(delays.remove('late')).toBe(true);
    expect(delays.remove('late')).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('hands nothing on after stop()', () => {
    const handed: string[] = [];
    const delays = new DelayedTasks((next) => handed.push(next.task.id));
    delays.hold(blankTask({ id: 'a', runAt: Date.now() + 100 }), registered);
    delays.stop();
    jest.advanceTimersByTime(1000);
    expect(handed).toEqual([]);
    expect(delays.size).toBe(1);
  });
});
