import type { ServerResponse } from 'node:http';
import type { HeaderValue, HttpRequest, ResponseAdapter } from './http-types';

/** express's response is Node's, with its headers on it: everything goes to it directly. */
export function expressResponse(response: ServerResponse): ResponseAdapter {
  return {
    raw: response,
    getHeader: (name) => response.getHeader(name),
    setHeader: (name: string, value: HeaderValue) => void response.setHeader(name, value as string | number | string[]),
    send(status, body) {
      response.statusCode = status;
      response.end(body);
    },
    takeOver(status) {
      response.statusCode = status;
      return response;
    },
  };
}

interface WithExpressApp {
  app?: { get?: (setting: string) => unknown };
}

export function expressTrustProxy(request: HttpRequest): unknown {
  return (request as WithExpressApp).app?.get?.('trust proxy');
}
