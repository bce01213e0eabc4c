/**
 * Scenarios 1, 2 and 6: N no-op tasks end to end (enqueue to success) through a
 * TaskManager (memory only, SQLite or PostgreSQL with requeuePending; row 1's queue
 * libraries are in queue-libraries.ts); enqueue->start latency at a
 * steady rate; RSS after many tasks.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TaskBackend, TaskManager, TaskManagerOptions, TypeOrmTaskBackend } from '../../lib';
import { MB, PG_URL, RssSampler, nowMs, percentile, rssMB, scenarioMain, settle, sleep, wallMs } from '../common';
import { Noop, managerApp, startedAt } from '../fixtures';

export type Store = 'memory' | 'sqlite' | 'postgres';

export interface ThroughputParams {
  mode: 'engine' | 'latency' | 'memory' | 'enqueue' | 'enqueue-tx';
  store: Store;
  n: number;
  cap: number;
  /** latency: tasks per second and seconds. */
  rate?: number;
  seconds?: number;
  /** memory: tasks added per batch before waiting for them to finish. */
  batch?: number;
  /** memory: let the event loop turn (setImmediate) between batches, as a producer doing I/O would. */
  yieldBetween?: boolean;
  /** engine: run `Noop.limited` (`concurrency: 32`) instead of the plain no-op. */
  limited?: boolean;
  /** The manager's maxWriteBacklog (default: the package's); a huge one is the ungated baseline. */
  maxWriteBacklog?: number;
}

export interface ThroughputResult {
  n: number;
  /** enqueue of the first to success of the last, seconds. */
  drainSeconds: number;
  /** ... and until every change is in the database (flush). */
  flushSeconds: number;
  addSeconds: number;
  perSecond: number;
  latencyP50Ms?: number;
  latencyP99Ms?: number;
  samples?: number;
  rssMB: number;
  peakRssMB: number;
  heapMB: number;
  dbFileMB?: number;
}

interface StoreSetup {
  options: TaskManagerOptions;
  cleanup: () => Promise<void>;
  fileSize?: () => number;
  /** The running app, once withManager started it. */
  app?: { get<T>(token: abstract new (...args: never[]) => T): T };
}

function storeSetup(store: Store, cap: number, maxWriteBacklog?: number): StoreSetup {
  const base: TaskManagerOptions = { maxConcurrentTasks: cap, ...(maxWriteBacklog === undefined ? {} : { maxWriteBacklog }) };
  if (store === 'memory') return { options: base, cleanup: async () => undefined };
  if (store === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-bench-'));
    const file = path.join(dir, 'tasks.db');
    return {
      options: { ...base, snapshotDb: file, requeuePending: true },
      cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
      fileSize: () => ['', '-wal'].reduce((n, s) => n + (fs.existsSync(file + s) ? fs.statSync(file + s).size : 0), 0),
    };
  }
  const tablePrefix = `tfbench_${randomUUID().slice(0, 8)}_`;
  return {
    options: { ...base, database: { type: 'postgres', url: PG_URL }, tablePrefix, requeuePending: true },
    cleanup: async () => {
      const backend = new TypeOrmTaskBackend({ type: 'postgres', url: PG_URL }, { tablePrefix });
      await backend.open();
      await backend.dropTables();
      await backend.close();
    },
  };
}

/** A manager on the scenario's store for `run`, closed and its store removed afterwards. */
async function withManager<T>(p: ThroughputParams, run: (m: { manager: TaskManager; noop: Noop; setup: StoreSetup }) => Promise<T>): Promise<T> {
  const setup = storeSetup(p.store, p.cap, p.maxWriteBacklog);
  const { app, manager, noop } = await managerApp(setup.options);
  setup.app = app;
  try {
    return await run({ manager, noop, setup });
  } finally {
    await app.close();
    await setup.cleanup();
  }
}

async function engine(p: ThroughputParams): Promise<ThroughputResult> {
  return withManager(p, async ({ manager, noop, setup }) => {
    const task = p.limited ? noop.limited : noop.run;
    // Warm-up: the code paths compiled, the database statements prepared.
    for (let i = 0; i < 2000; i++) manager.addTask(task);
    await manager.drain();
    await manager.flush();
    await settle();
    const sampler = new RssSampler();
    const t0 = nowMs();
    for (let i = 0; i < p.n; i++) manager.addTask(task);
    const added = nowMs();
    await manager.drain();
    const t1 = nowMs();
    await manager.flush();
    const t2 = nowMs();
    const peak = sampler.stop();
    await settle();
    const metrics = await manager.metrics();
    if (p.store !== 'memory' && metrics.success < p.n) throw new Error(`only ${metrics.success} successes stored of ${p.n}`);
    return {
      n: p.n,
      addSeconds: (added - t0) / 1000,
      drainSeconds: (t1 - t0) / 1000,
      flushSeconds: (t2 - t0) / 1000,
      perSecond: p.n / ((t2 - t0) / 1000),
      rssMB: rssMB(),
      peakRssMB: peak,
      heapMB: process.memoryUsage().heapUsed / MB,
      dbFileMB: setup.fileSize ? setup.fileSize() / MB : undefined,
    };
  });
}

