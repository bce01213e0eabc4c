import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The parts of an express request the admin routes read. Typed here rather than
 * through @types/express, which is not a dependency of the package.
 */
export interface HttpRequest extends IncomingMessage {
  query?: unknown;
  body?: unknown;
  /** Client address; honours express's `trust proxy`. */
  ip?: string;
  /** HTTPS (or X-Forwarded-Proto https behind a trusted proxy). */
  secure?: boolean;
  protocol?: string;
  /** Host with port (X-Forwarded-Host behind a trusted proxy). */
  host?: string;
  originalUrl?: string;
}

export type HttpResponse = ServerResponse;

/** True when the request body was sent with this media type (ignoring parameters). */
export function hasContentType(request: IncomingMessage, type: string): boolean {
  const header = request.headers['content-type'];
  return typeof header === 'string' && header.split(';')[0].trim().toLowerCase() === type;
}

export function requestPath(request: HttpRequest): string {
  return (request.originalUrl ?? request.url ?? '').split('?')[0];
}
