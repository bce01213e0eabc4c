/**
 * The start gate (maxWriteBacklog): while the database takes no writes, tasks start until
 * that many started tasks wait to be written, then none does; addTask keeps accepting and
 * enqueue() waits. Once writes go through again everything runs and is stored once. The
 * writes are stopped for real: on SQLite by a second connection holding the write lock,
 * on PostgreSQL and MariaDB by cutting a TCP proxy in front of the server.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Database from 'better-sqlite3';
import { INestApplication, Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { DataSourceOptions } from 'typeorm';
import { BackgroundTask, EnqueueTimeoutError, TaskManager, TaskManagerModule } from '../../lib';
import { TaskStorage } from '../../lib/engine/task-storage';
import { CapturingLogger } from '../support/capturing-logger';
import { pollUntil } from '../support/crash-child';
import { TaskTable, describeEachOf, serverAddress, throughPort } from '../support/crash-db';
import { DatabaseTarget, uniquePrefix } from '../support/databases';
import { createPersistentApp } from '../support/persistent-app';
import { TcpProxy } from '../support/tcp-proxy';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

@Injectable()
class BacklogJobs {
  static ran: number[] = [];

  @BackgroundTask()
  async quick(i: number): Promise<void> {
    BacklogJobs.ran.push(i);
  }
}

const BOUND = 10;
const OUTAGE = /Cannot write task history/;

/** Stops the database taking writes; the returned function lets them through again. */
interface WriteBlock {
  database: DataSourceOptions;
  block(): Promise<void>;
  unblock(): Promise<void>;
  close(): Promise<void>;
}

async function writeBlock(target: DatabaseTarget): Promise<WriteBlock> {
  if (target.name === 'sqlite') {
    const file = (target.options as { database: string }).database;
    let holder: Database.Database | null = null;
    return {
      // A short busy timeout: the blocked write fails (an outage) soon instead of after 5 s.
      database: { ...target.options, timeout: 200 } as DataSourceOptions,
      block: async () => {
        holder = new Database(file);
        holder.exec('BEGIN IMMEDIATE');
      },
      unblock: async () => {
        holder?.exec('COMMIT');
        holder?.close();
        holder = null;
      },
      close: async () => {
        holder?.close();
      },
    };
  }
  const proxy = new TcpProxy(serverAddress(target.options));
  const port = await proxy.start();
  return {
    database: throughPort(target.options, port),
    block: async () => proxy.cut(),
    unblock: async () => proxy.restore(),
    close: () => proxy.stop(),
  };
}

