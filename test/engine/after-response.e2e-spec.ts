import { Controller, INestApplication, Injectable, Post, UseInterceptors } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { firstValueFrom, filter } from 'rxjs';
import request from 'supertest';
import { BackgroundTask, TaskAdminModule, TaskManager, TaskflowInterceptor } from '../../lib';
import { HttpPlatform, createPlatformApp, describeEachPlatform } from '../support/http-platforms';

const timeline: string[] = [];

@Injectable()
class Work {
  @BackgroundTask()
  async job(label: string): Promise<void> {
    timeline.push(`task ${label} started`);
  }

  @BackgroundTask({ eager: true })
  async urgent(label: string): Promise<void> {
    timeline.push(`task ${label} started`);
  }
}

@Controller('intercepted')
@UseInterceptors(TaskflowInterceptor)
class InterceptedController {
  constructor(
    private readonly tasks: TaskManager,
    private readonly work: Work,
  ) {}

  @Post('deferred')
  async deferred() {
    const id = this.tasks.addTask(this.work.job, ['deferred']);
    await new Promise((resolve) => setImmediate(resolve));
    timeline.push('handler returned');
    return { task_id: id };
  }

  @Post('eager')
  async eager() {
    const id = this.tasks.addTask(this.work.urgent, ['eager']);
    await firstValueFrom(this.tasks.events$.pipe(filter((r) => r.task_id === id && r.status !== 'pending')));
    timeline.push('handler returned');
    return { task_id: id };
  }
}

@Controller('plain')
class PlainController {
  constructor(
    private readonly tasks: TaskManager,
    private readonly work: Work,
  ) {}

  @Post()
  async plain() {
    const id = this.tasks.addTask(this.work.job, ['plain']);
    await firstValueFrom(this.tasks.events$.pipe(filter((r) => r.task_id === id && r.status !== 'pending')));
    timeline.push('handler returned');
    return { task_id: id };
  }
}

@Controller('global')
class UndecoratedController {
  constructor(
    private readonly tasks: TaskManager,
    private readonly work: Work,
  ) {}

  @Post()
  async enqueue() {
    const id = this.tasks.addTask(this.work.job, ['global']);
    await new Promise((resolve) => setImmediate(resolve));
    timeline.push('handler returned');
    return { task_id: id };
  }
}

async function start(platform: HttpPlatform, autoInstall: boolean): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [TaskAdminModule.forRoot({ autoInstall, shutdownGracePeriod: 0 })],
    providers: [Work],
    controllers: [InterceptedController, PlainController, UndecoratedController],
  }).compile();
  const app = createPlatformApp(moduleRef, platform, {}, { logger: false });
  // A middleware sees Node's response on both platforms.
  app.use((_req: unknown, res: { on(e: string, f: () => void): void }, next: () => void) => {
    res.on('finish', () => timeline.push('response finished'));
    next();
  });
  await app.listen(0, '127.0.0.1');
  return app;
}

describeEachPlatform('after-response dispatch through real HTTP', (platform) => {
  /** One app without autoInstall and one with it; each test uses its own route. */
  let app: INestApplication;
  let autoInstalled: INestApplication;
  beforeAll(async () => {
    [app, autoInstalled] = await Promise.all([start(platform, false), start(platform, true)]);
  });
  afterAll(() => Promise.all([app?.close(), autoInstalled?.close()]));
  beforeEach(() => (timeline.length = 0));

  async function post(path: string, on = app): Promise<string> {
    const res = await request(on.getHttpServer()).post(path).expect(201);
    await on.get(TaskManager).waitFor(res.body.task_id);
    return res.body.task_id;
  }

  it('with TaskflowInterceptor, starts a task only after the response has been sent', async () => {
    await post('/intercepted/deferred');
    expect(timeline).toEqual(['handler returned', 'response finished', 'task deferred started']);
  });

  it('starts eager tasks at once even inside an intercepted request', async () => {
    await post('/intercepted/eager');
    expect(timeline).toEqual(['task eager started', 'handler returned', 'response finished']);
  });

  it('without the interceptor, starts tasks at once', async () => {
    await post('/plain');
    expect(timeline).toEqual(['task plain started', 'handler returned', 'response finished']);
  });

  it('with autoInstall, defers tasks of routes without the decorator too', async () => {
    await post('/global', autoInstalled);
    expect(timeline).toEqual(['handler returned', 'response finished', 'task global started']);
  });

  it('without autoInstall, the global interceptor leaves other routes alone', async () => {
    await post('/global');
    expect(timeline).toEqual(['task global started', 'handler returned', 'response finished']);
  });
});
