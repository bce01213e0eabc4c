import { INestApplication, Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { filter, firstValueFrom } from 'rxjs';
import { DataSource } from 'typeorm';
import { BackgroundTask, getTaskContext, TaskManager, TaskManagerModule, TaskManagerOptions } from '../../lib';
import { Dialect } from '../../lib/persistence/typeorm/dialect';
import { tableNames } from '../../lib/persistence/typeorm/schema';
import { createManagerApp } from '../support/app';
import { describeEachDatabase, uniquePrefix } from '../support/databases';

@Injectable()
class Jobs {
  static runs: string[] = [];

  @BackgroundTask()
  async note(label: string): Promise<string> {
    Jobs.runs.push(`${label}:${getTaskContext()!.taskId}`);
    return label;
  }
}

async function appOn(
  dataSource: DataSource,
  prefix: string,
  options: TaskManagerOptions = {},
): Promise<{ app: INestApplication; manager: TaskManager }> {
  const moduleRef = await Test.createTestingModule({
    imports: [TaskManagerModule.forRoot({ shutdownGracePeriod: 0, database: dataSource, tablePrefix: prefix, ...options })],
    providers: [Jobs],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return { app, manager: app.get(TaskManager) };
}

describeEachDatabase('enqueue', (target) => {
  const prefix = uniquePrefix();
  const t = tableNames(prefix);
  let dataSource: DataSource;
  let app: INestApplication;
  let manager: TaskManager;
  const family = target.name === 'sqlite' ? 'sqlite' : target.name;
  const q = (name: string) => new Dialect(family).id(name);
  /** The row as another connection sees it (committed data only). */
  const storedStatus = async (id: string): Promise<string | null> => {
    const rows = (await dataSource.query(`SELECT status FROM ${q(t.tasks)} WHERE id = ${family === 'postgres' ? '$1' : '?'}`, [id])) as {
      status: string;
    }[];
    return rows[0]?.status ?? null;
  };

  beforeAll(async () => {
    dataSource = new DataSource(target.options);
    await dataSource.initialize();
    ({ app, manager } = await appOn(dataSource, prefix));
    await dataSource.query(`CREATE TABLE ${q(`${prefix}orders`)} (id VARCHAR(64) NOT NULL, PRIMARY KEY (id))`);
  });
  afterAll(async () => {
    await app.close();
    await dataSource.query(`DROP TABLE IF EXISTS ${q(`${prefix}orders`)}`);
    const { TypeOrmTaskBackend } = await import('../../lib/persistence/typeorm');
    const backend = new TypeOrmTaskBackend(dataSource, { tablePrefix: prefix });
    await backend.open();
    await backend.dropTables();
    await dataSource.destroy();
  });
  beforeEach(() => (Jobs.runs = []));

  it('resolves once the row is committed, then runs the task once', async () => {
    const id = await manager.enqueue(app.get(Jobs).note, ['plain']);
    expect(await storedStatus(id)).not.toBeNull();
    await manager.waitFor(id);
    expect(Jobs.runs).toEqual([`plain:${id}`]);
  });

  it('inside a transaction that commits: invisible and not started until the commit, then runs once', async () => {
    let id = '';
    let finished: Promise<unknown> = Promise.resolve();
    await dataSource.transaction(async (em) => {
      await em.query(`INSERT INTO ${q(`${prefix}orders`)} (id) VALUES ('order-1')`);
      id = await manager.enqueue(app.get(Jobs).note, ['committed'], { transaction: em });
      finished = firstValueFrom(manager.events$.pipe(filter((r) => r.task_id === id && r.status === 'success')));
      // Not admitted: no live record, nothing run. (No read through the manager here: reads write what is
      // queued first, and on SQLite the application's open write transaction holds the file.)
      expect(manager.liveTasks().map((r) => r.task_id)).not.toContain(id);
      expect(Jobs.runs).toEqual([]);
    });
    await finished;
    expect(Jobs.runs).toEqual([`committed:${id}`]);
    // Counted once in the metrics, by its first write after the commit.
    await manager.flush();
    const metrics = await manager.metrics();
    expect([metrics.total, metrics.pending, metrics.success]).toEqual([(await manager.listTasks({})).total, 0, metrics.total]);
  });

  it('inside a transaction that rolls back: no row, never runs', async () => {
    let id = '';
    await expect(
      dataSource.transaction(async (em) => {
        id = await manager.enqueue(app.get(Jobs).note, ['rolled back'], { transaction: em, idempotencyKey: 'rolled-back-key' });
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    await new Promise((resolve) => setImmediate(resolve));
    // A task enqueued afterwards runs; the rolled-back one is nowhere.
    const after = await manager.enqueue(app.get(Jobs).note, ['after'], { idempotencyKey: 'rolled-back-key' });
    await manager.waitFor(after);
    await manager.flush();
    expect(after).not.toBe(id);
    expect(await storedStatus(id)).toBeNull();
    expect(await manager.getTask(id)).toBeNull();
    expect(Jobs.runs).toEqual([`after:${after}`]);
  });

  it('resolves a held key to its holder: pending, successful, and after a restart, creating no record', async () => {
    const jobs = app.get(Jobs);
    const ids = await Promise.all(Array.from({ length: 20 }, () => manager.enqueue(jobs.note, ['keyed'], { idempotencyKey: 'order-7' })));
    expect(new Set(ids).size).toBe(1);
    await manager.waitFor(ids[0]);
    expect(await manager.enqueue(jobs.note, ['keyed'], { idempotencyKey: 'order-7' })).toBe(ids[0]);
    await manager.flush();
    const before = (await manager.listTasks({ funcName: 'Jobs.note' })).total;

    await app.close();
    ({ app, manager } = await appOn(dataSource, prefix));
    expect(await manager.enqueue(app.get(Jobs).note, ['keyed'], { idempotencyKey: 'order-7' })).toBe(ids[0]);
    await dataSource.transaction(async (em) => {
      expect(await manager.enqueue(app.get(Jobs).note, ['keyed'], { idempotencyKey: 'order-7', transaction: em })).toBe(ids[0]);
    });
    await manager.flush();
    expect((await manager.listTasks({ funcName: 'Jobs.note' })).total).toBe(before);
    expect(Jobs.runs.filter((r) => r.startsWith('keyed:'))).toEqual([`keyed:${ids[0]}`]);
  });

  it('a row written in a savepoint that rolls back is dropped; the one written in the outer transaction runs at its commit', async () => {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    let inner!: string;
    let outer!: string;
    let finished!: Promise<unknown>;
    try {
      await runner.startTransaction();
      outer = await manager.enqueue(app.get(Jobs).note, ['outer'], { transaction: runner.manager });
      finished = firstValueFrom(manager.events$.pipe(filter((r) => r.task_id === outer && r.status === 'success')));
      await runner.startTransaction(); // a savepoint
      inner = await manager.enqueue(app.get(Jobs).note, ['inner'], { transaction: runner.manager });
      await runner.rollbackTransaction(); // back to the savepoint
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
    await finished;
    await manager.flush();
    expect(await storedStatus(inner)).toBeNull();
    expect(await manager.getTask(inner)).toBeNull();
    expect(Jobs.runs).toEqual([`outer:${outer}`]);
  });

  it('refuses an EntityManager outside a transaction', async () => {
    await expect(manager.enqueue(app.get(Jobs).note, ['x'], { transaction: dataSource.manager })).rejects.toThrow(/open transaction/);
  });
});

describe('enqueue without a database', () => {
  it('behaves like addTask, and refuses a transaction', async () => {
    const { app, manager } = await createManagerApp({}, { providers: [Jobs] });
    try {
      const id = await manager.enqueue(app.get(Jobs).note, ['memory']);
      expect((await manager.waitFor(id)).status).toBe('success');
      await expect(manager.enqueue(app.get(Jobs).note, ['x'], { transaction: {} as never })).rejects.toThrow(/needs the package's database/);
    } finally {
      await app.close();
    }
  });
});
