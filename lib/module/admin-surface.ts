import { Provider, Type } from '@nestjs/common';
import { ADMIN_PROVIDERS, createAdminControllers } from '../http/admin-controllers';

/** Controllers and providers of the admin HTTP surface for one mount path. */
export function adminSurface(path: string): { controllers: Type[]; providers: Provider[]; exports: Provider[] } {
  return { controllers: createAdminControllers(path), providers: ADMIN_PROVIDERS, exports: [] };
}