describeEachOf(['sqlite', 'postgres', 'mysql'], 'start gate on the write backlog', (target) => {
  let app: INestApplication | undefined;
  let writes: WriteBlock;
  let table: TaskTable | undefined;

  afterEach(async () => {
    await writes?.unblock();
    await app?.close();
    app = undefined;
    await writes?.close();
    await table?.dropAndClose();
    table = undefined;
  });

  async function start(enqueueTimeout: number) {
    const prefix = uniquePrefix();
    table = await TaskTable.open(target.options, prefix);
    writes = await writeBlock(target);
    const logger = new CapturingLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [
        TaskManagerModule.forRoot({
          database: writes.database,
          tablePrefix: prefix,
          requeuePending: true,
          maxWriteBacklog: BOUND,
          enqueueTimeout,
          shutdownGracePeriod: 0,
        }),
      ],
      providers: [BacklogJobs],
    }).compile();
    app = moduleRef.createNestApplication({ logger });
    await app.init();
    BacklogJobs.ran = [];
    return { manager: app.get(TaskManager), jobs: app.get(BacklogJobs), storage: app.get(TaskStorage), logger, table };
  }

  it('holds starts past maxWriteBacklog while writes fail, makes enqueue() wait, and resumes with every task stored once', async () => {
    const { manager, jobs, storage, logger, table } = await start(60);
    await writes.block();
    const n = 50;
    const ids = Array.from({ length: n }, (_, i) => manager.addTask(jobs.quick, [i]));
    // A failed write proves the writer tried: until one commits, nothing more may start.
    await pollUntil('a failed write', () => logger.matching(OUTAGE).length > 0, 30_000);
    const queued = storage.writeBacklog;
    let enqueued: string | null = null;
    const enqueue = manager.enqueue(jobs.quick, [n]).then((id) => (enqueued = id));
    await new Promise((resolve) => setImmediate(resolve));
    // Waiting before its write: its row is not even queued yet.
    expect(storage.writeBacklog).toBe(queued);
    expect(BacklogJobs.ran.length).toBe(BOUND);
    const pending = await manager.listTasks({ status: 'pending', limit: 100 });
    expect(pending.total).toBe(n - BOUND);

    await writes.unblock();
    await enqueue;
    await manager.drain();
    await manager.flush();
    expect([...BacklogJobs.ran].sort((a, b) => a - b)).toEqual(Array.from({ length: n + 1 }, (_, i) => i));
    const rows = await table.byId();
    for (const id of [...ids, enqueued!]) expect(rows.get(id)?.status).toBe('success');
    expect(rows.size).toBe(n + 1);
  }, 90_000);

  it('an enqueue() held past enqueueTimeout rejects and leaves nothing; the held tasks run once writes resume', async () => {
    const { manager, jobs, logger, table } = await start(1);
    await writes.block();
    const n = BOUND + 5;
    const ids = Array.from({ length: n }, (_, i) => manager.addTask(jobs.quick, [i]));
    await pollUntil('a failed write', () => logger.matching(OUTAGE).length > 0, 30_000);
    await expect(manager.enqueue(jobs.quick, [n])).rejects.toBeInstanceOf(EnqueueTimeoutError);
    await writes.unblock();
    await manager.drain();
    await manager.flush();
    expect([...BacklogJobs.ran].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    const rows = await table.byId();
    expect([...rows.keys()].sort()).toEqual([...ids].sort());
    expect([...rows.values()].every((row) => row.status === 'success')).toBe(true);
  }, 90_000);
});

describeEachOf(['sqlite'], 'memory through a burst, with the start gate', (target) => {
  const prefix = uniquePrefix();
  afterAll(async () => {
    const table = await TaskTable.open(target.options, prefix);
    await table.dropAndClose();
  });

  it('keeps the heap bounded through 200,000 durable tasks and stores every one once', async () => {
    const maxWriteBacklog = Number(process.env.TF_TEST_MAX_WRITE_BACKLOG ?? 6000);
    const { app, manager } = await createPersistentApp(
      target.options,
      prefix,
      { requeuePending: true, maxConcurrentTasks: 32, maxWriteBacklog },
      { providers: [BacklogJobs] },
    );
    try {
      const jobs = app.get(BacklogJobs);
      BacklogJobs.ran = [];
      gc();
      const baseline = process.memoryUsage().heapUsed;
      // Live memory, not the garbage V8 lets pile up between collections: measured after a
      // forced GC when each batch has run, the moment the most finished records wait to be written.
      let peak = 0;
      // The gate's own count, sampled while tasks run: a task starts only under the bound, and
      // a running one in the batch being written counts twice until that batch commits.
      const storage = app.get(TaskStorage);
      let started = 0;
      const sampler = setInterval(() => (started = Math.max(started, storage.startedWriteBacklog)), 5);
      const ids = new Set<string>();
      const n = 200_000;
      const batch = 10_000;
      for (let done = 0; done < n; done += batch) {
        for (let i = 0; i < batch; i++) ids.add(manager.addTask(jobs.quick, [done + i]));
        await manager.drain();
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
      }
      await manager.flush();
      clearInterval(sampler);
      console.log(
        `live heap peak +${(peak / 2 ** 20).toFixed(0)} MB, started backlog at most ${started}, over ${n} tasks (maxWriteBacklog ${maxWriteBacklog})`,
      );
      const table = await TaskTable.open(target.options, prefix);
      const rows = await table.rows();
      await table.close();
      expect(rows.length).toBe(n);
      expect(new Set(rows.map((r) => r.id))).toEqual(ids);
      expect(rows.filter((r) => r.status !== 'success')).toEqual([]);
      expect(BacklogJobs.ran.length).toBe(n);
      // Ungated, the finished records waiting to be written took ~4 KB each, several hundred MB here.
      expect(peak).toBeLessThan(250 * 2 ** 20);
      expect(started).toBeLessThanOrEqual(maxWriteBacklog + 32);
    } finally {
      await app.close();
    }
  }, 300_000);
});
