import { CanActivate, Controller, Provider, Type, UseGuards } from '@nestjs/common';
import { LoginThrottle } from '../auth/login-throttle';
import { SessionRevocations } from '../auth/session-revocations';
import { TaskAuthController } from '../auth/task-auth.controller';
import { TaskAuthGuard } from '../auth/task-auth.guard';
import { TaskSessionController } from '../auth/task-session.controller';
import { TaskTokenService } from '../auth/task-token.service';
import { resolvePath } from '../options/resolve-options';
import { TaskEventHub } from '../stream/task-event-hub';
import { DEFAULT_ADMIN_TUNING, TASKFLOW_ADMIN_TUNING } from '../options/admin-tuning';
import { AdminBodyParsing } from './admin-body-parsing';
import { DashboardController } from './dashboard.controller';
import { markAdminRoutes } from './fastify-admin-routes';
import { FunctionsController } from './functions.controller';
import { InsightsController } from './insights.controller';
import { TasksController } from './tasks.controller';

/** Everything the admin controllers need, for TaskAdminModule's providers. */
export const ADMIN_PROVIDERS: Provider[] = [
  { provide: TASKFLOW_ADMIN_TUNING, useValue: DEFAULT_ADMIN_TUNING },
  SessionRevocations,
  TaskTokenService,
  LoginThrottle,
  TaskEventHub,
  AdminBodyParsing,
];

/**
 * The admin controllers of one module instance, mounted at `path`. Each call makes
 * fresh subclasses and decorates those, never the shared base classes, so several
 * apps (or module instances) with different paths can live in one process.
 *
 * Order matters: the auth and dashboard routes are registered before the API, the
 * dashboard's read routes (insights, export) before the task routes, and within the
 * API the fixed paths come before `/:task_id`.
 */
export function createAdminControllers(path: string, guard: Type<CanActivate> = TaskAuthGuard): Type[] {
  const prefix = resolvePath(path);
  const mount = <T extends Type>(base: T, guarded: boolean): T => {
    const subclass = class extends base {} as T;
    Object.defineProperty(subclass, 'name', { value: base.name });
    Controller(prefix)(subclass);
    if (guarded) UseGuards(guard)(subclass);
    markAdminRoutes(subclass);
    return subclass;
  };
  return [
    mount(TaskAuthController, false),
    mount(TaskSessionController, true),
    mount(DashboardController, true),
    mount(InsightsController, true),
    mount(FunctionsController, true),
    mount(TasksController, true),
  ];
}
