/**
 * The edges of the worker executor: a thread that runs out of memory fails its attempt and
 * is replaced; a worker task without the `workers` option, or a bad `workers` option, stops startup.
 */
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BackgroundTask, InvalidOptionError, TaskDefinitionError, TaskManager, TaskManagerModule } from '../../lib';
import { resolveWorkers } from '../../lib/options/resolve-workers';
import { HungryTasks, MemoryAppModule } from './fixtures/memory-app';

jest.setTimeout(60_000);

describe('worker executor limits', () => {
  it('fails the attempt of a thread that exceeds resourceLimits with WorkerCrashedError, and the replacement runs the next task', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [MemoryAppModule] }).compile();
    const app = await moduleRef.init();
    try {
      const manager = app.get(TaskManager);
      const tasks = app.get(HungryTasks);
      const crashed = await manager.waitFor(manager.addTask(tasks.hoard));
      expect(crashed.status).toBe('failed');
      expect(crashed.error).toMatch(
        /^WorkerCrashedError: the worker thread running HungryTasks.hoard died: Worker terminated due to reaching memory limit: JS heap out of memory \(ERR_WORKER_OUT_OF_MEMORY\); the pool replaces it$/,
      );
      expect(await manager.waitFor(manager.addTask(tasks.small, [1]))).toMatchObject({ status: 'success', executor: 'worker' });
    } finally {
      await app.close();
    }
  });

  it('refuses to start when a worker task has no `workers` option, naming the task', async () => {
    @Injectable()
    class Orphan {
      @BackgroundTask({ executor: 'worker' })
      crunch(): void {}
    }
    @Module({ imports: [TaskManagerModule.forRoot({})], providers: [Orphan] })
    class OrphanModule {}
    const moduleRef = await Test.createTestingModule({ imports: [OrphanModule] }).compile();
    const failure = await Promise.resolve()
      .then(() => moduleRef.init())
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(TaskDefinitionError);
    expect((failure as Error).message).toMatch(/Orphan.crunch has executor 'worker' but the module option `workers` is not set/);
    // close() rethrows the failed startup; nothing was started that needs stopping.
    await moduleRef.close().catch(() => undefined);
  });

  it('validates the workers option', () => {
    expect(() => resolveWorkers({ module: 'relative/app.js#AppModule' })).toThrow(InvalidOptionError);
    expect(() => resolveWorkers({ module: '/abs/app.js' })).toThrow(/workers.module/);
    expect(() => resolveWorkers({ module: '/abs/app.js#AppModule', size: 0 })).toThrow(/workers.size/);
    expect(() => resolveWorkers({ module: '/abs/app.js#AppModule', resourceLimits: { heap: 1 } })).toThrow(/workers.resourceLimits/);
    expect(() => resolveWorkers({ module: '/abs/app.js#AppModule', threads: 2 })).toThrow(/workers.threads/);
    expect(resolveWorkers({ module: '/abs/app.js#AppModule' })).toEqual({
      file: '/abs/app.js',
      exportName: 'AppModule',
      size: expect.any(Number),
      resourceLimits: undefined,
    });
    expect(resolveWorkers({ module: '/abs/app.js#AppModule' })!.size).toBeGreaterThanOrEqual(1);
  });
});
