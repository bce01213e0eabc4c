import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The request as Nest hands it to the admin routes, on either platform: express's
 * (a Node IncomingMessage with express's additions) or Fastify's (which holds the
 * Node one as `raw`). Only what both have, typed here rather than through either
 * platform's types, neither of which the package depends on.
 */
export interface HttpRequest {
  readonly headers: IncomingHttpHeaders;
  readonly method?: string;
  readonly url?: string;
  /** The URL as the client sent it, before a mount or rewrite changed `url`. */
  readonly originalUrl?: string;
  query?: unknown;
  body?: unknown;
  /** Client address as the platform's trust-proxy setting sees it. */
  readonly ip?: string;
  /** express: HTTPS (or X-Forwarded-Proto https behind a trusted proxy). */
  readonly secure?: boolean;
  /** `http` or `https` (X-Forwarded-Proto behind a trusted proxy). */
  readonly protocol?: string;
  /** Host with port (X-Forwarded-Host behind a trusted proxy). */
  readonly host?: string;
  readonly socket?: Socket;
  /** Fastify: Node's request. */
  readonly raw?: IncomingMessage;
}

/** True when the request body was sent with this media type (ignoring parameters). */
export function hasContentType(request: Pick<HttpRequest, 'headers'>, type: string): boolean {
  const header = request.headers['content-type'];
  return typeof header === 'string' && header.split(';')[0].trim().toLowerCase() === type;
}

export function requestPath(request: HttpRequest): string {
  return (request.originalUrl ?? request.url ?? '').split('?')[0];
}

/**
 * The request's scheme as the platform sees it: `https` when express says the request
 * is secure or either platform's protocol is https (behind a proxy, X-Forwarded-Proto
 * counts only when the platform trusts that proxy); from the socket when neither says.
 */
export function requestScheme(request: HttpRequest): 'http' | 'https' {
  if (request.secure === true || request.protocol === 'https') return 'https';
  if (request.secure === undefined && request.protocol === undefined) {
    return (request.socket as { encrypted?: boolean } | undefined)?.encrypted === true ? 'https' : 'http';
  }
  return 'http';
}

export type HeaderValue = string | number | readonly string[];

/**
 * The one seam between the admin routes and the HTTP platform Nest runs on
 * (@nestjs/platform-express or @nestjs/platform-fastify): what the routes do to a
 * response, the same on both. Nest hands a controller the platform's own response:
 * express's is a Node ServerResponse, Fastify's reply wraps one and sends the headers
 * set on the reply, so headers go through here for a response Nest sends afterwards
 * (a returned value, an exception) to carry them.
 */
export interface ResponseAdapter {
  /** Node's response under the platform's: its events and socket, and writing by hand after takeOver(). */
  readonly raw: ServerResponse;
  getHeader(name: string): HeaderValue | undefined;
  setHeader(name: string, value: HeaderValue): void;
  /** Sends the whole answer, with the headers set so far. */
  send(status: number, body?: string | Buffer): void;
  /**
   * Hands the response over to be written by hand (a stream Nest does not send):
   * the status and the headers set so far go out with the first write.
   */
  takeOver(status: number): ServerResponse;
}
