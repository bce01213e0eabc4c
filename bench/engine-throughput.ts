// Quick measurement: N no-op tasks through a memory-only manager, enqueue to success.
// Run: npx tsc -p tsconfig.json --outDir /tmp/tf && node --expose-gc /tmp/tf/bench/engine-throughput.js [N] [maxInMemory]
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BackgroundTask, TaskManager, TaskManagerModule } from '../lib';

@Injectable()
class Noop {
  @BackgroundTask()
  async run(): Promise<void> {}
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 100_000);
  const maxInMemory = Number(process.argv[3] ?? 10_000);
  @Module({ imports: [TaskManagerModule.forRoot({ maxInMemory, maxConcurrentTasks: 32 })], providers: [Noop] })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  const manager = app.get(TaskManager);
  const noop = app.get(Noop);
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = process.hrtime.bigint();
  const batch = 10_000;
  for (let done = 0; done < n; done += batch) {
    for (let i = 0; i < Math.min(batch, n - done); i++) manager.addTask(noop.run);
    await manager.drain();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  global.gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  const m = await manager.metrics();
  console.log(JSON.stringify({
    tasks: n, seconds: +seconds.toFixed(3), tasksPerSecond: Math.round(n / seconds), inMemory: m.total,
    heapBeforeMB: +(heapBefore / 2 ** 20).toFixed(1), heapAfterMB: +(heapAfter / 2 ** 20).toFixed(1),
    rssMB: +(process.memoryUsage().rss / 2 ** 20).toFixed(1),
  }));
  await app.close();
}

void main();
