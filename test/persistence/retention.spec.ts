import { INestApplication, Injectable } from '@nestjs/common';
import { BackgroundTask, TaskManager, getTaskContext } from '../../lib';
import { RetentionService } from '../../lib/persistence/retention.service';
import { createManagerApp } from '../support/app';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { createPersistentApp, dropTaskTables } from '../support/persistent-app';

const DAY = 86_400_000;

@Injectable()
class Jobs {
  @BackgroundTask()
  async ok(): Promise<void> {}
  @BackgroundTask()
  async bad(): Promise<void> {
    throw new Error('x');
  }
  @BackgroundTask()
  async hang(): Promise<void> {
    await new Promise((resolve) => getTaskContext()!.signal.addEventListener('abort', resolve));
  }
}

/** One finished task of each terminal status, plus one still running. */
async function seed(manager: TaskManager, jobs: Jobs): Promise<{ terminal: string[]; running: string }> {
  const ok = manager.addTask(jobs.ok);
  const bad = manager.addTask(jobs.bad);
  await manager.waitFor(ok);
  await manager.waitFor(bad);
  const cancelled = manager.addTask(jobs.hang);
  await new Promise((resolve) => setImmediate(resolve));
  await manager.cancel(cancelled);
  const running = manager.addTask(jobs.hang);
  await new Promise((resolve) => setImmediate(resolve));
  return { terminal: [ok, bad, cancelled], running };
}

async function expectPruned(app: INestApplication, manager: TaskManager, ids: { terminal: string[]; running: string }) {
  const retention = app.get(RetentionService);
  await retention.prune(Date.now());
  expect((await manager.listTasks()).total).toBe(4);
  await retention.prune(Date.now() + 8 * DAY);
  for (const id of ids.terminal) expect(await manager.getTask(id)).toBeNull();
  expect((await manager.getTask(ids.running))!.status).toBe('running');
  const [entry] = await manager.audit();
  expect(entry).toMatchObject({ action: 'delete_history', actor: 'retention', detail: { deleted: 3 } });
}

describe('retention in memory', () => {
  it('prunes success, failed and cancelled records older than retentionDays, never live ones', async () => {
    const { app, manager } = await createManagerApp({ retentionDays: 7 }, { providers: [Jobs] });
    const ids = await seed(manager, app.get(Jobs));
    await expectPruned(app, manager, ids);
    await app.close();
  });
});

describeEachDatabase('retention in the database', (target) => {
  const prefix = uniquePrefix();
  afterAll(() => dropTaskTables(target.options, prefix));

  it('prunes every terminal status from the database; one instance prunes per round', async () => {
    const a = await createPersistentApp(target.options, prefix, { retentionDays: 7 }, { providers: [Jobs] });
    const b = await createPersistentApp(target.options, prefix, { retentionDays: 7 }, { providers: [Jobs] });
    const ids = await seed(a.manager, a.app.get(Jobs));
    await expectPruned(a.app, a.manager, ids);
    // Same round for b: a holds the lease, so b does nothing (no audit entry of its own).
    await b.app.get(RetentionService).prune(Date.now() + 8 * DAY);
    const entries = (await b.manager.audit()).filter((e) => e.actor === 'retention');
    expect(entries.filter((e) => (e.detail as { deleted: number }).deleted === 3)).toHaveLength(1);
    expect(entries).toHaveLength(2);
    await a.app.close();
    await b.app.close();
  });
});
