import { Controller, Provider, Type, UseGuards } from '@nestjs/common';
import { TaskAuthGuard } from '../auth/task-auth.guard';
import { isTaskWorkerThread } from '../executors/worker-thread';
import { ADMIN_PROVIDERS, createAdminControllers } from '../http/admin-controllers';
import { markAdminRoutes } from '../http/fastify-admin-routes';
import { OpenApiController, TASKFLOW_ADMIN_CONTROLLERS } from '../integrations/openapi/openapi.controller';

/** Controllers and providers of the admin HTTP surface for one mount path. */
export function adminSurface(path: string): { controllers: Type[]; providers: Provider[]; exports: Provider[] } {
  // A task worker thread serves no routes: its context only runs tasks.
  if (isTaskWorkerThread()) return { controllers: [], providers: ADMIN_PROVIDERS, exports: [] };
  // A fresh subclass per mount path, as createAdminControllers does; first, so `/:task_id` never takes `openapi.json`.
  const openApi = class extends OpenApiController {};
  Object.defineProperty(openApi, 'name', { value: OpenApiController.name });
  Controller(path)(openApi);
  UseGuards(TaskAuthGuard)(openApi);
  markAdminRoutes(openApi);
  const controllers = [openApi, ...createAdminControllers(path)];
  return {
    controllers,
    providers: [...ADMIN_PROVIDERS, { provide: TASKFLOW_ADMIN_CONTROLLERS, useValue: controllers }],
    exports: [],
  };
}
