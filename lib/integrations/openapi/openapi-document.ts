import { RequestMethod, Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ADMIN_ROUTES, RouteDescription } from './admin-routes';
import { routeHandlers } from '../../web/route-handlers';
import { JsonSchema, OPENAPI_SCHEMAS, ref } from './openapi-schemas';

/** One route a controller mounts: `GET`, `/:task_id/retry` (relative to the mount path). */
export interface MountedRoute {
  method: string;
  path: string;
}

/**
 * The routes the given controllers mount, read from Nest's own route metadata (the
 * decorators), so the document cannot list a route that does not exist or miss one.
 */
export function mountedRoutes(controllers: readonly Type[]): MountedRoute[] {
  const routes: MountedRoute[] = [];
  for (const controller of controllers) {
    for (const handler of routeHandlers(controller)) {
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
      const paths = [Reflect.getMetadata(PATH_METADATA, handler) as string | string[]].flat();
      for (const path of paths) routes.push({ method: RequestMethod[method], path: '/' + String(path).replace(/^\/+|\/+$/g, '') });
    }
  }
  return routes;
}

/** The key of a route in ADMIN_ROUTES. */
export function routeKey(route: MountedRoute): string {
  return `${route.method} ${route.path}`;
}

/** An OpenAPI 3.1 document of the admin routes mounted at `mountPath`. */
export function buildOpenApiDocument(
  mountPath: string,
  routes: readonly MountedRoute[],
  info: { title: string; version: string },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const description = ADMIN_ROUTES[routeKey(route)] ?? undescribed(route);
    const openApiPath = (mountPath + (route.path === '/' ? '' : route.path)).replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    paths[openApiPath] ??= {};
    paths[openApiPath][route.method.toLowerCase()] = operation(route, description);
  }
  return {
    openapi: '3.1.0',
    info: { title: `${info.title} admin API`, version: info.version },
    paths,
    components: {
      schemas: OPENAPI_SCHEMAS,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: `A token from POST ${mountPath}/auth/login (JSON)` },
        cookie: { type: 'apiKey', in: 'cookie', name: 'taskflow_token', description: `Set by the login form at ${mountPath}/auth/login` },
      },
    },
    tags: [
      { name: 'tasks', description: 'Task records and actions' },
      { name: 'insights', description: "The dashboard's read models" },
      { name: 'dashboard', description: 'The dashboard page and its live stream' },
      { name: 'auth', description: 'Sign-in (with auth on)' },
      { name: 'docs', description: 'This document' },
    ],
  };
}

function operation(route: MountedRoute, description: RouteDescription): Record<string, unknown> {
  const error = (text: string) => ({ description: text, content: { 'application/json': { schema: ref('Error') } } });
  const responses: Record<string, unknown> = {
    [String(description.success.status)]: {
      description: description.success.description,
      ...(description.success.content ? { content: description.success.content } : {}),
      ...(description.success.headers ? { headers: headersOf(description.success.headers) } : {}),
    },
  };
  for (const [status, text] of Object.entries(description.errors ?? {})) {
    responses[status] = Number(status) < 400 ? { description: text } : error(text);
  }
  if (description.role !== null) {
    responses['401'] ??= error('No valid session (with auth on)');
    if (description.role !== 'viewer') responses['403'] ??= error(`The role may not do this (needs ${description.role}), or a cross-site request`);
  }
  return {
    operationId: operationId(route),
    summary: description.summary,
    tags: [description.tag],
    ...(description.parameters?.length ? { parameters: description.parameters } : {}),
    ...(description.requestBody ? { requestBody: { required: true, ...description.requestBody } } : {}),
    responses,
    ...(description.role !== null ? { security: [{ bearer: [] }, { cookie: [] }, {}], 'x-taskflow-role': description.role } : {}),
  };
}

function headersOf(headers: Record<string, JsonSchema>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).map(([name, schema]) => [name, { schema }]));
}

/** `GET /:task_id/retry` → `get_task_id_retry`: unique per method and path. */
function operationId(route: MountedRoute): string {
  const words = route.path.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  return `${route.method.toLowerCase()}_${words || 'list'}`;
}

/** A route someone added without describing it: documented minimally rather than left out. */
function undescribed(route: MountedRoute): RouteDescription {
  return { summary: `${route.method} ${route.path}`, tag: 'tasks', role: 'viewer', success: { status: 200, description: 'Success' } };
}
