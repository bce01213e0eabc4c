import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TASKFLOW_OPTIONS } from '../constants';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import type { ServerResponse } from 'node:http';
import { bodyParserErrorToHttp } from '../web/body-parser-errors';
import type { HttpRequest } from '../web/http-types';
import { BULK_RETRY_BODY_LIMIT } from '../web/pipes/bulk-retry-body.pipe';
import { FastifyRouteOptions, adminRouteOptions } from './fastify-admin-routes';

type HttpResponse = ServerResponse;
type Next = (error?: unknown) => void;
type Handler = (request: HttpRequest, response: HttpResponse, next: Next) => void;
interface Layer {
  handle?: { name?: string };
  route?: { path?: unknown; methods?: Record<string, boolean> };
}
interface ExpressApp {
  use(path: string, handler: Handler | ((error: unknown, request: HttpRequest, response: HttpResponse, next: Next) => void)): void;
  router?: { stack?: Layer[] };
}
interface ExpressAdapter {
  getType(): string;
  getInstance(): ExpressApp;
  useBodyParser?(type: 'json', rawBody: boolean, options: { limit: number }): unknown;
}
interface FastifyInstance {
  addHook(name: 'onRoute', hook: (options: FastifyRouteOptions) => void): unknown;
}

/** Fastify instances given the admin routes' hook already (one per app, however many module instances). */
const hookedFastify = new WeakSet<object>();

/**
 * How the admin routes read request bodies.
 *
 * On Fastify, before Nest registers the routes (TaskAdminModule's `configure()`), an
 * `onRoute` hook gives the routes markAdminRoutes marked their `@BodyLimit()` (the
 * 5,000 ids of bulk-retry need 1 MB, whatever the app's `bodyLimit`) and maps body
 * parsing errors to Nest's HTTP exceptions (see adminRouteOptions).
 *
 * On express, once the routes exist and before Nest adds its final error handler
 * (both happen in `init()`, around `onModuleInit`):
 *
 * - `POST {path}/bulk-retry` reads JSON up to BULK_RETRY_BODY_LIMIT, ahead of the
 *   app's JSON parser (which then sees the body read and skips it), so the
 *   5,000 ids the route allows fit. Only when the app uses express's JSON parser (Nest's default): an
 *   app that parses bodies its own way keeps its own limits.
 * - Body parser errors under `{path}` (behind any global prefix) become Nest's HTTP exceptions
 *   (bodyParserErrorToHttp): 413/415/400 with Nest's body, not logged as failures.
 */
@Injectable()
export class AdminBodyParsing implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(TASKFLOW_OPTIONS) private readonly options: ResolvedTaskOptions,
  ) {}

  /** Fastify: must run before the routes are registered, where Fastify still takes route options. */
  beforeRoutes(): void {
    const adapter = this.adapterHost.httpAdapter as unknown as { getType(): string; getInstance(): FastifyInstance } | undefined;
    if (!adapter || adapter.getType() !== 'fastify') return;
    const instance = adapter.getInstance();
    if (hookedFastify.has(instance)) return;
    hookedFastify.add(instance);
    instance.addHook('onRoute', adminRouteOptions);
  }

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter as unknown as ExpressAdapter | undefined;
    if (!adapter || adapter.getType() !== 'express') return;
    const app = adapter.getInstance();
    const base = this.mountedPath(app.router?.stack ?? []);
    this.readLargeBulkRetryBodies(adapter, app, base);
    app.use(base, function taskflowBodyErrors(error: unknown, _request: HttpRequest, _response: HttpResponse, next: Next) {
      next(bodyParserErrorToHttp(error));
    });
  }

  /**
   * Where the routes of this module are served: `path` behind any global prefix, read from the
   * route Nest registered for bulk-retry (the shortest match, in case another module instance
   * serves a longer path ending the same way).
   */
  private mountedPath(stack: Layer[]): string {
    const suffix = `${this.options.path}/bulk-retry`;
    const paths = stack
      .filter((layer) => layer.route?.methods?.post)
      .map((layer) => layer.route?.path)
      .filter((path): path is string => typeof path === 'string' && path.endsWith(suffix))
      .sort((a, b) => a.length - b.length);
    return paths.length > 0 ? paths[0].slice(0, -'/bulk-retry'.length) : this.options.path;
  }

  private readLargeBulkRetryBodies(adapter: ExpressAdapter, app: ExpressApp, base: string): void {
    const stack = app.router?.stack;
    const appParser = stack?.findIndex((layer) => layer.handle?.name === 'jsonParser') ?? -1;
    if (!stack || appParser < 0 || !adapter.useBodyParser) return;
    // useBodyParser appends an app-wide parser; take its handler out and mount it on the one route.
    adapter.useBodyParser('json', false, { limit: BULK_RETRY_BODY_LIMIT });
    const parser = stack.pop()?.handle as Handler | undefined;
    if (typeof parser !== 'function') return;
    app.use(`${base}/bulk-retry`, function taskflowBulkRetryJson(request: HttpRequest, response: HttpResponse, next: Next) {
      if (request.method === 'POST') parser(request, response, next);
      else next();
    });
    const mounted = stack.pop();
    if (mounted) stack.splice(appParser, 0, mounted);
  }
}
