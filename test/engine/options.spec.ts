import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { InvalidOptionError, TaskAdminModule, TaskManager, TaskManagerModule, TaskManagerOptions, TaskOptionsFactory } from '../../lib';
import { TASKFLOW_OPTIONS } from '../../lib/constants';
import { resolveOptions } from '../../lib/options/resolve-options';

describe('option validation', () => {
  it('applies the documented defaults', () => {
    const o = resolveOptions({});
    expect(o).toMatchObject({
      path: '/tasks',
      displayFuncArgs: false,
      autoInstall: false,
      auth: null,
      tokenExpiry: 86400,
      pollInterval: 30,
      title: 'nestjs-taskflow',
      publicStream: false,
      snapshotDb: null,
      database: null,
      snapshotInterval: 60,
      requeuePending: false,
      retentionDays: null,
      maxConcurrentTasks: null,
      loggers: [],
      logFile: null,
      logLifecycle: false,
      encryptArgsKey: null,
      maxInMemory: 10000,
    });
    expect(o.secretKeyGenerated).toBe(true);
    expect(o.secretKey.length).toBeGreaterThanOrEqual(32);
  });

  it('bounds database calls by queryTimeout, 5 s unless given, on both modules', () => {
    expect(resolveOptions({}).queryTimeout).toBe(5);
    expect(resolveOptions({ queryTimeout: 0.5 }, 'manager').queryTimeout).toBe(0.5);
  });

  it('bounds the write backlog of started tasks at 6,000 unless given, on both modules', () => {
    expect(resolveOptions({}).maxWriteBacklog).toBe(6000);
    expect(resolveOptions({ maxWriteBacklog: 5 }, 'manager').maxWriteBacklog).toBe(5);
  });

  it.each([
    [{ maxWriteBacklog: 0 }, /"maxWriteBacklog": expected an integer of at least 1, got 0/],
    [{ maxWriteBacklog: 2.5 }, /"maxWriteBacklog": expected an integer of at least 1, got 2.5/],
    [{ maxWriteBacklog: '100' }, /"maxWriteBacklog": expected an integer of at least 1/],
    [{ maxConcurrentTasks: 0 }, /"maxConcurrentTasks": expected null or an integer of at least 1, got 0/],
    [{ snapshotInterval: -1 }, /"snapshotInterval": expected a finite number of seconds greater than 0/],
    [{ requeuePending: 'yes' }, /"requeuePending": expected true or false, got "yes"/],
    [{ path: 'tasks with spaces' }, /"path": expected a URL path/],
    [{ auth: ['admin'] }, /"auth": expected null, a \[username, password\] pair/],
    [{ auth: 'admin:secret' }, /"auth"/],
    [{ encryptArgsKey: 'short' }, /"encryptArgsKey": expected a base64 string of exactly 32 bytes.*got "<redacted>"/],
    [{ maxInMemory: 1.5 }, /"maxInMemory"/],
    [{ retentionDays: 0 }, /"retentionDays"/],
    [{ databse: {} }, /invalid option "databse": expected one of the known options/],
    [{ database: 'postgres://x' }, /"database": expected TypeORM DataSourceOptions/],
    [{ secretKey: '' }, /"secretKey": expected a non-empty string, got "<redacted>"/],
    [{ queryTimeout: 0 }, /"queryTimeout": expected a finite number of seconds greater than 0/],
    [{ queryTimeout: '5' }, /"queryTimeout": expected a finite number of seconds greater than 0/],
    [{ queryTimeout: 3601 }, /"queryTimeout": expected a finite number of seconds greater than 0 and at most 3600, got 3601/],
  ])('rejects %j', (input, message) => {
    expect(() => resolveOptions(input as never)).toThrow(InvalidOptionError);
    expect(() => resolveOptions(input as never)).toThrow(message);
  });

  it('normalises path and accepts credentials as a pair or a list', () => {
    expect(resolveOptions({ path: 'admin/jobs/' }).path).toBe('/admin/jobs');
    expect(resolveOptions({ auth: ['a', 'b'] }).auth!.authenticateUser('a', 'b')).toBe(true);
    const many = resolveOptions({
      auth: [
        ['a', 'b'],
        ['c', 'd'],
      ],
    }).auth!;
    expect(many.authenticateUser('c', 'd')).toBe(true);
    expect(many.authenticateUser('c', 'b')).toBe(false);
    expect(many.authenticateUser('nobody', 'b')).toBe(false);
  });

  it('TaskManagerModule refuses admin-only options', () => {
    expect(() => TaskManagerModule.forRoot({ path: '/x' } as TaskManagerOptions)).toThrow(/"path": expected nothing/);
  });

  it('fails startup when an async factory returns a bad option', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [TaskManagerModule.forRootAsync({ useFactory: () => ({ maxInMemory: 0 }) })],
    })
      .compile()
      .catch((e) => e);
    expect(String(moduleRef)).toMatch(/"maxInMemory"/);
  });
});

describe('forRootAsync', () => {
  it('takes options from a factory with ConfigService, path given beside it', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ TASKS_MAX: 3, TASKS_TITLE: 'Ops <tasks>' })] }),
        TaskAdminModule.forRootAsync({
          path: '/admin/jobs',
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            maxConcurrentTasks: config.get<number>('TASKS_MAX'),
            title: config.get<string>('TASKS_TITLE'),
          }),
        }),
      ],
    }).compile();
    const options = moduleRef.get(TASKFLOW_OPTIONS);
    expect(options).toMatchObject({ maxConcurrentTasks: 3, title: 'Ops <tasks>', path: '/admin/jobs' });
    expect(moduleRef.get(TaskManager)).toBeInstanceOf(TaskManager);
  });

  it('takes autoInstall beside path and refuses it from the factory', async () => {
    const ok = await Test.createTestingModule({
      imports: [TaskAdminModule.forRootAsync({ autoInstall: true, useFactory: () => ({}) })],
    }).compile();
    expect(ok.get(TASKFLOW_OPTIONS).autoInstall).toBe(true);
    const bad = await Test.createTestingModule({
      imports: [TaskAdminModule.forRootAsync({ useFactory: () => ({ autoInstall: true }) as object })],
    })
      .compile()
      .catch((e) => e);
    expect(String(bad)).toMatch(/"autoInstall": expected given to forRootAsync beside `path`/);
  });

  it('takes options from a class implementing TaskOptionsFactory', async () => {
    @Injectable()
    class TaskConfig implements TaskOptionsFactory<TaskManagerOptions> {
      createTaskOptions(): TaskManagerOptions {
        return { maxInMemory: 42 };
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [TaskManagerModule.forRootAsync({ useClass: TaskConfig })],
    }).compile();
    expect(moduleRef.get(TASKFLOW_OPTIONS).maxInMemory).toBe(42);
  });

  it('takes options from an existing provider (useExisting)', async () => {
    @Injectable()
    class SharedConfig implements TaskOptionsFactory<TaskManagerOptions> {
      createTaskOptions(): TaskManagerOptions {
        return { maxInMemory: 7 };
      }
    }
    @Module({ providers: [SharedConfig], exports: [SharedConfig] })
    class SharedModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [TaskManagerModule.forRootAsync({ imports: [SharedModule], useExisting: SharedConfig })],
    }).compile();
    expect(moduleRef.get(TASKFLOW_OPTIONS).maxInMemory).toBe(7);
  });
});
