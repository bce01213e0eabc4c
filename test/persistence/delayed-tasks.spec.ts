/**
 * Delayed tasks on the three databases: run_at is stored and read back, a durable task
 * still waiting at a clean shutdown is handed back and runs after the restart when due,
 * a delay that passed while no instance ran runs once at start, the shared pool keeps a
 * delayed row until it is due, a cancel while waiting holds, and a version 3 database
 * gains the column in place.
 */
import { INestApplication, Injectable } from '@nestjs/common';
import { BackgroundTask, TaskManager, getTaskContext } from '../../lib';
import { TaskRuntime } from '../../lib/engine/task-runtime';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { Dialect } from '../../lib/persistence/typeorm/dialect';
import { SCHEMA_VERSION, migrationStep, tableNames } from '../../lib/persistence/typeorm/schema';
import { pollUntil } from '../support/crash-child';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { createPersistentApp, dropTaskTables } from '../support/persistent-app';
import { blankTask } from '../support/task-data';

@Injectable()
class Reminders {
  /** Start times by task id, across every app of this file (one process). */
  static starts = new Map<string, number[]>();

  @BackgroundTask({ name: 'Reminders.send' })
  async send(label: string): Promise<string> {
    const id = getTaskContext()!.taskId;
    Reminders.starts.set(id, [...(Reminders.starts.get(id) ?? []), Date.now()]);
    return label;
  }
}

describeEachDatabase('delayed tasks', (target) => {
  const prefix = uniquePrefix();
  const open: INestApplication[] = [];
  const start = async (): Promise<{ app: INestApplication; manager: TaskManager }> => {
    const started = await createPersistentApp(target.options, prefix, { requeuePending: true, instanceLeaseSeconds: 5 }, { providers: [Reminders] });
    open.push(started.app);
    return started;
  };
  const close = async (app: INestApplication) => {
    open.splice(open.indexOf(app), 1);
    await app.close();
  };
  let table: TypeOrmTaskBackend;
  const tasksTable = () => new Dialect(target.name).id(tableNames(prefix).tasks);

  beforeAll(async () => {
    table = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
    await table.open();
  });
  afterEach(async () => {
    for (const app of open.splice(0)) await app.close();
  });
  afterAll(async () => {
    await table.close();
    await dropTaskTables(target.options, prefix);
  });

  it('hands a waiting task back at a clean shutdown; after the restart it runs once when due, not before', async () => {
    const first = await start();
    const id = first.manager.addTask('Reminders.send', ['after restart'], { delay: 3600 });
    await first.manager.flush();
    expect((await first.manager.getTask(id))!.run_at).toBe(new Date((await table.getTask(id))!.runAt!).toISOString());
    await close(first.app);

    // Pending, and owned by an instance that is gone: the next one to start (or any live one) claims it.
    const stored = (await table.getTask(id))!;
    expect(stored.status).toBe('pending');
    // Due shortly after the restart rather than in an hour (however long the shutdown took).
    const runAt = Date.now() + 1500;
    await table.source.query(`UPDATE ${tasksTable()} SET run_at = ${runAt} WHERE id = '${id}'`);

    const second = await start();
    expect((await second.manager.getTask(id))!.status).toBe('pending');
    const done = await second.manager.waitFor(id);
    expect(done.status).toBe('success');
    expect(done.run_at).toBe(new Date(runAt).toISOString());
    expect(Reminders.starts.get(id)).toHaveLength(1);
    expect(Reminders.starts.get(id)![0]).toBeGreaterThanOrEqual(runAt);
    expect(Date.parse(done.start_time!)).toBeGreaterThanOrEqual(runAt);
  });

  it('runs a task whose due time passed while no instance ran once, at startup', async () => {
    const first = await start();
    const id = first.manager.addTask('Reminders.send', ['missed'], { delay: 3600 });
    await first.manager.flush();
    await close(first.app);
    // The downtime: its hour went by with no instance running.
    const missedAt = Date.now() - 1000;
    await table.source.query(`UPDATE ${tasksTable()} SET run_at = ${missedAt} WHERE id = '${id}'`);

    const bootAt = Date.now();
    const second = await start();
    const done = await second.manager.waitFor(id);
    expect(done.status).toBe('success');
    expect(done.run_at).toBe(new Date(missedAt).toISOString());
    expect(Reminders.starts.get(id)).toHaveLength(1);
    // At startup, not at some later poll: a generous bound on a shared machine.
    expect(Date.parse(done.start_time!) - bootAt).toBeLessThan(10_000);
  });

  it('cancels a waiting task: stored cancelled, and it never runs when its time comes', async () => {
    const { manager } = await start();
    const cancelled = manager.addTask('Reminders.send', ['cancelled'], { delay: 0.5 });
    const sentinel = manager.addTask('Reminders.send', ['sentinel'], { delay: 0.8 });
    const record = await manager.cancel(cancelled);
    expect(record.status).toBe('cancelled');
    await manager.waitFor(sentinel);
    await manager.flush();
    expect(Reminders.starts.has(cancelled)).toBe(false);
    const stored = (await table.getTask(cancelled))!;
    expect([stored.status, stored.startTime]).toEqual(['cancelled', null]);
  });

  it('cancels through another instance a task waiting on its owner: the owner drops it from its heap and never runs it', async () => {
    const owner = await start();
    const other = await start();
    const id = owner.manager.addTask('Reminders.send', ['cancelled elsewhere'], { delay: 3 });
    // Due after the other, so once it ran the cancelled one's time has passed too.
    const sentinel = owner.manager.addTask('Reminders.send', ['sentinel'], { delay: 3.2 });
    await owner.manager.flush();
    const heap = owner.app.get(TaskRuntime);
    expect(heap.delayedCount).toBe(2);

    expect((await other.manager.cancel(id)).status).toBe('cancelled');
    await pollUntil('the owner to drop the cancelled task', () => heap.delayedCount === 1);
    expect((await owner.manager.getTask(id))!.status).toBe('cancelled');
    await owner.manager.waitFor(sentinel);
    expect(Reminders.starts.has(id)).toBe(false);
  });

  it('leaves a pooled delayed row in the pool until it is due', async () => {
    const now = Date.now();
    const pooled = { durable: true, owner: null, funcName: 'Pool.job' } as const;
    const later = blankTask({ ...pooled, runAt: now + 60_000 });
    const due = blankTask({ ...pooled, runAt: now - 1000 });
    const undelayed = blankTask({ ...pooled });
    await table.saveBatch([later, due, undelayed]);
    const claimed = await table.claimFromPool('test-instance', 10, ['Pool.job']);
    expect(claimed.map((t) => t.id).sort()).toEqual([due.id, undelayed.id].sort());
    expect(claimed.find((t) => t.id === due.id)!.runAt).toBe(now - 1000);
    expect(await table.claimFromPool('test-instance', 10, ['Pool.job'])).toEqual([]);
    expect((await table.getTask(later.id))!.owner).toBeNull();
  });
});

