import { INestApplication, Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { DataSourceOptions } from 'typeorm';
import { BackgroundTask, NonRetryableError, reportProgress, TaskAdminModule, TaskManager } from '../../lib';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { Dialect } from '../../lib/persistence/typeorm/dialect';
import { SCHEMA_VERSION, tableNames } from '../../lib/persistence/typeorm/schema';
import { MAX_RESULT_CHARS } from '../../lib/task/task-attempt';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { familyOf, seedOldDatabase } from '../support/old-schema';
import { createPersistentApp, dropTaskTables } from '../support/persistent-app';
import { blankTask } from '../support/task-data';

@Injectable()
class Jobs {
  static calls = new Map<string, number>();

  private count(name: string): number {
    const n = (Jobs.calls.get(name) ?? 0) + 1;
    Jobs.calls.set(name, n);
    return n;
  }

  @BackgroundTask()
  async three(): Promise<{ n: number }> {
    return { n: 3 };
  }

  @BackgroundTask({ retries: 3 })
  async flaky(): Promise<string> {
    const n = this.count('flaky');
    if (n <= 2) throw new Error(`failure ${n}`);
    return 'third time';
  }

  @BackgroundTask({ retries: 5 })
  async final(): Promise<void> {
    this.count('final');
    throw new NonRetryableError('no such customer');
  }

  @BackgroundTask({ retries: 5, retryIf: (error) => !(error instanceof TypeError) })
  async picky(): Promise<void> {
    this.count('picky');
    throw new TypeError('bad input');
  }

  @BackgroundTask()
  async halfway(): Promise<string> {
    reportProgress(0.5);
    return 'done';
  }

  @BackgroundTask()
  async silent(): Promise<void> {}

  @BackgroundTask()
  async huge(): Promise<string> {
    return 'x'.repeat(MAX_RESULT_CHARS + 10);
  }

  @BackgroundTask({ retries: 1 })
  async alwaysFails(): Promise<string> {
    throw new Error('nope');
  }
}

/** The admin module, for `displayFuncArgs` (no HTTP listener: records are read through the manager). */
async function createAdminApp(database: DataSourceOptions, tablePrefix: string): Promise<{ app: INestApplication; manager: TaskManager }> {
  const moduleRef = await Test.createTestingModule({
    imports: [TaskAdminModule.forRoot({ shutdownGracePeriod: 0, database, tablePrefix, displayFuncArgs: true })],
    providers: [Jobs],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return { app, manager: app.get(TaskManager) };
}

describeEachDatabase('results and attempts', (target) => {
  const prefix = uniquePrefix();
  afterAll(() => dropTaskTables(target.options, prefix));
  beforeEach(() => Jobs.calls.clear());

  it('stores the return value, each attempt, final errors and the closing progress, and reads them back after a restart', async () => {
    const first = await createAdminApp(target.options, prefix);
    const jobs = first.app.get(Jobs);
    const ids = {
      three: first.manager.addTask(jobs.three),
      flaky: first.manager.addTask(jobs.flaky),
      final: first.manager.addTask(jobs.final),
      picky: first.manager.addTask(jobs.picky),
      halfway: first.manager.addTask(jobs.halfway),
      silent: first.manager.addTask(jobs.silent),
      huge: first.manager.addTask(jobs.huge),
      alwaysFails: first.manager.addTask(jobs.alwaysFails),
    };
    for (const id of Object.values(ids)) await first.manager.waitFor(id);
    await first.manager.flush();
    await first.app.close();

    const second = await createAdminApp(target.options, prefix);
    try {
      const get = async (id: string) => (await second.manager.getTask(id))!;

      const three = await get(ids.three);
      expect(three.status).toBe('success');
      expect(three.result).toEqual({ n: 3 });
      expect(Object.keys(three).slice(15)).toEqual(['progress', 'instance', 'run_at', 'args', 'result', 'attempts']);

      const flaky = await get(ids.flaky);
      expect(flaky.status).toBe('success');
      expect(flaky.result).toBe('third time');
      expect(flaky.attempts!.map((a) => [a.attempt, a.error])).toEqual([
        [1, 'Error: failure 1'],
        [2, 'Error: failure 2'],
        [3, null],
      ]);
      for (const a of flaky.attempts!) expect(Date.parse(a.end_time!)).toBeGreaterThanOrEqual(Date.parse(a.start_time));

      const final = await get(ids.final);
      expect([final.status, final.retries_used, final.error, final.attempts!.length]).toEqual([
        'failed',
        0,
        'NonRetryableError: no such customer',
        1,
      ]);
      expect(Jobs.calls.get('final')).toBe(1);

      const picky = await get(ids.picky);
      expect([picky.status, picky.retries_used, picky.attempts!.length]).toEqual(['failed', 0, 1]);
      expect(Jobs.calls.get('picky')).toBe(1);

      expect((await get(ids.halfway)).progress).toBe(1);
      const silent = await get(ids.silent);
      expect([silent.progress, silent.result]).toEqual([null, null]);

      const huge = (await get(ids.huge)).result as { $truncated: { chars: number; limit: number }; preview: string };
      expect(huge.$truncated).toEqual({ chars: MAX_RESULT_CHARS + 12, limit: MAX_RESULT_CHARS });
      expect(huge.preview.startsWith('"xxx')).toBe(true);

      const failed = await get(ids.alwaysFails);
      expect([failed.status, failed.result, failed.attempts!.length]).toEqual(['failed', null, 2]);

      // Lists and the stream carry no attempt history: it is the detail record's.
      const page = await second.manager.listTasks({ funcName: 'Jobs.three' });
      expect(page.items[0].attempts).toBeUndefined();
      expect(page.items[0].result).toEqual({ n: 3 });
    } finally {
      await second.app.close();
    }
  });

  it('hides result and args without displayFuncArgs', async () => {
    const app = await createPersistentApp(target.options, prefix, {}, { providers: [Jobs] });
    try {
      const id = app.manager.addTask(app.app.get(Jobs).three);
      const record = await app.manager.waitFor(id);
      expect('result' in record).toBe(false);
      expect((await app.manager.getTask(id))!.attempts!.length).toBe(1);
    } finally {
      await app.app.close();
    }
  });
});

describeEachDatabase('schema upgrade from version 1', (target) => {
  const prefix = uniquePrefix();
  afterAll(() => dropTaskTables(target.options, prefix));

  it('adds the result and attempts columns to an existing version 1 database in place, keeping its rows', async () => {
    const t = tableNames(prefix);
    const q = (name: string) => new Dialect(familyOf(target)).id(name);
    // The tables exactly as version 1 of the package created them.
    await seedOldDatabase(target, prefix, 1);

    const old = blankTask({ funcName: 'Old.task', status: 'success', startTime: Date.now(), endTime: Date.now() });
    const backend = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
    await backend.open();
    try {
      const version = await backend.source.query(`SELECT value FROM ${q(t.meta)} WHERE name = 'schema_version'`);
      expect(String(version[0].value)).toBe(String(SCHEMA_VERSION));
      await backend.saveBatch([
        old,
        blankTask({
          funcName: 'New.task',
          status: 'success',
          result: { n: 3 },
          attempts: [{ attempt: 1, startTime: 1, endTime: 2, error: null }],
          executor: 'worker',
        }),
      ]);
      const back = await backend.getTask(old.id);
      expect([back!.funcName, back!.result, back!.attempts, back!.executor]).toEqual(['Old.task', undefined, undefined, undefined]);
      const page = await backend.listTasks({ funcName: 'New.task' });
      expect([page.items[0].result, page.items[0].attempts, page.items[0].executor]).toEqual([
        { n: 3 },
        [{ attempt: 1, startTime: 1, endTime: 2, error: null }],
        'worker',
      ]);
    } finally {
      await backend.close();
    }
  });
});
