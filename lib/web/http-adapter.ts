import type { ServerResponse } from 'node:http';
import { expressResponse, expressTrustProxy } from './http-adapter-express';
import { fastifyResponse, fastifyTrustProxy, isFastifyReply, isFastifyRequest } from './http-adapter-fastify';
import type { HttpRequest, ResponseAdapter } from './http-types';

export type { HeaderValue, ResponseAdapter } from './http-types';

/** The response of a route, a guard or a filter (`getResponse()`), whichever platform made it. */
export function adaptResponse(response: unknown): ResponseAdapter {
  if (isFastifyReply(response)) return fastifyResponse(response);
  if (isNodeResponse(response)) return expressResponse(response);
  throw new TypeError('nestjs-taskflow: the admin routes run on @nestjs/platform-express or @nestjs/platform-fastify');
}

/** A 302 to `location` that no cache keeps. */
export function redirect(response: ResponseAdapter, location: string): void {
  response.setHeader('Location', location);
  response.setHeader('Cache-Control', 'no-store');
  response.send(302);
}

/**
 * The platform's trust-proxy setting as the app gave it: express's `trust proxy`
 * (`app.set('trust proxy', …)`) or Fastify's `trustProxy` option; undefined when unset.
 */
export function trustProxySetting(request: HttpRequest): unknown {
  return isFastifyRequest(request) ? fastifyTrustProxy(request) : expressTrustProxy(request);
}

function isNodeResponse(response: unknown): response is ServerResponse {
  const candidate = response as Partial<ServerResponse> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.setHeader === 'function' && typeof candidate.end === 'function';
}
