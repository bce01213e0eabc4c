import { Controller, Get, Header, INestApplication, Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Registry, register } from 'prom-client';
import request from 'supertest';
import { BackgroundTask, InvalidOptionError, TaskManager, TaskManagerModule, getTaskContext } from '../../lib';
import { HTTP_PLATFORMS, HttpPlatform, startPlatformApp } from '../support/http-platforms';

@Injectable()
class Jobs {
  @BackgroundTask()
  async ok(): Promise<void> {}

  @BackgroundTask()
  async boom(): Promise<void> {
    throw new Error('boom');
  }

  @BackgroundTask()
  async hold(): Promise<void> {
    const signal = getTaskContext()!.signal;
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
  }
}

/** How the README tells users to expose the metrics. */
@Controller('metrics')
class MetricsController {
  @Get()
  @Header('Content-Type', register.contentType)
  metrics(): Promise<string> {
    return register.metrics();
  }
}

async function startApp(prometheus: unknown, controllers: (new () => unknown)[] = [], platform: HttpPlatform = 'express'): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [TaskManagerModule.forRoot({ prometheus } as never)],
    controllers,
    providers: [Jobs],
  }).compile();
  return startPlatformApp(moduleRef, platform, {}, { logger: false });
}

/** One sample of the registry's text exposition, e.g. value(r, 'x_total{func_name="A",status="success"}'). */
async function value(registry: Registry, sample: string): Promise<number | undefined> {
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(sample + ' '));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

describe('Prometheus metrics (prom-client)', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('counts finished tasks by function and status, times them, and gauges pending and running, in a given registry', async () => {
    const registry = new Registry();
    app = await startApp({ registry, prefix: 'jobs_' });
    const tasks = app.get(TaskManager);
    const jobs = app.get(Jobs);
    await tasks.waitFor(tasks.addTask(jobs.ok));
    await tasks.waitFor(tasks.addTask(jobs.ok));
    await tasks.waitFor(tasks.addTask(jobs.boom));
    const held = tasks.addTask(jobs.hold);
    await new Promise<void>((resolve) => {
      const sub = tasks.events$.subscribe((r) => r.task_id === held && r.status === 'running' && (sub.unsubscribe(), resolve()));
      if ((tasks.liveTasks().find((t) => t.task_id === held)?.status ?? '') === 'running') resolve();
    });

    expect(await value(registry, 'jobs_tasks_finished_total{func_name="Jobs.ok",status="success"}')).toBe(2);
    expect(await value(registry, 'jobs_tasks_finished_total{func_name="Jobs.boom",status="failed"}')).toBe(1);
    expect(await value(registry, 'jobs_tasks_running')).toBe(1);
    expect(await value(registry, 'jobs_tasks_pending')).toBe(0);
    expect(await value(registry, 'jobs_task_duration_seconds_count{func_name="Jobs.ok",status="success"}')).toBe(2);
    expect(await value(registry, 'jobs_task_duration_seconds_bucket{le="+Inf",func_name="Jobs.ok",status="success"}')).toBe(2);

    await tasks.cancel(held);
    expect(await value(registry, 'jobs_tasks_finished_total{func_name="Jobs.hold",status="cancelled"}')).toBe(1);
    expect(await value(registry, 'jobs_tasks_running')).toBe(0);
    expect(register.getSingleMetric('jobs_tasks_running')).toBeUndefined();
  });

  it.each(HTTP_PLATFORMS)(
    'registers in the global register with `true`, scraped through a controller of the app on %s; unregisters at shutdown',
    async (platform) => {
      app = await startApp(true, [MetricsController], platform);
      const tasks = app.get(TaskManager);
      await tasks.waitFor(tasks.addTask(app.get(Jobs).ok));
      const scrape = await request(app.getHttpServer()).get('/metrics').expect(200);
      expect(scrape.headers['content-type']).toContain('text/plain');
      expect(scrape.text).toContain('taskflow_tasks_finished_total{func_name="Jobs.ok",status="success"} 1');
      expect(scrape.text).toContain('# TYPE taskflow_task_duration_seconds histogram');
      expect(scrape.text).toContain('taskflow_tasks_pending 0');
      await app.close();
      app = undefined;
      expect(register.getSingleMetric('taskflow_tasks_finished_total')).toBeUndefined();
      // A second app in the same process registers again without a name clash.
      app = await startApp(true);
      expect(register.getSingleMetric('taskflow_tasks_finished_total')).toBeDefined();
    },
  );

  it('is off by default: nothing is registered', async () => {
    app = await startApp(undefined);
    expect(register.getSingleMetric('taskflow_tasks_finished_total')).toBeUndefined();
  });

  it('refuses a value that is not a registry', async () => {
    await expect(startApp({ registry: {} })).rejects.toThrow(InvalidOptionError);
    await expect(startApp({ prefix: 'bad-prefix' })).rejects.toThrow(/prometheus\.prefix/);
  });
});
