/**
 * Delayed tasks in memory, on jest's fake clock: `delay` / `runAt` keep a task pending
 * with its run_at until due, one timer serves them all, and the due ones start in due
 * order and never before their time.
 */
import { INestApplication, Injectable } from '@nestjs/common';
import { BackgroundTask, TaskManager, getTaskContext } from '../../lib';
import { TaskRuntime } from '../../lib/engine/task-runtime';
import { createManagerApp } from '../support/app';

const T0 = Date.parse('2026-05-01T09:00:00.000Z');

@Injectable()
class Reminders {
  starts: { label: string; at: number }[] = [];
  failuresLeft = 0;

  @BackgroundTask({ name: 'Reminders.send' })
  async send(label: string): Promise<string> {
    this.starts.push({ label, at: Date.now() });
    return label;
  }

  @BackgroundTask({ name: 'Reminders.flaky', retries: 2, delay: 1, backoff: 2 })
  async flaky(label: string): Promise<void> {
    this.starts.push({ label, at: Date.now() });
    if (this.failuresLeft-- > 0) throw new Error(`attempt ${getTaskContext()!.attempt} failed`);
  }
}

describe('delayed tasks (memory, fake timers)', () => {
  let app: INestApplication;
  let manager: TaskManager;
  let runtime: TaskRuntime;
  let jobs: Reminders;

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'], now: T0 });
    ({ app, manager } = await createManagerApp({}, { providers: [Reminders] }));
    runtime = app.get(TaskRuntime);
    jobs = app.get(Reminders);
  });

  afterEach(async () => {
    await app.close();
    jest.useRealTimers();
  });

  it('keeps a task pending with run_at until its delay has passed, then runs it; run_at is null without a delay', async () => {
    const later = manager.addTask(jobs.send, ['later'], { delay: 90 });
    const now = manager.addTask(jobs.send, ['now']);
    await jest.advanceTimersByTimeAsync(0);

    const waiting = (await manager.getTask(later))!;
    expect(waiting.status).toBe('pending');
    expect(waiting.run_at).toBe('2026-05-01T09:01:30.000Z');
    expect(Object.keys(waiting).slice(15, 18)).toEqual(['progress', 'instance', 'run_at']);
    expect((await manager.waitFor(now)).run_at).toBeNull();

    await jest.advanceTimersByTimeAsync(89_999);
    expect((await manager.getTask(later))!.status).toBe('pending');
    await jest.advanceTimersByTimeAsync(1);
    const done = await manager.waitFor(later);
    expect(done.status).toBe('success');
    expect(done.start_time).toBe('2026-05-01T09:01:30.000Z');
    expect(done.run_at).toBe('2026-05-01T09:01:30.000Z');
  });

  it('starts 1,000 tasks with spread due times in due order, none early, on one timer', async () => {
    const timersBefore = jest.getTimerCount();
    // Added in a shuffled order: due order must come from the heap, not from insertion.
    const offsets = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000).map((k) => 1000 + k * 37);
    const dueOf = new Map<string, number>();
    offsets.forEach((ms, i) => {
      const label = `t${i}`;
      dueOf.set(label, T0 + ms);
      manager.addTask(jobs.send, [label], { runAt: new Date(T0 + ms) });
    });
    expect(runtime.delayedCount).toBe(1000);
    expect(jest.getTimerCount() - timersBefore).toBe(1);

    // Halfway, exactly the tasks due by then have started.
    await jest.advanceTimersByTimeAsync(1000 + 500 * 37);
    expect(jobs.starts.length).toBe(501);
    await jest.advanceTimersByTimeAsync(40_000);
    await manager.drain();

    expect(jobs.starts).toHaveLength(1000);
    const early = jobs.starts.filter((s) => s.at < dueOf.get(s.label)!);
    expect(early).toEqual([]);
    const dueTimes = jobs.starts.map((s) => dueOf.get(s.label)!);
    expect(dueTimes).toEqual([...dueTimes].sort((a, b) => a - b));
    // Each started when it came due: the fake clock does not drift.
    expect(jobs.starts.every((s) => s.at === dueOf.get(s.label))).toBe(true);
    expect(runtime.delayedCount).toBe(0);
    expect(jest.getTimerCount()).toBe(timersBefore);
  });

  it('cancels a waiting task: it leaves the heap (and its timer) at once and never runs', async () => {
    const timersBefore = jest.getTimerCount();
    const id = manager.addTask(jobs.send, ['cancelled'], { delay: 60 });
    const kept = manager.addTask(jobs.send, ['kept'], { delay: 120 });
    expect(runtime.delayedCount).toBe(2);

    const cancelled = await manager.cancel(id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.run_at).toBe('2026-05-01T09:01:00.000Z');
    expect(runtime.delayedCount).toBe(1);
    await manager.cancel(kept);
    expect(runtime.delayedCount).toBe(0);
    expect(jest.getTimerCount()).toBe(timersBefore);

    await jest.advanceTimersByTimeAsync(200_000);
    expect(jobs.starts).toEqual([]);
    expect((await manager.getTask(id))!.status).toBe('cancelled');
  });

  it('runs a task whose runAt is already past at once, with run_at the time it was added', async () => {
    const id = manager.addTask(jobs.send, ['past'], { runAt: new Date(T0 - 3_600_000) });
    const zero = manager.addTask(jobs.send, ['zero'], { delay: 0 });
    const [past, noDelay] = await Promise.all([manager.waitFor(id), manager.waitFor(zero)]);
    expect(past.status).toBe('success');
    expect(past.run_at).toBe(past.created_at);
    expect(noDelay.run_at).toBe(noDelay.created_at);
    expect(runtime.delayedCount).toBe(0);
  });

  it('refuses both options at once, bad delays and bad dates, naming the option', () => {
    const add = (options: object) => () => manager.addTask(jobs.send, ['x'], options);
    expect(add({ delay: 1, runAt: new Date() })).toThrow(/either delay .* or runAt .*not both/);
    for (const delay of [-1, NaN, Infinity, '5', null, 1e20]) expect(add({ delay })).toThrow(/delay must be a finite number of seconds >= 0/);
    for (const runAt of [new Date('nope'), T0 + 1000, '2026-05-01T10:00:00Z', null]) expect(add({ runAt })).toThrow(/runAt must be a valid Date/);
    expect(runtime.delayedCount).toBe(0);
  });

  it('keeps the decorator delay as the spacing of retries: first attempt when due, retries 1 s and 2 s later', async () => {
    jobs.failuresLeft = 2;
    const id = manager.addTask(jobs.flaky, ['retried'], { delay: 10 });
    await jest.advanceTimersByTimeAsync(13_000);
    const record = await manager.waitFor(id);
    expect(record.status).toBe('success');
    expect(record.retries_used).toBe(2);
    expect(jobs.starts.map((s) => s.at - T0)).toEqual([10_000, 11_000, 13_000]);
  });

  it("runs the retry of a failed delayed task at once: the delay was the original's", async () => {
    jobs.failuresLeft = 3;
    const id = manager.addTask(jobs.flaky, ['fails'], { delay: 10 });
    await jest.advanceTimersByTimeAsync(13_000);
    expect((await manager.waitFor(id)).status).toBe('failed');
    jobs.failuresLeft = 0;
    const copy = await manager.retry(id);
    expect(copy.run_at).toBeNull();
    await jest.advanceTimersByTimeAsync(0);
    expect((await manager.waitFor(copy.task_id)).start_time).toBe(copy.created_at);
  });

  it('arms past the longest setTimeout: a task 30 days out runs on its day', async () => {
    const id = manager.addTask(jobs.send, ['month'], { delay: 30 * 86_400 });
    await jest.advanceTimersByTimeAsync(30 * 86_400_000 - 1);
    expect(jobs.starts).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect((await manager.waitFor(id)).start_time).toBe('2026-05-31T09:00:00.000Z');
  });

  it('holds a waiting task key, and enqueue without a database honours the delay too', async () => {
    const first = manager.addTask(jobs.send, ['keyed'], { delay: 5, idempotencyKey: 'reminder:1' });
    expect(manager.addTask(jobs.send, ['keyed again'], { idempotencyKey: 'reminder:1' })).toBe(first);
    const enqueued = await manager.enqueue(jobs.send, ['enqueued'], { delay: 5 });
    expect((await manager.getTask(enqueued))!.run_at).toBe('2026-05-01T09:00:05.000Z');
    await jest.advanceTimersByTimeAsync(5_000);
    await manager.drain();
    expect(jobs.starts.map((s) => [s.label, s.at - T0])).toEqual([
      ['keyed', 5000],
      ['enqueued', 5000],
    ]);
  });

  it('marks waiting tasks that are not durable interrupted at shutdown, without waiting for them', async () => {
    const id = manager.addTask(jobs.send, ['never'], { delay: 3600 });
    const events: string[] = [];
    manager.events$.subscribe((r) => r.task_id === id && events.push(r.status));
    await app.close();
    expect(events).toEqual(['interrupted']);
    expect(runtime.delayedCount).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    ({ app, manager } = await createManagerApp({}, { providers: [Reminders] }));
  });
});
