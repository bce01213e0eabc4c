/**
 * Flow control with a real database: concurrency and rate limits held across two
 * replicas (two apps in this process on one database, each with its own instance id),
 * counted from the stored records; a pause that holds on every replica and across a
 * restart, audited.
 */
import { INestApplication, Injectable } from '@nestjs/common';
import { BackgroundTask, TaskBackend, TaskManager, TaskRecord } from '../../lib';
import { TaskStorage } from '../../lib/engine/task-storage';
import { pollUntil } from '../support/crash-child';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { maxOverlap, maxStartsInWindow } from '../support/flow-records';
import { createPersistentApp, dropTaskTables } from '../support/persistent-app';

const WORK_MS = 40;

@Injectable()
class Flow {
  static ran: string[] = [];

  @BackgroundTask({ name: 'Flow.limited', concurrency: 2 })
  async limited(i: number): Promise<void> {
    void i;
    // Long enough that tasks of two replicas would overlap without the limit.
    await new Promise((resolve) => setTimeout(resolve, WORK_MS));
  }

  @BackgroundTask({ name: 'Flow.rated', rateLimit: { max: 5, perSeconds: 1 }, rateLimitKey: (tenant: string) => tenant })
  async rated(tenant: string, i: number): Promise<void> {
    void [tenant, i];
  }

  @BackgroundTask({ name: 'Flow.pausable' })
  async pausable(label: string): Promise<void> {
    Flow.ran.push(label);
  }

  @BackgroundTask({ name: 'Flow.control' })
  async control(): Promise<void> {}
}

describeEachDatabase('flow control across replicas', (target) => {
  const prefix = uniquePrefix();
  const apps: { app: INestApplication; manager: TaskManager }[] = [];
  const start = async (options: Record<string, unknown> = {}) => {
    const made = await createPersistentApp(target.options, prefix, { requeuePending: true, ...options }, { providers: [Flow] });
    apps.push(made);
    return made;
  };
  /** The records as stored, once every replica wrote what it holds. */
  const stored = async (manager: TaskManager, ids: string[]): Promise<TaskRecord[]> => {
    for (const app of apps) await app.manager.flush();
    return (await Promise.all(ids.map((id) => manager.getTask(id)))) as TaskRecord[];
  };

  afterEach(async () => {
    for (const { app } of apps.splice(0)) await app.close();
  });
  afterAll(() => dropTaskTables(target.options, prefix));

  it('never runs more than 2 of 20 limited tasks at once over two replicas', async () => {
    const [a, b] = [await start({ instanceLeaseSeconds: 3 }), await start({ instanceLeaseSeconds: 3 })];
    // Two apps of one process: the second took the first's instance row for its own dead
    // predecessor (same host and pid) and removed it; a slot is held only by a live
    // instance, so wait for the first's next heartbeat.
    const backend = b.app.get(TaskBackend);
    const ids = [a, b].map((r) => r.app.get(TaskStorage).instanceId);
    await pollUntil(
      'both instances live',
      async () => {
        const live = new Set((await backend.listInstances()).map((i) => i.id));
        return ids.every((id) => live.has(id));
      },
      10_000,
      100,
    );
    const tasks = Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).manager.addTask('Flow.limited', [i]));
    await Promise.all([a.manager.drain(), b.manager.drain()]);
    const records = await stored(a.manager, tasks);
    expect(records.map((r) => r.status)).toEqual(Array(20).fill('success'));
    expect(maxOverlap(records)).toBe(2);
  }, 60_000);

  it('starts at most 5 per second per tenant over two replicas', async () => {
    const [a, b] = [await start(), await start()];
    const ids: Record<string, string[]> = { acme: [], globex: [] };
    for (let i = 0; i < 8; i++) {
      for (const tenant of ['acme', 'globex']) ids[tenant].push((i % 2 ? a : b).manager.addTask('Flow.rated', [tenant, i]));
    }
    await Promise.all([a.manager.drain(), b.manager.drain()]);
    const all: TaskRecord[] = [];
    for (const tenant of ['acme', 'globex']) {
      const records = await stored(a.manager, ids[tenant]);
      expect(records.map((r) => r.status)).toEqual(Array(8).fill('success'));
      expect(maxStartsInWindow(records, 1000)).toBeLessThanOrEqual(5);
      all.push(...records);
    }
    // The tenants' windows are their own: together they went faster than 5 per second.
    expect(maxStartsInWindow(all, 1000)).toBeGreaterThan(5);
  }, 60_000);

  it('keeps a paused function pending on every replica and across a restart, runs it on resume, and audits both', async () => {
    Flow.ran = [];
    const a = await start();
    const b = await start();
    await a.manager.pause('Flow.pausable', { actor: 'ops' });
    await pollUntil('the pause seen by the other replica', () => b.manager.isPaused('Flow.pausable'));
    const ids = [a.manager.addTask('Flow.pausable', ['on-a']), b.manager.addTask('Flow.pausable', ['on-b'])];
    // Other functions still run on both, so the queue did turn past the paused tasks.
    await a.manager.waitFor(a.manager.addTask('Flow.control'));
    await b.manager.waitFor(b.manager.addTask('Flow.control'));
    expect((await stored(a.manager, ids)).map((r) => r.status)).toEqual(['pending', 'pending']);

    // Both replicas stop (their pending tasks go back to the database) and one starts again.
    for (const { app } of apps.splice(0)) await app.close();
    const c = await start();
    expect(c.manager.isPaused('Flow.pausable')).toBe(true);
    expect(c.manager.registeredTasks().find((r) => r.name === 'Flow.pausable')?.paused).toBe(true);
    await c.manager.waitFor(c.manager.addTask('Flow.control'));
    expect((await stored(c.manager, ids)).map((r) => r.status)).toEqual(['pending', 'pending']);
    expect(Flow.ran).toEqual([]);

    await c.manager.resume('Flow.pausable', { actor: 'ops' });
    await pollUntil('both tasks done', async () => (await stored(c.manager, ids)).every((r) => r.status === 'success'));
    expect(Flow.ran.sort()).toEqual(['on-a', 'on-b']);
    const audit = await c.manager.audit();
    expect(audit.filter((e) => e.action === 'pause' || e.action === 'resume').map((e) => [e.action, e.actor, e.detail])).toEqual([
      ['resume', 'ops', { func_name: 'Flow.pausable' }],
      ['pause', 'ops', { func_name: 'Flow.pausable' }],
    ]);
  }, 60_000);
});

describeEachDatabase(
  'flow control while the database refuses claims',
  (target) => {
    const prefix = uniquePrefix();
    afterAll(() => dropTaskTables(target.options, prefix));

    it('keeps a limited task pending while its claim fails, runs it once the database answers, and never fails it', async () => {
      const { app, manager } = await createPersistentApp(target.options, prefix, {}, { providers: [Flow] });
      try {
        const backend = app.get(TaskBackend);
        const real = backend.claimGate.bind(backend);
        let down = true;
        const claims = jest
          .spyOn(backend, 'claimGate')
          .mockImplementation((holder, claim) => (down ? Promise.reject(new Error('connection refused')) : real(holder, claim)));
        const id = manager.addTask('Flow.limited', [1]);
        await pollUntil('two refused claims', () => claims.mock.calls.length >= 2);
        // Other functions are not held up meanwhile.
        expect((await manager.waitFor(manager.addTask('Flow.control'))).status).toBe('success');
        expect((await manager.getTask(id))!.status).toBe('pending');
        down = false;
        expect((await manager.waitFor(id)).status).toBe('success');
      } finally {
        await app.close();
      }
    }, 30_000);
  },
  ['sqlite'],
);
