/**
 * Scenario 4: a history of `rows` finished tasks in SQLite, PostgreSQL or MariaDB/MySQL.
 *
 * - `seed`: writes the rows through the backend's own saveBatch (batches of 10,000),
 *   unless a seeded history of that size is already there (SQLite: a file under
 *   .bench-cache/; PostgreSQL, MariaDB: tables with the prefix `tfbench_hist_<rows>_`, plus
 *   BENCH_HISTORY_PREFIX when set, so a branch whose schema is newer seeds its own), which is reused.
 * - `query`: a fresh process starts an app on that history (startup time, RSS), then
 *   times, through TaskManager as the REST routes call it: the first page, a filtered
 *   page (function + status), a search (`q`, a substring of error/function/id), metrics.
 *
 * The generator is the one bench/history-scale.ts used, with finished statuses only
 * (a history, not a backlog: the app would requeue pending rows at startup).
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Injectable, Module, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BackgroundTask, TaskManager, TaskManagerModule, TaskManagerOptions, TypeOrmTaskBackend, sqliteOptions } from '../../lib';
import { TaskData } from '../../lib/task/task-record';
import { TaskStatus } from '../../lib/task/task-status';
import { MB, MYSQL_URL, PG_URL, nowMs, percentile, rssMB, scenarioMain, settle } from '../common';

export const FUNCS = Array.from({ length: 20 }, (_, i) => `Service${i % 5}.job${i}`);
const BASE = Date.UTC(2026, 0, 1);
const BATCH = 10_000;

export interface HistoryParams {
  mode: 'seed' | 'query';
  store: 'sqlite' | 'postgres' | 'mysql';
  rows: number;
  cacheDir: string;
  reps?: number;
  searchReps?: number;
}

export interface Timing {
  p50: number;
  p99: number;
  n: number;
  total?: number;
  /** Search only: whether the app's total is the database's (false: it answered from memory). */
  exact?: boolean;
}

export interface HistoryResult {
  reused?: boolean;
  seedSeconds?: number;
  /** SQLite: seconds to fold the seed's search queue into the index. */
  indexSeconds?: number;
  startupMs?: number;
  rssMB?: number;
  heapMB?: number;
  firstPage?: Timing;
  filtered?: Timing;
  search?: Timing;
  metrics?: Timing;
  getTask?: Timing;
  fileMB?: number;
}

function statusFor(r: number): TaskStatus {
  if (r < 0.82) return 'success';
  if (r < 0.92) return 'failed';
  if (r < 0.96) return 'cancelled';
  return 'interrupted';
}

function makeTask(i: number): TaskData {
  const status = statusFor(Math.random());
  const createdAt = BASE + i * 100;
  const started = status !== 'cancelled';
  const duration = Math.round(Math.exp(Math.random() * 10)); // 1 ms .. 22 s
  return {
    id: randomUUID(),
    funcName: FUNCS[i % FUNCS.length],
    status,
    createdAt,
    startTime: started ? createdAt + 5 : null,
    endTime: started ? createdAt + 5 + duration : createdAt + 1,
    retriesUsed: status === 'failed' ? 2 : 0,
    error: status === 'failed' ? `ValueError: bad input #${i}` : null,
    stacktrace: status === 'failed' ? `ValueError: bad input #${i}\n    at handler (svc.ts:10:5)` : null,
    logs: ['2026-01-01T00:00:00 start', `2026-01-01T00:00:01 item ${i}`, '2026-01-01T00:00:02 done'],
    tags: { tenant: `t${i % 50}`, source: i % 3 ? 'api' : 'cron' },
    source: i % 3 ? 'manual' : 'scheduled',
    priority: null,
    progress: 1,
    args: [`user${i}@example.com`, { n: i }],
    argsCipher: null,
    idempotencyKey: null,
    durable: false,
    owner: null,
    version: 3,
  };
}

/** `backend(null)`: no query timeout (the check of the search's answer may scan for longer). */
function where(p: HistoryParams): { options: TaskManagerOptions; backend: (queryTimeout?: null) => TypeOrmTaskBackend; file?: string } {
  if (p.store === 'sqlite') {
    const file = path.join(p.cacheDir, `history-${p.rows}.db`);
    return { options: { snapshotDb: file }, backend: () => new TypeOrmTaskBackend(sqliteOptions(file)), file };
  }
  const tablePrefix = `tfbench_hist_${p.rows}_${process.env.BENCH_HISTORY_PREFIX ?? ''}`;
  const database = p.store === 'postgres' ? ({ type: 'postgres', url: PG_URL } as const) : ({ type: 'mysql', url: MYSQL_URL } as const);
  return {
    options: { database, tablePrefix },
    backend: (queryTimeout) => new TypeOrmTaskBackend(database, { tablePrefix, queryTimeout }),
  };
}

