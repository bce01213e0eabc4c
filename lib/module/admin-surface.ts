import { Provider, Type } from '@nestjs/common';
import { isTaskWorkerThread } from '../executors/worker-thread';
import { ADMIN_PROVIDERS, createAdminControllers } from '../http/admin-controllers';

/** Controllers and providers of the admin HTTP surface for one mount path. */
export function adminSurface(path: string): { controllers: Type[]; providers: Provider[]; exports: Provider[] } {
  // A task worker thread serves no routes: its context only runs tasks.
  return { controllers: isTaskWorkerThread() ? [] : createAdminControllers(path), providers: ADMIN_PROVIDERS, exports: [] };
}
