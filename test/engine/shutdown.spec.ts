import { Injectable } from '@nestjs/common';
import { BackgroundTask, TaskRecord, getTaskContext } from '../../lib';
import { createManagerApp } from '../support/app';
import { Gate } from '../support/gate';

@Injectable()
class Work {
  gate = new Gate();
  aborted = false;
  @BackgroundTask()
  async hang(): Promise<void> {
    const signal = getTaskContext()!.signal;
    signal.addEventListener('abort', () => (this.aborted = true));
    await this.gate.promise;
  }

  @BackgroundTask()
  async quick(): Promise<void> {
    await this.gate.promise;
  }
}

describe('shutdown', () => {
  it('interrupts running and waiting tasks after the grace period, aborting signals and ending streams', async () => {
    const { app, manager } = await createManagerApp({ maxConcurrentTasks: 1, shutdownGracePeriod: 0 }, { providers: [Work] });
    const work = app.get(Work);
    const running = manager.addTask(work.hang);
    const waiting = manager.addTask(work.hang);
    await new Promise((resolve) => setImmediate(resolve));
    const seen: TaskRecord[] = [];
    let completed = false;
    manager.events$.subscribe({ next: (r) => seen.push(r), complete: () => (completed = true) });
    await app.close();
    expect(work.aborted).toBe(true);
    expect(completed).toBe(true);
    const final = new Map(seen.map((r) => [r.task_id, r]));
    expect(final.get(running)!.status).toBe('interrupted');
    expect(final.get(waiting)!.status).toBe('interrupted');
    expect(final.get(waiting)!.start_time).toBeNull();
    expect(() => manager.addTask(work.quick)).toThrow(/shut down/);
  });

  it('lets running tasks finish within the grace period', async () => {
    const { app, manager } = await createManagerApp({ shutdownGracePeriod: 30 }, { providers: [Work] });
    const work = app.get(Work);
    const id = manager.addTask(work.quick);
    await new Promise((resolve) => setImmediate(resolve));
    const closing = app.close();
    const finished = manager.waitFor(id);
    work.gate.open();
    await closing;
    expect((await finished).status).toBe('success');
  });
});
