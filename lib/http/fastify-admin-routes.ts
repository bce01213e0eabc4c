import type { Type } from '@nestjs/common';
import { TASKFLOW_BODY_LIMIT } from '../web/body-limit.decorator';
import { bodyParserErrorToHttp } from '../web/body-parser-errors';
import { routeHandlers } from '../web/route-handlers';

/** The metadata key @nestjs/platform-fastify passes to Fastify as a route's `config` (its `@RouteConfig()`). */
const FASTIFY_ROUTE_CONFIG = '__fastify_route_config__';

/** Marks a route's Fastify config as one of the admin routes. */
const ADMIN_ROUTE = Symbol('nestjs-taskflow:admin-route');

interface AdminRouteMark {
  bodyLimit?: number;
}

/** A route's options as Fastify's `onRoute` hook hands them over, before the route exists (the parts used here). */
export interface FastifyRouteOptions {
  config?: Record<PropertyKey, unknown>;
  bodyLimit?: number;
  errorHandler?: (error: unknown, request: unknown, reply: unknown) => unknown;
}

/**
 * Marks every route of an admin controller in its Fastify route config, with the
 * route's `@BodyLimit()`. Nest copies the config into the options Fastify's
 * `onRoute` hook sees, which is how adminRouteOptions finds the routes wherever
 * they are mounted (global prefix, RouterModule, versions). Inert on express.
 */
export function markAdminRoutes(controller: Type): void {
  for (const handler of routeHandlers(controller)) {
    const config = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG, handler) as Record<PropertyKey, unknown> | undefined) ?? {};
    const bodyLimit = Reflect.getMetadata(TASKFLOW_BODY_LIMIT, handler) as number | undefined;
    const mark: AdminRouteMark = bodyLimit === undefined ? {} : { bodyLimit };
    Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG, { ...config, [ADMIN_ROUTE]: mark }, handler);
  }
}

/**
 * Fastify `onRoute` hook: an admin route gets its body limit, and an error handler
 * that turns Fastify's body parsing errors (too large, unsupported media type,
 * malformed JSON) into Nest's HTTP exceptions before Nest's own handler answers them
 * (rethrown, any error goes on to the app's handler, as without this one).
 */
export function adminRouteOptions(options: FastifyRouteOptions): void {
  const mark = options.config?.[ADMIN_ROUTE] as AdminRouteMark | undefined;
  if (!mark) return;
  if (mark.bodyLimit !== undefined) options.bodyLimit = mark.bodyLimit;
  options.errorHandler ??= taskflowBodyErrors;
}

function taskflowBodyErrors(error: unknown): never {
  throw bodyParserErrorToHttp(error);
}
