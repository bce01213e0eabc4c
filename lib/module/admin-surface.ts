import { Provider, Type } from '@nestjs/common';

/** Controllers and providers of the admin HTTP surface for one mount path. */
export function adminSurface(path: string): { controllers: Type[]; providers: Provider[]; exports: Provider[] } {
  void path;
  return { controllers: [], providers: [], exports: [] };
}