/**
 * N tasks through `await enqueue()` (all at once: the group commit batches them), or with
 * `enqueue-tx` each inside its own application transaction on the package's DataSource;
 * timed to the last task's success and to every change written, as for addTask.
 */
async function durableEnqueue(p: ThroughputParams): Promise<ThroughputResult> {
  return withManager(p, async ({ manager, noop, setup }) => {
    const source = (setup.app?.get(TaskBackend) as TypeOrmTaskBackend | undefined)?.source;
    const one = () =>
      p.mode === 'enqueue-tx' && source ? source.transaction((em) => manager.enqueue(noop.run, [], { transaction: em })) : manager.enqueue(noop.run);
    for (let i = 0; i < 500; i++) await one();
    await manager.drain();
    await manager.flush();
    await settle();
    const sampler = new RssSampler();
    const t0 = nowMs();
    await Promise.all(Array.from({ length: p.n }, one));
    const added = nowMs();
    await manager.drain();
    const t1 = nowMs();
    await manager.flush();
    const t2 = nowMs();
    const peak = sampler.stop();
    return {
      n: p.n,
      addSeconds: (added - t0) / 1000,
      drainSeconds: (t1 - t0) / 1000,
      flushSeconds: (t2 - t0) / 1000,
      perSecond: p.n / ((t2 - t0) / 1000),
      rssMB: rssMB(),
      peakRssMB: peak,
      heapMB: process.memoryUsage().heapUsed / MB,
    };
  });
}

/** Tasks added at a steady rate; latency = the task's own start stamp - the time before addTask. */
async function latency(p: ThroughputParams): Promise<ThroughputResult> {
  return withManager(p, async ({ manager, noop }) => {
    for (let i = 0; i < 500; i++) manager.addTask(noop.stamp);
    await manager.drain();
    await manager.flush();
    startedAt.clear();
    const enqueuedAt = new Map<string, number>();
    const total = Math.round((p.rate ?? 200) * (p.seconds ?? 5));
    const interval = 1000 / (p.rate ?? 200);
    const t0 = nowMs();
    for (let k = 0; k < total; k++) {
      const due = t0 + k * interval;
      const wait = due - nowMs();
      if (wait > 1) await sleep(wait);
      const at = wallMs();
      enqueuedAt.set(manager.addTask(noop.stamp), at);
    }
    await manager.drain();
    await manager.flush();
    const samples: number[] = [];
    for (const [id, at] of enqueuedAt) {
      const started = startedAt.get(id);
      if (started !== undefined) samples.push(started - at);
    }
    return {
      n: total,
      addSeconds: 0,
      drainSeconds: 0,
      flushSeconds: 0,
      perSecond: 0,
      latencyP50Ms: percentile(samples, 0.5),
      latencyP99Ms: percentile(samples, 0.99),
      samples: samples.length,
      rssMB: rssMB(),
      peakRssMB: rssMB(),
      heapMB: process.memoryUsage().heapUsed / MB,
    };
  });
}

/** Many tasks in batches (added, then waited for), RSS at the end after GC, and the peak. */
async function memory(p: ThroughputParams): Promise<ThroughputResult> {
  return withManager(p, async ({ manager, noop, setup }) => {
    await settle();
    const batch = p.batch ?? 10_000;
    const sampler = new RssSampler(50);
    const t0 = nowMs();
    for (let done = 0; done < p.n; done += batch) {
      const count = Math.min(batch, p.n - done);
      for (let i = 0; i < count; i++) manager.addTask(noop.run);
      await manager.drain();
      if (p.yieldBetween) await new Promise((resolve) => setImmediate(resolve));
    }
    const t1 = nowMs();
    await manager.flush();
    const t2 = nowMs();
    const peak = sampler.stop();
    await settle();
    await sleep(200);
    await settle();
    return {
      n: p.n,
      addSeconds: 0,
      drainSeconds: (t1 - t0) / 1000,
      flushSeconds: (t2 - t0) / 1000,
      perSecond: p.n / ((t2 - t0) / 1000),
      rssMB: rssMB(),
      peakRssMB: peak,
      heapMB: process.memoryUsage().heapUsed / MB,
      dbFileMB: setup.fileSize ? setup.fileSize() / MB : undefined,
    };
  });
}

scenarioMain<ThroughputParams, ThroughputResult>(async (p) => {
  switch (p.mode) {
    case 'engine':
      return engine(p);
    case 'latency':
      return latency(p);
    case 'memory':
      return memory(p);
    case 'enqueue':
    case 'enqueue-tx':
      return durableEnqueue(p);
  }
});
