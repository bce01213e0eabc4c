/**
 * enqueue() gives up on a row whose batch is in flight. The batch then either commits
 * (its answer late) or fails; a failure may come after the COMMIT went through (the
 * connection lost on the way back). Either way the caller was told EnqueueTimeoutError,
 * so the task must never run: not here, not after a restart's recovery. What is left
 * is a `cancelled` record that says why, never a pending row.
 *
 * Driven step by step: the backend holds the batch holding the task (after its commit,
 * or before it reaches the database) until enqueue() has rejected, then goes on or fails.
 */
import { INestApplication, Injectable } from '@nestjs/common';
import { BackgroundTask, EnqueueTimeoutError, TaskManager } from '../../lib';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { InsertedTask } from '../../lib/storage/task-backend';
import { TaskData } from '../../lib/task/task-record';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { Gate } from '../support/gate';
import { createManagerApp } from '../support/app';

const ENQUEUE_TIMEOUT_SECONDS = 0.2;

@Injectable()
class WithdrawJobs {
  static ran: string[] = [];

  @BackgroundTask({ persist: true })
  async work(name: string): Promise<void> {
    WithdrawJobs.ran.push(name);
  }
}

interface BatchHold {
  when: 'before' | 'after';
  fail: boolean;
  reached: Gate;
  release: Gate;
}

/** Holds the next batch that holds a `work` task, before or after its commit, then fails it or lets it go on. */
class HeldBackend extends TypeOrmTaskBackend {
  hold: BatchHold | null = null;
  /** Holds the next insertTask (enqueue with an idempotency key: a transaction of its own) likewise. */
  insertHold: BatchHold | null = null;

  override async insertTask(task: TaskData, transaction?: unknown): Promise<InsertedTask> {
    const hold = this.insertHold;
    if (!hold) return super.insertTask(task, transaction);
    this.insertHold = null;
    const inserted = hold.when === 'after' ? await super.insertTask(task, transaction) : null;
    hold.reached.open();
    await hold.release.promise;
    if (hold.fail) throw new Error(hold.when === 'after' ? 'connection lost after the commit' : 'connection lost before the commit');
    return inserted ?? super.insertTask(task, transaction);
  }

  override async saveBatch(tasks: readonly TaskData[]): Promise<void> {
    const hold = this.hold;
    if (!hold || !tasks.some((t) => t.funcName.endsWith('work'))) return super.saveBatch(tasks);
    this.hold = null;
    if (hold.when === 'after') await super.saveBatch(tasks);
    hold.reached.open();
    await hold.release.promise;
    if (hold.fail) throw new Error(hold.when === 'after' ? 'connection lost after the commit' : 'connection lost before the commit');
    if (hold.when === 'before') await super.saveBatch(tasks);
  }
}

describeEachDatabase('enqueue() that gives up on a batch in flight', (target) => {
  let app: INestApplication | undefined;
  let backend: HeldBackend;
  let manager: TaskManager;
  let release: Gate | null = null;
  let prefix = '';

  beforeEach(async () => {
    WithdrawJobs.ran = [];
    prefix = uniquePrefix();
    backend = new HeldBackend(target.options, { tablePrefix: prefix });
    ({ app, manager } = await createManagerApp(
      { backend, enqueueTimeout: ENQUEUE_TIMEOUT_SECONDS, requeuePending: true },
      { providers: [WithdrawJobs] },
    ));
  });

  afterEach(async () => {
    release?.open();
    await app?.close();
    app = undefined;
    const cleanup = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
    await cleanup.open();
    await cleanup.dropTables();
    await cleanup.close();
  });

  /**
   * enqueue() rejects while its batch (or, with an idempotency key, its own insert) is held;
   * that write is then let go as `hold` says, and what follows is written.
   */
  async function timedOut(when: BatchHold['when'], fail: boolean, name: string, key?: string): Promise<void> {
    const hold: BatchHold = { when, fail, reached: new Gate(), release: new Gate() };
    if (key === undefined) backend.hold = hold;
    else backend.insertHold = hold;
    release = hold.release;
    const enqueued = manager.enqueue(WithdrawJobs.prototype.work, [name], key === undefined ? {} : { idempotencyKey: key });
    await hold.reached.promise;
    const error = await enqueued.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EnqueueTimeoutError);
    hold.release.open();
    // The held batch's own end (a failure rejects the flush waiting on it), then what it left queued.
    await manager.flush().catch(() => undefined);
    await manager.flush();
  }

  async function onlyWorkRow(): Promise<TaskData> {
    const reader = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
    await reader.open();
    try {
      const page = await reader.listTasks({ limit: 100 });
      const rows = page.items.filter((t) => t.funcName.endsWith('work'));
      expect(rows).toHaveLength(1);
      return rows[0];
    } finally {
      await reader.close();
    }
  }

  /** After a restart on the same tables (requeuePending recovers pending rows), the task still has not run. */
  async function neverRunsAfterRestart(): Promise<void> {
    await app!.close();
    app = undefined;
    ({ app, manager } = await createManagerApp(
      { database: target.options, tablePrefix: prefix, requeuePending: true },
      { providers: [WithdrawJobs] },
    ));
    await manager.drain();
    expect(WithdrawJobs.ran).toEqual([]);
  }

  it.each([
    ['committed, the answer lost (the batch fails after its COMMIT)', 'after', true],
    ['committed, the answer late', 'after', false],
  ] as const)('%s: stored as cancelled saying so, never run, not even by recovery', async (_label, when, fail) => {
    await timedOut(when, fail, 'T');
    expect(WithdrawJobs.ran).toEqual([]);
    await neverRunsAfterRestart();
    const row = await onlyWorkRow();
    expect(row.status).toBe('cancelled');
    expect(row.error).toMatch(/enqueue/i);
  });

  it.each([
    ['committed, the answer lost', 'after', true],
    ['committed, the answer late', 'after', false],
    ['never reached the database', 'before', true],
  ] as const)('with an idempotency key (its own insert), %s: cancelled, never run, and the key is free again', async (_label, when, fail) => {
    await timedOut(when, fail, 'K', 'order-42');
    await neverRunsAfterRestart();
    const row = await onlyWorkRow();
    expect(row.status).toBe('cancelled');
    const again = await manager.enqueue(WithdrawJobs.prototype.work, ['K2'], { idempotencyKey: 'order-42' });
    expect(again).not.toBe(row.id);
    await manager.drain();
    expect(WithdrawJobs.ran).toEqual(['K2']);
  });

  it('never reached the database (the batch fails before its COMMIT): cancelled too, never run', async () => {
    await timedOut('before', true, 'T');
    await neverRunsAfterRestart();
    const row = await onlyWorkRow();
    expect(row.status).toBe('cancelled');
  });
});
