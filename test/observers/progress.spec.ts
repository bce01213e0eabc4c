/**
 * reportProgress(): the record's `progress` is streamed on events$ (what the SSE
 * hub forwards), throttled to one change event per task per 100 ms without losing
 * the latest value, and persisted with the record.
 */
import { Injectable } from '@nestjs/common';
import { BackgroundTask, TaskRecord, reportProgress } from '../../lib';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { createManagerApp } from '../support/app';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { Gate } from '../support/gate';
import { createPersistentApp, dropTaskTables } from '../support/persistent-app';

@Injectable()
class Import {
  static gate = new Gate();

  @BackgroundTask()
  async run(): Promise<void> {
    reportProgress(0.1);
    reportProgress(0.2);
    reportProgress(0.3);
    await Import.gate.promise;
    reportProgress(0.5);
    reportProgress(0.6);
    reportProgress(1);
  }

  @BackgroundTask()
  async burst(): Promise<void> {
    for (let i = 1; i <= 1000; i++) reportProgress(i / 1000);
  }

  @BackgroundTask()
  async halfway(): Promise<void> {
    reportProgress(0.25);
    reportProgress(0.4);
    throw new Error('disk full');
  }
}

describe('progress on events$', () => {
  afterEach(() => jest.useRealTimers());

  it('announces a change at most every 100 ms, the held-back value when the interval ends, and 1 at once', async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
    Import.gate = new Gate();
    const { app, manager } = await createManagerApp({}, { providers: [Import] });
    const seen: (number | null)[] = [];
    let id = '';
    const subscription = manager.events$.subscribe((r: TaskRecord) => {
      if (r.task_id === id && r.status === 'running') seen.push(r.progress);
    });
    id = manager.addTask(app.get(Import).run);
    await jest.advanceTimersByTimeAsync(0);
    expect(seen).toEqual([null, 0.1]); // the start, then the first report
    expect((await manager.getTask(id))!.progress).toBe(0.3); // the record already holds the latest value
    await jest.advanceTimersByTimeAsync(99);
    expect(seen).toEqual([null, 0.1]);
    await jest.advanceTimersByTimeAsync(1);
    expect(seen).toEqual([null, 0.1, 0.3]);
    Import.gate.open();
    const record = await manager.waitFor(id);
    expect(seen).toEqual([null, 0.1, 0.3, 1]); // 0.5 and 0.6 came within 100 ms of 0.3; 1 is never held back
    expect(record).toMatchObject({ status: 'success', progress: 1 });
    await jest.advanceTimersByTimeAsync(200);
    expect(seen).toEqual([null, 0.1, 0.3, 1]); // no stray event after the end
    subscription.unsubscribe();
    await app.close();
  });

  it('turns a tight loop of 1000 reports into a handful of events ending at 1', async () => {
    const { app, manager } = await createManagerApp({}, { providers: [Import] });
    const values: (number | null)[] = [];
    const subscription = manager.events$.subscribe((r) => values.push(r.progress));
    const record = await manager.waitFor(manager.addTask(app.get(Import).burst));
    subscription.unsubscribe();
    await app.close();
    expect(record.progress).toBe(1);
    expect(values.at(-1)).toBe(1);
    expect(values.length).toBeLessThan(10);
  });
});

describeEachDatabase('progress is persisted', (target) => {
  const prefix = uniquePrefix();
  afterAll(() => dropTaskTables(target.options, prefix));

  it('stores the last value with the record, also of a task that failed midway', async () => {
    const { app, manager } = await createPersistentApp(target.options, prefix, {}, { providers: [Import] });
    const done = manager.addTask(app.get(Import).burst);
    const failed = manager.addTask(app.get(Import).halfway);
    await manager.drain();
    await app.close();
    const backend = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
    await backend.open();
    try {
      expect((await backend.getTask(done))!.progress).toBe(1);
      expect(await backend.getTask(failed)).toMatchObject({ status: 'failed', progress: 0.4 });
    } finally {
      await backend.close();
    }
  });
});