describeEachDatabase('schema upgrade from version 3', (target) => {
  const prefix = uniquePrefix();
  afterAll(() => dropTaskTables(target.options, prefix));

  it('adds run_at to an existing version 3 database in place, keeping its rows', async () => {
    const t = tableNames(prefix);
    const seed = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
    const ds = seed.source;
    await ds.initialize();
    const family = target.name;
    const q = (name: string) => new Dialect(family).id(name);
    const collation = family === 'mysql' ? 'utf8mb4_bin' : null;
    // The tables exactly as version 3 of the package left them, with one pending row.
    await ds.query(
      `CREATE TABLE ${q(t.meta)} (name VARCHAR(64) NOT NULL, value ${family === 'mysql' ? 'LONGTEXT' : 'TEXT'} NOT NULL, PRIMARY KEY (name))`,
    );
    for (const version of [1, 2, 3]) for (const statement of migrationStep(version, family, t, collation)) await ds.query(statement);
    await ds.query(`INSERT INTO ${q(t.meta)} (name, value) VALUES ('schema_version', '3')`);
    await ds.query(
      `INSERT INTO ${q(t.tasks)} (id, func_name, status, created_at, retries_used, source, durable, version, tags, search_text, args, logs) ` +
        `VALUES ('old-task', 'Old.task', 'pending', 1000, 0, 'manual', 1, 1, '{}', 'old-task', '[]', '[]')`,
    );
    await ds.destroy();

    const backend = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
    await backend.open();
    try {
      const version = await backend.source.query(`SELECT value FROM ${q(t.meta)} WHERE name = 'schema_version'`);
      expect(String(version[0].value)).toBe(String(SCHEMA_VERSION));
      const old = (await backend.getTask('old-task'))!;
      expect([old.funcName, old.status, old.runAt]).toEqual(['Old.task', 'pending', undefined]);
      const delayed = blankTask({ funcName: 'New.task', durable: true, runAt: 2_000_000_000_000 });
      await backend.saveBatch([delayed]);
      expect((await backend.getTask(delayed.id))!.runAt).toBe(2_000_000_000_000);
      // The old row, pooled and without a due time, is claimable as before.
      expect((await backend.claimFromPool('i', 10, ['Old.task'])).map((r) => r.id)).toEqual(['old-task']);
    } finally {
      await backend.close();
    }
  });
});
