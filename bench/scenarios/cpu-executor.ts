/**
 * The CPU scenario's child. `latency`: an HTTP app keeps one CPU-bound task (200 ms burns, one
 * after another) running on the given executor while the parent measures a plain route.
 * `throughput`: N burns of `burnMs` on a pool of `threads` threads, timed from the first
 * addTask to the last end (after a warm-up task per thread, so boots are not counted).
 */
import 'reflect-metadata';
import { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { TaskManager as TaskManagerType } from '../../lib';
import { fromParent, scenarioMain } from '../common';

export type CpuExecutorParams =
  { mode: 'latency'; executor: 'worker' | 'async' } | { mode: 'throughput'; threads: number; tasks: number; burnMs: number };

export interface CpuExecutorResult {
  tasksPerSecond: number | null;
  burnsDuringLatency: number | null;
}

scenarioMain<CpuExecutorParams, CpuExecutorResult>(async (p) => {
  process.env.TASKFLOW_BENCH_THREADS = String(p.mode === 'throughput' ? p.threads : 1);
  // Loaded after the pool size is set: the module reads it when its decorators run.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { CpuBenchModule, CpuBenchTasks } = require('./cpu-tasks') as typeof import('./cpu-tasks');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { TaskManager } = require('../../lib') as typeof import('../../lib');
  const app = await NestFactory.create(CpuBenchModule as Type, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const manager: TaskManagerType = app.get(TaskManager);
  const tasks = app.get(CpuBenchTasks);
  try {
    if (p.mode === 'throughput') {
      await Promise.all(Array.from({ length: p.threads }, () => manager.waitFor(manager.addTask(tasks.onWorker, [1]))));
      const started = performance.now();
      const ids = Array.from({ length: p.tasks }, () => manager.addTask(tasks.onWorker, [p.burnMs]));
      await Promise.all(ids.map((id) => manager.waitFor(id)));
      return { tasksPerSecond: p.tasks / ((performance.now() - started) / 1000), burnsDuringLatency: null };
    }
    const method = p.executor === 'worker' ? tasks.onWorker : tasks.onLoop;
    await manager.waitFor(manager.addTask(method, [1]));
    let stopped = false;
    let burns = 0;
    const loop = (async () => {
      while (!stopped) {
        await manager.waitFor(manager.addTask(method, [200]));
        burns++;
        // One turn of the event loop between burns (for both executors), so the async run serves requests at all.
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const address = app.getHttpServer().address() as { port: number };
    process.send!({ ready: true, url: `http://127.0.0.1:${address.port}` });
    await fromParent<{ stop?: boolean }>((m) => m.stop === true);
    stopped = true;
    await loop;
    return { tasksPerSecond: null, burnsDuringLatency: burns };
  } finally {
    await app.close();
  }
});
