import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TaskManagerAsyncOptions, TaskManagerOptions } from '../options/task-options.interface';
import { assertOneNestCore } from './nest-core-copies';
import { CORE_EXPORTS, CORE_PROVIDERS, asyncOptionsProviders, syncOptionsProvider } from './core-providers';

/** The task manager and its lifecycle, with no routes: for apps that want tasks but no admin surface. */
@Module({})
export class TaskManagerModule {
  static forRoot(options: TaskManagerOptions = {}): DynamicModule {
    assertOneNestCore();
    return {
      module: TaskManagerModule,
      global: true,
      imports: [DiscoveryModule],
      providers: [syncOptionsProvider(options, 'manager'), ...CORE_PROVIDERS],
      exports: CORE_EXPORTS,
    };
  }

  static forRootAsync(options: TaskManagerAsyncOptions): DynamicModule {
    assertOneNestCore();
    return {
      module: TaskManagerModule,
      global: true,
      imports: [DiscoveryModule, ...(options.imports ?? [])],
      providers: [...asyncOptionsProviders(options, 'manager', {}), ...CORE_PROVIDERS],
      exports: CORE_EXPORTS,
    };
  }
}
