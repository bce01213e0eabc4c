import { HttpRequest, requestScheme } from '../web/http-types';

interface Origin {
  scheme: 'http' | 'https';
  hostname: string;
  port: string;
}

const DEFAULT_PORT = { http: '80', https: '443' } as const;

/**
 * Whether a browser request comes from this server's own pages. The sender is the
 * `Origin` header, or, when a browser sent none, the origin of `Referer`; with
 * neither (curl, scripts) the request is not cross-site and passes. The sender's
 * scheme, host and port must equal the request's own: its scheme (`https` when
 * the platform says so, which behind a proxy needs express's `trust proxy` or
 * Fastify's `trustProxy` for X-Forwarded-Proto) and its `Host` (X-Forwarded-Host
 * behind a trusted proxy).
 * A Host without a port means the scheme's default port. `Origin: null` (sandboxed
 * frames, some redirects) and anything unparsable never match.
 */
export function isSameOrigin(request: HttpRequest): boolean {
  const sender = senderOrigin(request);
  if (sender === undefined) return true;
  const own = requestOrigin(request);
  return sender !== null && own !== null && sender.scheme === own.scheme && sender.hostname === own.hostname && sender.port === own.port;
}

/** undefined: the request names no sender; null: it names one that cannot be parsed. */
function senderOrigin(request: HttpRequest): Origin | null | undefined {
  const origin = request.headers.origin;
  if (origin !== undefined) return typeof origin === 'string' ? parseUrlOrigin(origin) : null;
  const referer = request.headers.referer;
  if (referer !== undefined) return typeof referer === 'string' ? parseUrlOrigin(referer) : null;
  return undefined;
}

function parseUrlOrigin(text: string): Origin | null {
  if (text === 'null') return null;
  try {
    const url = new URL(text);
    const scheme = url.protocol === 'https:' ? 'https' : url.protocol === 'http:' ? 'http' : null;
    if (!scheme) return null;
    return { scheme, hostname: url.hostname, port: url.port || DEFAULT_PORT[scheme] };
  } catch {
    return null;
  }
}

function requestOrigin(request: HttpRequest): Origin | null {
  const host = typeof request.host === 'string' && request.host ? request.host : request.headers.host;
  if (typeof host !== 'string' || host === '') return null;
  const scheme = requestScheme(request);
  try {
    const url = new URL(`${scheme}://${host}`);
    if (url.pathname !== '/' || url.username || url.password || url.search || url.hash) return null;
    // URL drops a port equal to the scheme's default, which is what a browser's Origin does too.
    return { scheme, hostname: url.hostname, port: url.port || DEFAULT_PORT[scheme] };
  } catch {
    return null;
  }
}
