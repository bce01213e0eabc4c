import { Injectable, Module, Scope } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BackgroundTask, TaskDefinitionError, TaskManager, TaskManagerModule } from '../../lib';

@Injectable()
class Mailer {
  @BackgroundTask()
  async send(): Promise<void> {}

  @BackgroundTask({ name: 'custom.name', retries: 2 })
  async custom(): Promise<void> {}
}

@Injectable()
class OtherMailer {
  @BackgroundTask({ name: 'Mailer.send' })
  async send(): Promise<void> {}
}

@Injectable({ scope: Scope.REQUEST })
class PerRequest {
  @BackgroundTask()
  async work(): Promise<void> {}
}

@Injectable()
class BadOptions {
  @BackgroundTask({ retries: -1 })
  async work(): Promise<void> {}
}

async function boot(providers: any[]) {
  const moduleRef = await Test.createTestingModule({ imports: [TaskManagerModule.forRoot()], providers }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

describe('discovery of @BackgroundTask', () => {
  it('registers ClassName.methodName by default, or the given name', async () => {
    const app = await boot([Mailer]);
    const names = app.get(TaskManager).registeredTasks();
    expect(names.map((n) => n.name)).toEqual(['custom.name', 'Mailer.send']);
    expect(names[0].options).toMatchObject({ retries: 2, delay: 0, backoff: 1, persist: false, priority: null });
    await app.close();
  });

  it('registers an aliased provider (useExisting) once, and a factory-made provider by its class', async () => {
    const app = await boot([Mailer, { provide: 'MAILER_ALIAS', useExisting: Mailer }]);
    expect(app.get(TaskManager).registeredTasks()).toHaveLength(2);
    await app.close();
    const fromFactory = await boot([{ provide: 'MAILER', useFactory: () => new Mailer() }]);
    const manager = fromFactory.get(TaskManager);
    expect(manager.registeredTasks().map((n) => n.name)).toContain('Mailer.send');
    const mailer = fromFactory.get<Mailer>('MAILER');
    await manager.waitFor(manager.addTask(mailer.send));
    await fromFactory.close();
  });

  it('rejects duplicate names at startup, naming both classes and methods', async () => {
    await expect(boot([Mailer, OtherMailer])).rejects.toThrow(/two background tasks are named "Mailer\.send" \(Mailer\.send and OtherMailer\.send\)/);
  });

  it('rejects the decorator on a request-scoped provider, naming class and method', async () => {
    await expect(boot([PerRequest])).rejects.toThrow(TaskDefinitionError);
    await expect(boot([PerRequest])).rejects.toThrow(/PerRequest\.work, which is request-scoped/);
  });

  it('rejects bad decorator options, naming class, method and option', async () => {
    await expect(boot([BadOptions])).rejects.toThrow(/"retries" on BadOptions\.work must be an integer >= 0/);
  });

  it('finds tasks in providers of imported modules', async () => {
    @Module({ providers: [Mailer], exports: [Mailer] })
    class MailModule {}
    const moduleRef = await Test.createTestingModule({ imports: [TaskManagerModule.forRoot(), MailModule] }).compile();
    const app = await moduleRef.createNestApplication({ logger: false }).init();
    expect(app.get(TaskManager).registeredTasks()).toHaveLength(2);
    await app.close();
  });
});
