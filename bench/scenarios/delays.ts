/**
 * Scenario 8: delayed tasks.
 * - `cost` (memory only): N tasks added with a delay (an hour or more ahead, so none starts
 *   during the run), against N plain addTask calls held in the queue behind a busy slot
 *   (`held`): the same number of pending records, so the difference is what waiting for a
 *   due time costs: add time, RSS and heap after a forced GC, and the timers alive.
 * - `lateness`: N tasks due over `spreadSeconds`, starting `leadSeconds` after they are
 *   added, on SQLite (requeuePending) or memory; how late each started after its run_at.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TaskManagerOptions } from '../../lib';
import { MB, nowMs, percentile, rssMB, scenarioMain, settle } from '../common';
import { managerApp } from '../fixtures';

export interface DelaysParams {
  mode: 'cost' | 'lateness';
  n: number;
  /** cost: `delayed` (addTask with delay) or `held` (plain addTask, waiting for a slot). */
  variant?: 'delayed' | 'held';
  /** lateness: where the tasks are kept. */
  store?: 'memory' | 'sqlite';
  spreadSeconds?: number;
  leadSeconds?: number;
  cap?: number;
}

export interface DelaysResult {
  n: number;
  addSeconds?: number;
  rssDeltaMB?: number;
  heapDeltaMB?: number;
  timers?: number;
  latenessP50Ms?: number;
  latenessP99Ms?: number;
  latenessMaxMs?: number;
  /** Tasks whose record shows a start before its run_at (must be 0). */
  early?: number;
}

const timersAlive = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

async function cost(p: DelaysParams): Promise<DelaysResult> {
  const { app, manager, noop } = await managerApp({ maxConcurrentTasks: 1, shutdownGracePeriod: 0 });
  try {
    // Holds the only slot for the whole run, so `held` tasks stay queued.
    let release!: () => void;
    const busy = new Promise<void>((resolve) => (release = resolve));
    noop.block = busy;
    manager.addTask(noop.hold);
    await settle();
    const rss0 = rssMB();
    const heap0 = process.memoryUsage().heapUsed / MB;
    const timers0 = timersAlive();
    const t0 = nowMs();
    if (p.variant === 'delayed') {
      for (let i = 0; i < p.n; i++) manager.addTask(noop.run, [], { delay: 3600 + (i % 86_400) });
    } else {
      for (let i = 0; i < p.n; i++) manager.addTask(noop.run);
    }
    const added = nowMs();
    // Let the queue and the heap settle (pumps, the timer armed), then measure.
    await new Promise((resolve) => setImmediate(resolve));
    await settle();
    const result = {
      n: p.n,
      addSeconds: (added - t0) / 1000,
      rssDeltaMB: rssMB() - rss0,
      heapDeltaMB: process.memoryUsage().heapUsed / MB - heap0,
      timers: timersAlive() - timers0,
    };
    release();
    return result;
  } finally {
    await app.close();
  }
}

async function lateness(p: DelaysParams): Promise<DelaysResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-bench-delays-'));
  // Every record kept in memory too, so the memory store can be read back like the database.
  const options: TaskManagerOptions = { maxConcurrentTasks: p.cap ?? 32, shutdownGracePeriod: 0, maxInMemory: p.n };
  if (p.store === 'sqlite') Object.assign(options, { snapshotDb: path.join(dir, 'tasks.db'), requeuePending: true });
  const { app, manager, noop } = await managerApp(options);
  try {
    const lead = (p.leadSeconds ?? 2) * 1000;
    const spread = (p.spreadSeconds ?? 5) * 1000;
    const base = Date.now() + lead;
    for (let i = 0; i < p.n; i++) manager.addTask(noop.stamp, [], { runAt: new Date(base + Math.floor((i * spread) / p.n)) });
    await manager.drain();
    await manager.flush();
    // From the records themselves: start_time against run_at, both stamped by the engine's clock.
    const late: number[] = [];
    let early = 0;
    for (let offset = 0; ; offset += 5000) {
      const page = await manager.listTasks({ funcName: 'Noop.stamp', limit: 5000, offset });
      for (const r of page.items) {
        const lateBy = Date.parse(r.start_time!) - Date.parse(r.run_at!);
        if (lateBy < 0) early++;
        late.push(lateBy);
      }
      if (page.items.length < 5000) break;
    }
    if (late.length !== p.n) throw new Error(`${late.length} records of ${p.n}`);
    return {
      n: p.n,
      latenessP50Ms: percentile(late, 0.5),
      latenessP99Ms: percentile(late, 0.99),
      latenessMaxMs: Math.max(...late),
      early,
    };
  } finally {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

scenarioMain<DelaysParams, DelaysResult>((p) => (p.mode === 'cost' ? cost(p) : lateness(p)));
