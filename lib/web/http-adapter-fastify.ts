import type { ServerResponse } from 'node:http';
import type { HeaderValue, HttpRequest, ResponseAdapter } from './http-types';

/** The parts of a Fastify reply used here (typed locally: fastify is an optional peer). */
export interface FastifyReplyLike {
  readonly raw: ServerResponse;
  code(status: number): FastifyReplyLike;
  header(name: string, value: unknown): FastifyReplyLike;
  getHeader(name: string): HeaderValue | undefined;
  getHeaders(): Record<string, HeaderValue | undefined>;
  send(payload?: unknown): unknown;
  hijack(): unknown;
}

interface FastifyRequestLike extends HttpRequest {
  readonly server?: object;
}

export function isFastifyReply(response: unknown): response is FastifyReplyLike {
  const candidate = response as Partial<FastifyReplyLike> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.raw === 'object' &&
    typeof candidate.hijack === 'function' &&
    typeof candidate.code === 'function' &&
    typeof candidate.header === 'function'
  );
}

export function isFastifyRequest(request: HttpRequest): request is FastifyRequestLike {
  return typeof request.raw === 'object' && request.raw !== null && 'server' in request;
}

/**
 * Headers go on the reply, which Fastify writes when it sends (merged over any set on
 * the Node response, e.g. by a CORS hook). Writing by hand takes the reply out of
 * Fastify's hands (`hijack`) and moves its headers to the Node response.
 */
export function fastifyResponse(reply: FastifyReplyLike): ResponseAdapter {
  return {
    raw: reply.raw,
    getHeader: (name) => reply.getHeader(name),
    setHeader: (name, value) => void reply.header(name, value),
    send(status, body) {
      reply.code(status).send(body);
    },
    takeOver(status) {
      const headers = reply.getHeaders();
      reply.hijack();
      const raw = reply.raw;
      raw.statusCode = status;
      for (const [name, value] of Object.entries(headers)) {
        if (value !== undefined) raw.setHeader(name, value as string | number | string[]);
      }
      return raw;
    },
  };
}

const OPTIONS_SYMBOL = 'fastify.options';

/**
 * Fastify's `trustProxy` option. Fastify keeps it only in the instance's options
 * (not in `initialConfig`), under a symbol found here by its description; an instance
 * where it cannot be found counts as trusting no proxy, the safe reading.
 */
export function fastifyTrustProxy(request: FastifyRequestLike): unknown {
  for (let level: object | null = request.server ?? null; level !== null; level = Object.getPrototypeOf(level) as object | null) {
    const key = Object.getOwnPropertySymbols(level).find((symbol) => symbol.description === OPTIONS_SYMBOL);
    if (key) return ((level as Record<symbol, unknown>)[key] as { trustProxy?: unknown } | undefined)?.trustProxy;
  }
  return undefined;
}
