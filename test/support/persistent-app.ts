import { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { DataSourceOptions } from 'typeorm';
import { TaskManager, TaskManagerModule, TaskManagerOptions } from '../../lib';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';

/** An app on a real database with its own table prefix. */
export async function createPersistentApp(
  database: DataSourceOptions,
  tablePrefix: string,
  options: TaskManagerOptions,
  metadata: ModuleMetadata,
): Promise<{ app: INestApplication; manager: TaskManager }> {
  const moduleRef = await Test.createTestingModule({
    imports: [TaskManagerModule.forRoot({ shutdownGracePeriod: 0, database, tablePrefix, ...options })],
    providers: metadata.providers ?? [],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return { app, manager: app.get(TaskManager) };
}

/** Drops the tables of a prefix after a test. */
export async function dropTaskTables(database: DataSourceOptions, tablePrefix: string): Promise<void> {
  const backend = new TypeOrmTaskBackend(database, { tablePrefix });
  await backend.open();
  await backend.dropTables();
  await backend.close();
}
