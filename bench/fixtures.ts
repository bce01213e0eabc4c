/**
 * What the scenarios run: a no-op background task, and Nest applications built
 * only from the public API (lib/index.ts).
 */
import 'reflect-metadata';
import { Injectable, Module, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { INestApplicationContext } from '@nestjs/common';
import { BackgroundTask, TaskManager, TaskManagerModule, TaskManagerOptions, getTaskContext, taskLog } from '../lib';
import { wallMs } from './common';

/** Start times (wall ms) of tasks run by `Noop.stamp`, by task id. */
export const startedAt = new Map<string, number>();

@Injectable()
export class Noop {
  /** The no-op every throughput scenario runs (the queue libraries run the same). */
  @BackgroundTask()
  async run(): Promise<void> {}

  /** The same no-op under a per-function concurrency limit (its gate's overhead on the engine row). */
  @BackgroundTask({ concurrency: 32 })
  async limited(): Promise<void> {}

  /** A no-op that records when it started (latency runs). */
  @BackgroundTask()
  async stamp(): Promise<void> {
    const id = getTaskContext()?.taskId;
    if (id) startedAt.set(id, wallMs());
  }

  /** What `hold` waits for (set by a scenario that needs a slot kept busy). */
  block: Promise<void> = Promise.resolve();

  /** Holds its slot until `block` settles. */
  @BackgroundTask()
  async hold(): Promise<void> {
    await this.block;
  }

  /** A no-op that logs one line (the SSE burst: pending, running, log, success). */
  @BackgroundTask()
  async logOnce(i: number): Promise<void> {
    taskLog(`item ${i}`);
  }
}

/** The same async no-op, outside any manager (the queue libraries' job). */
export const bareNoop = async (): Promise<void> => {};

export async function managerApp(options: TaskManagerOptions): Promise<{ app: INestApplicationContext; manager: TaskManager; noop: Noop }> {
  @Module({ imports: [TaskManagerModule.forRoot(options)], providers: [Noop] })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule as Type, { logger: ['error'] });
  await app.init();
  return { app, manager: app.get(TaskManager), noop: app.get(Noop) };
}
