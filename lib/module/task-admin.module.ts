import { DynamicModule, Module, NestModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AdminBodyParsing } from '../http/admin-body-parsing';
import { resolvePath } from '../options/resolve-options';
import { TaskAdminAsyncOptions, TaskAdminOptions } from '../options/task-options.interface';
import { adminSurface } from './admin-surface';
import { assertOneNestCore } from './nest-core-copies';
import { CORE_EXPORTS, CORE_PROVIDERS, asyncOptionsProviders, autoInstallProviders, syncOptionsProvider } from './core-providers';

/** The task manager plus the REST admin API, the SSE stream, the dashboard and login. */
@Module({})
export class TaskAdminModule implements NestModule {
  constructor(private readonly bodyParsing: AdminBodyParsing) {}

  /** Runs in `app.init()` before Nest registers any route: the last moment Fastify takes route options. */
  configure(): void {
    this.bodyParsing.beforeRoutes();
  }

  static forRoot(options: TaskAdminOptions = {}): DynamicModule {
    assertOneNestCore();
    const surface = adminSurface(resolvePath(options.path));
    return {
      module: TaskAdminModule,
      global: true,
      imports: [DiscoveryModule],
      controllers: surface.controllers,
      providers: [syncOptionsProvider(options, 'admin'), ...CORE_PROVIDERS, ...autoInstallProviders(options.autoInstall), ...surface.providers],
      exports: [...CORE_EXPORTS, ...surface.exports],
    };
  }

  /** `path` and `autoInstall` decide which routes and interceptors exist, so they are given here, beside the factory. */
  static forRootAsync(options: TaskAdminAsyncOptions): DynamicModule {
    assertOneNestCore();
    const path = resolvePath(options.path);
    const surface = adminSurface(path);
    return {
      module: TaskAdminModule,
      global: true,
      imports: [DiscoveryModule, ...(options.imports ?? [])],
      controllers: surface.controllers,
      providers: [
        ...asyncOptionsProviders(options, 'admin', { path, autoInstall: options.autoInstall }),
        ...CORE_PROVIDERS,
        ...autoInstallProviders(options.autoInstall),
        ...surface.providers,
      ],
      exports: [...CORE_EXPORTS, ...surface.exports],
    };
  }
}
