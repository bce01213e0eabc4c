/**
 * Scenario 3's server: one Nest app (on Express or Fastify, TaskAdminModule, so the SSE hub
 * and the admin routes are there as in a real app) with two routes that differ only by the
 * addTask call: `POST /bench/enqueue?email=` enqueues a no-op task and answers its id,
 * `POST /bench/plain?email=` answers a fresh UUID. The parent drives it with autocannon.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Controller, INestApplication, Injectable, Module, Post, Query, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BackgroundTask, TaskAdminModule, TaskAdminOptions, TaskManager, TaskManagerModule } from '../../lib';
import { MB, fromParent, rssMB, scenarioMain } from '../common';

@Injectable()
class Mailer {
  @BackgroundTask()
  async send(_address: string): Promise<void> {}
}

@Controller('bench')
class BenchController {
  constructor(
    private readonly tasks: TaskManager,
    private readonly mailer: Mailer,
  ) {}

  @Post('enqueue')
  enqueue(@Query('email') email: string): { task_id: string } {
    return { task_id: this.tasks.addTask(this.mailer.send, [email]) };
  }

  @Post('plain')
  plain(@Query('email') email: string): { task_id: string } {
    void email;
    return { task_id: randomUUID() };
  }
}

/** Only the plain route, in an app that does not import nestjs-taskflow at all. */
@Controller('bench')
class PlainOnlyController {
  @Post('plain')
  plain(@Query('email') email: string): { task_id: string } {
    void email;
    return { task_id: randomUUID() };
  }
}

export interface HttpServerParams {
  /** 'none': an app without nestjs-taskflow (what importing the module costs every route). */
  store: 'memory' | 'sqlite' | 'none';
  /** Nest's HTTP platform (default express). */
  platform?: 'express' | 'fastify';
}

export interface HttpServerResult {
  tasks: number;
  rssMB: number;
  heapMB: number;
}

scenarioMain<HttpServerParams, HttpServerResult>(async (p) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-bench-http-'));
  const options: TaskAdminOptions = {
    ...(p.store === 'sqlite' ? { snapshotDb: path.join(dir, 'tasks.db'), requeuePending: true } : {}),
    // Measurement hooks (by hand, not in the table): extra module options as JSON, and the module without the admin surface.
    ...(JSON.parse(process.env.BENCH_HTTP_OPTIONS ?? '{}') as TaskAdminOptions),
  };
  const taskModule = process.env.BENCH_HTTP_MODULE === 'manager' ? TaskManagerModule.forRoot(options) : TaskAdminModule.forRoot(options);
  @Module(
    p.store === 'none' ? { controllers: [PlainOnlyController] } : { imports: [taskModule], providers: [Mailer], controllers: [BenchController] },
  )
  class HttpBenchModule {}
  const app = await createApp(HttpBenchModule as Type, p.platform ?? 'express');
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  process.send!({ ready: true, url: `http://127.0.0.1:${address.port}` });
  await fromParent<{ stop?: boolean }>((m) => m.stop === true);
  let tasks = 0;
  if (p.store !== 'none') {
    const manager = app.get(TaskManager);
    await manager.drain();
    await manager.flush();
    tasks = (await manager.metrics()).total;
  }
  const result = { tasks, rssMB: rssMB(), heapMB: process.memoryUsage().heapUsed / MB };
  await app.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return result;
});

async function createApp(module: Type, platform: 'express' | 'fastify'): Promise<INestApplication> {
  if (platform === 'express') return NestFactory.create(module, { logger: ['error'] });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { FastifyAdapter } = require('@nestjs/platform-fastify') as typeof import('@nestjs/platform-fastify');
  return NestFactory.create(module, new FastifyAdapter(), { logger: ['error'] });
}
