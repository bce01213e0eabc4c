import { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TaskManager, TaskManagerModule, TaskManagerOptions } from '../../lib';

/** A Nest app with TaskManagerModule and the given providers, initialised (no HTTP listener). */
export async function createManagerApp(
  options: TaskManagerOptions,
  metadata: ModuleMetadata,
): Promise<{ app: INestApplication; manager: TaskManager }> {
  const moduleRef = await Test.createTestingModule({
    imports: [TaskManagerModule.forRoot({ shutdownGracePeriod: 0, ...options }), ...(metadata.imports ?? [])],
    providers: metadata.providers ?? [],
    controllers: metadata.controllers ?? [],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return { app, manager: app.get(TaskManager) };
}
