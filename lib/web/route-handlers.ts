import type { Type } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants';

/** A route handler: a controller method that `@Get()`, `@Post()`... marked. */
export type RouteHandler = (...args: unknown[]) => unknown;

/**
 * The route handlers of a controller, its own and inherited (an override counts once,
 * as the subclass's), in declaration order.
 */
export function routeHandlers(controller: Type): RouteHandler[] {
  const handlers: RouteHandler[] = [];
  const seen = new Set<string>();
  for (
    let proto = controller.prototype as object | null;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor' || seen.has(key)) continue;
      seen.add(key);
      const handler: unknown = Object.getOwnPropertyDescriptor(proto, key)?.value;
      if (typeof handler === 'function' && Reflect.getMetadata(METHOD_METADATA, handler) !== undefined) handlers.push(handler as RouteHandler);
    }
  }
  return handlers;
}
