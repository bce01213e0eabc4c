import { Controller, Get, INestApplication, Injectable, Module } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { DataSourceOptions } from 'typeorm';
import { BackgroundTask, reportProgress, TaskManager, TaskManagerModule, TaskManagerOptions, TaskflowHealthIndicator } from '../../lib';
import { serverAddress, throughPort } from '../support/crash-db';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { HttpPlatform, describeEachPlatform, startPlatformApp } from '../support/http-platforms';
import { TcpProxy } from '../support/tcp-proxy';

/** A promise opened from outside. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

@Injectable()
class Jobs {
  static proceed = gate();
  static reported = gate();
  static release = gate();

  /** Once told, reports progress (a change written behind, not promptly), then waits to be released. */
  @BackgroundTask()
  async progress(): Promise<void> {
    await Jobs.proceed.promise;
    reportProgress(0.5);
    Jobs.reported.open();
    await Jobs.release.promise;
  }
}

/** The host app's health route, as the README shows it. */
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly taskflow: TaskflowHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.taskflow.isHealthy('taskflow', { timeout: 2 })]);
  }

  @Get('strict')
  @HealthCheck()
  strict() {
    return this.health.check([() => this.taskflow.isHealthy('taskflow', { maxBacklog: 0 })]);
  }
}

async function startApp(options: TaskManagerOptions, platform: HttpPlatform = 'express'): Promise<INestApplication> {
  @Module({
    imports: [TerminusModule.forRoot({ logger: false }), TaskManagerModule.forRoot(options)],
    controllers: [HealthController],
    providers: [Jobs],
  })
  class HostModule {}
  const moduleRef = await Test.createTestingModule({ imports: [HostModule] }).compile();
  return startPlatformApp(moduleRef, platform, {}, { logger: false });
}

describeEachPlatform('TaskflowHealthIndicator with @nestjs/terminus', (platform) => {
  it('is up in memory, with nothing to write and no lease', async () => {
    const app = await startApp({}, platform);
    try {
      const res = await request(app.getHttpServer()).get('/health').expect(200);
      expect(res.body).toEqual({
        status: 'ok',
        info: { taskflow: { status: 'up', backend: 'memory', database: 'none', backlog: 0, maxBacklog: 10000, lease: 'none' } },
        error: {},
        details: { taskflow: { status: 'up', backend: 'memory', database: 'none', backlog: 0, maxBacklog: 10000, lease: 'none' } },
      });
    } finally {
      await app.close();
    }
  });
});

describeEachPlatform('TaskflowHealthIndicator on a database', (platform) => {
  describeEachDatabase(
    'TaskflowHealthIndicator',
    (target) => {
      it('is up on a writable database with a fresh lease; down with details when the backlog passes its bound', async () => {
        const app = await startApp({ database: target.options, tablePrefix: uniquePrefix() }, platform);
        try {
          const res = await request(app.getHttpServer()).get('/health').expect(200);
          expect(res.body.info.taskflow).toEqual({
            status: 'up',
            backend: expect.any(String),
            database: 'writable',
            backlog: 0,
            maxBacklog: 10000,
            lease: 'fresh',
          });
          const tasks = app.get(TaskManager);
          // The gates are one-shot: fresh ones for each platform's run.
          [Jobs.proceed, Jobs.reported, Jobs.release] = [gate(), gate(), gate()];
          // A progress change of a running task waits in the write-behind up to snapshotInterval: over a bound of 0 it is down.
          const id = tasks.addTask(app.get(Jobs).progress);
          await tasks.flush();
          Jobs.proceed.open();
          await Jobs.reported.promise;
          const strict = await request(app.getHttpServer()).get('/health/strict').expect(503);
          expect(strict.body.status).toBe('error');
          expect(strict.body.error.taskflow).toMatchObject({ status: 'down', database: 'writable', maxBacklog: 0 });
          expect(strict.body.error.taskflow.error).toMatch(/task changes wait to be written \(bound 0\)/);
          Jobs.release.open();
          await tasks.waitFor(id);
          await tasks.flush();
          await request(app.getHttpServer()).get('/health/strict').expect(200);
        } finally {
          await app.close();
        }
      });
    },
    ['sqlite'],
  );

  describeEachDatabase(
    'TaskflowHealthIndicator during an outage',
    (target) => {
      it('answers 503 with the database unreachable while the connection is cut, and up again once restored', async () => {
        const proxy = new TcpProxy(serverAddress(target.options));
        const port = await proxy.start();
        const database = throughPort(target.options, port) as DataSourceOptions;
        const app = await startApp({ database, tablePrefix: uniquePrefix(), shutdownGracePeriod: 0 }, platform);
        try {
          await request(app.getHttpServer()).get('/health').expect(200);
          proxy.cut();
          const down = await request(app.getHttpServer()).get('/health').expect(503);
          expect(down.body.error.taskflow).toMatchObject({ status: 'down', backend: 'postgres', database: 'unreachable', lease: 'unknown' });
          expect(down.body.error.taskflow.error).toMatch(/^database not writable: /);
          proxy.restore();
          const up = await request(app.getHttpServer()).get('/health').expect(200);
          expect(up.body.info.taskflow).toMatchObject({ status: 'up', database: 'writable', lease: 'fresh' });
        } finally {
          proxy.restore();
          await app.close();
          await proxy.stop();
        }
      });
    },
    ['postgres'],
  );
});
