import { INestApplication, Injectable } from '@nestjs/common';
import { BackgroundTask, TaskManager } from '../../lib';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { DatabaseTarget, describeEachDatabase, uniquePrefix } from '../support/databases';
import { createPersistentApp, dropTaskTables } from '../support/persistent-app';

@Injectable()
class Burst {
  @BackgroundTask()
  async noop(): Promise<void> {}
}

/**
 * A burst of durable tasks that finish while their batches are being written: the
 * engine changes a task's object during the backend's awaits. The stored rows and the
 * metric aggregates must describe the same states, and flush() must not return before
 * the last batch is in (both once failed for ~1 % of a 100,000-task burst).
 */
describeEachDatabase('durable burst, rows and metrics', (target: DatabaseTarget) => {
  const prefix = uniquePrefix();
  let app: INestApplication;
  let manager: TaskManager;

  beforeAll(async () => {
    ({ app, manager } = await createPersistentApp(target.options, prefix, { requeuePending: true, maxConcurrentTasks: 32 }, { providers: [Burst] }));
  });
  afterAll(async () => {
    await app?.close();
    await dropTaskTables(target.options, prefix);
  });

  it('stores every task of a 20,000-task burst once, as success, with metrics that agree', async () => {
    const burst = app.get(Burst);
    const n = 20_000;
    for (let i = 0; i < n; i++) manager.addTask(burst.noop);
    await manager.drain();
    await manager.flush();

    const backend = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
    await backend.open();
    try {
      const metrics = await backend.metrics();
      expect([metrics.total, metrics.success, metrics.pending, metrics.running]).toEqual([n, n, 0, 0]);
      expect((await backend.listTasks({ status: 'success', limit: 1 })).total).toBe(n);
      expect((await backend.listTasks({ status: 'pending', limit: 1 })).total).toBe(0);
    } finally {
      await backend.close();
    }
  }, 60_000);
});
