import { INestApplication, Injectable } from '@nestjs/common';
import { BackgroundTask, InvalidTransitionError, TaskManager, TaskNotFoundError, getTaskContext } from '../../lib';
import { createManagerApp } from '../support/app';
import { Gate } from '../support/gate';

@Injectable()
class Worker {
  order: string[] = [];
  gate = new Gate();
  signals: AbortSignal[] = [];
  attempts = 0;

  @BackgroundTask()
  async blocker(): Promise<void> {
    await this.gate.promise;
  }

  @BackgroundTask()
  async record(label: string): Promise<void> {
    this.order.push(label);
  }

  @BackgroundTask({ priority: 5 })
  async important(label: string): Promise<void> {
    this.order.push(label);
  }

  @BackgroundTask({ retries: 3, delay: 0 })
  async waitsForAbort(): Promise<void> {
    this.attempts++;
    const signal = getTaskContext()!.signal;
    this.signals.push(signal);
    await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
  }
}

describe('concurrency cap, priority and cancellation', () => {
  let app: INestApplication;
  let manager: TaskManager;
  let worker: Worker;

  beforeEach(async () => {
    ({ app, manager } = await createManagerApp({ maxConcurrentTasks: 1 }, { providers: [Worker] }));
    worker = app.get(Worker);
  });

  afterEach(() => app.close());

  it('starts waiting tasks by priority, FIFO among equals, one at a time', async () => {
    const block = manager.addTask(worker.blocker);
    await new Promise((resolve) => setImmediate(resolve));
    manager.addTask(worker.record, ['low-1']);
    manager.addTask(worker.record, ['p9'], { priority: 9 });
    manager.addTask(worker.important, ['decorator-p5']);
    manager.addTask(worker.record, ['low-2']);
    manager.addTask(worker.record, ['p9-second'], { priority: 9 });
    manager.addTask(worker.important, ['override-p1'], { priority: 1 });
    await Promise.resolve();
    expect((await manager.getTask(block))!.status).toBe('running');
    expect(worker.order).toEqual([]);
    worker.gate.open();
    await manager.drain();
    expect(worker.order).toEqual(['p9', 'p9-second', 'decorator-p5', 'override-p1', 'low-1', 'low-2']);
  });

  it('shows priority from the call, else the decorator, else null', async () => {
    const a = manager.addTask(worker.important, ['a']);
    const b = manager.addTask(worker.important, ['b'], { priority: 2 });
    const c = manager.addTask(worker.record, ['c']);
    expect((await manager.getTask(a))!.priority).toBe(5);
    expect((await manager.getTask(b))!.priority).toBe(2);
    expect((await manager.getTask(c))!.priority).toBeNull();
    await manager.drain();
  });

  it('never runs a task cancelled while pending', async () => {
    manager.addTask(worker.blocker);
    const victim = manager.addTask(worker.record, ['victim']);
    const survivor = manager.addTask(worker.record, ['survivor']);
    const cancelled = await manager.cancel(victim, { actor: 'alice' });
    expect(cancelled.status).toBe('cancelled');
    worker.gate.open();
    await manager.drain();
    expect(worker.order).toEqual(['survivor']);
    expect((await manager.getTask(victim))!.status).toBe('cancelled');
    expect((await manager.getTask(survivor))!.status).toBe('success');
    const [entry] = await manager.audit();
    expect(entry).toMatchObject({ action: 'cancel', task_id: victim, actor: 'alice' });
  });

  it('aborts the signal of a running task, records cancelled at once and starts no further attempt', async () => {
    const id = manager.addTask(worker.waitsForAbort);
    const next = manager.addTask(worker.record, ['after']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(worker.signals).toHaveLength(1);
    const record = await manager.cancel(id);
    expect(record.status).toBe('cancelled');
    expect(record.end_time).not.toBeNull();
    expect(worker.signals[0].aborted).toBe(true);
    await manager.waitFor(next);
    await new Promise((resolve) => setImmediate(resolve));
    expect(worker.attempts).toBe(1);
    const final = await manager.getTask(id);
    expect(final!.status).toBe('cancelled');
    expect(final!.retries_used).toBe(0);
  });

  it('refuses to cancel finished tasks and unknown ids', async () => {
    const id = manager.addTask(worker.record, ['x']);
    await manager.waitFor(id);
    await expect(manager.cancel(id)).rejects.toBeInstanceOf(InvalidTransitionError);
    await expect(manager.cancel('nope')).rejects.toBeInstanceOf(TaskNotFoundError);
  });

  it('lets the event loop turn during a burst of tasks that settle at once, under a cap of 1', async () => {
    // Each finishing task starts the next from a microtask; without a per-turn limit the
    // whole burst ran before any timer, I/O or group commit got a turn.
    const ids = Array.from({ length: 5_000 }, (_, i) => manager.addTask(worker.record, [`burst-${i}`]));
    let finishedWhenTurned = -1;
    setImmediate(() => (finishedWhenTurned = worker.order.length));
    await manager.drain();
    expect(worker.order).toHaveLength(ids.length);
    expect(finishedWhenTurned).toBeGreaterThan(0);
    expect(finishedWhenTurned).toBeLessThan(ids.length);
  });

  it('cancels a running task found after a burst nobody looked up (its execution is kept with its record)', async () => {
    const running = manager.addTask(worker.waitsForAbort);
    // More changes than records with no lookup by id: the store drops its index meanwhile.
    const queued = Array.from({ length: 3000 }, (_, i) => manager.addTask(worker.record, [`q${i}`]));
    await new Promise((resolve) => setImmediate(resolve));
    expect(worker.signals).toHaveLength(1);
    const record = await manager.cancel(running);
    expect(record.status).toBe('cancelled');
    expect(worker.signals[0].aborted).toBe(true);
    // Its slot went back: the queue behind it runs, and no further attempt of it starts.
    await manager.drain();
    expect(worker.order).toHaveLength(queued.length);
    expect(worker.attempts).toBe(1);
    expect((await manager.getTask(running))!.status).toBe('cancelled');
  });
});