async function seed(p: HistoryParams): Promise<HistoryResult> {
  fs.mkdirSync(p.cacheDir, { recursive: true });
  const w = where(p);
  const backend = w.backend();
  await backend.open();
  try {
    const existing = await backend.metrics();
    if (existing.total === p.rows) {
      // A seed of an earlier run may have been closed before SQLite's idle indexer folded it in.
      const indexSeconds = await timedIndexing(backend);
      return { reused: true, indexSeconds };
    }
    await backend.dropTables();
    await backend.close();
    if (w.file) for (const s of ['', '-wal', '-shm']) fs.rmSync(w.file + s, { force: true });
    // Seeding writes 10,000-row batches into a growing index: one statement (the pre-read of
    // the batch's ids, or MariaDB's COMMIT syncing its FULLTEXT cache) took 1-2.6 s idle at
    // 900k rows and passed the 5 s query timeout under load; a seed is not an outage.
    const fresh = w.backend(null);
    await fresh.open();
    const t0 = nowMs();
    for (let i = 0; i < p.rows; i += BATCH) {
      await fresh.saveBatch(Array.from({ length: Math.min(BATCH, p.rows - i) }, (_, j) => makeTask(i + j)));
    }
    const seconds = (nowMs() - t0) / 1000;
    // A history built over days is indexed; the seed's burst leaves SQLite's queue to fold.
    const indexSeconds = await timedIndexing(fresh);
    const tasks = fresh.tableNames.tasks;
    if (fresh.kind === 'postgres') await fresh.source.query(`ANALYZE "${tasks}"`);
    if (fresh.kind === 'mysql' || fresh.kind === 'mariadb') await fresh.source.query(`ANALYZE TABLE \`${tasks}\``);
    await fresh.close();
    return { reused: false, seedSeconds: seconds, indexSeconds };
  } finally {
    await backend.close().catch(() => undefined);
  }
}

/** SQLite: folds the search queue the seed's writes left (a no-op elsewhere); seconds it took. */
async function timedIndexing(backend: TypeOrmTaskBackend): Promise<number> {
  const t0 = nowMs();
  await backend.indexSearch();
  return (nowMs() - t0) / 1000;
}

@Injectable()
class HistoryJobs {
  @BackgroundTask()
  async run(): Promise<void> {}
}

async function time(reps: number, fn: () => Promise<unknown>): Promise<Timing> {
  await fn(); // warm (statement cache, page cache)
  const samples: number[] = [];
  let total: number | undefined;
  for (let i = 0; i < reps; i++) {
    const t0 = nowMs();
    const result = (await fn()) as { total?: number };
    samples.push(nowMs() - t0);
    total = result?.total;
  }
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99), n: reps, total };
}

const SEARCHED = 'bad input #4242';

/**
 * The search's true total, straight from the database without a query timeout: a read
 * that times out in the app is answered from memory (an outage), fast and wrong.
 */
async function directSearchTotal(backend: TypeOrmTaskBackend): Promise<number> {
  await backend.open();
  try {
    return (await backend.listTasks({ q: SEARCHED, limit: 1 })).total;
  } finally {
    await backend.close();
  }
}

async function query(p: HistoryParams): Promise<HistoryResult> {
  const w = where(p);
  const t0 = nowMs();
  @Module({ imports: [TaskManagerModule.forRoot({ ...w.options, requeuePending: true })], providers: [HistoryJobs] })
  class HistoryApp {}
  const app = await NestFactory.createApplicationContext(HistoryApp as Type, { logger: ['error'] });
  await app.init();
  const startupMs = nowMs() - t0;
  const manager = app.get(TaskManager);
  try {
    await settle();
    const rss = rssMB();
    const heap = process.memoryUsage().heapUsed / MB;
    const reps = p.reps ?? 30;
    const page = await manager.listTasks({ limit: 1 });
    const someId = page.items[0].task_id;
    const result: HistoryResult = {
      startupMs,
      rssMB: rss,
      heapMB: heap,
      firstPage: await time(reps, () => manager.listTasks({})),
      filtered: await time(reps, () => manager.listTasks({ funcName: FUNCS[3], status: 'failed' })),
      search: await time(p.searchReps ?? 5, () => manager.listTasks({ q: SEARCHED })),
      metrics: await time(reps, () => manager.metrics()),
      getTask: await time(reps, () => manager.getTask(someId)),
      fileMB: w.file ? fs.statSync(w.file).size / MB : undefined,
    };
    result.search!.exact = (await directSearchTotal(w.backend(null))) === result.search!.total;
    return result;
  } finally {
    await app.close();
  }
}

scenarioMain<HistoryParams, HistoryResult>((p) => (p.mode === 'seed' ? seed(p) : query(p)));
