import { HttpRequest } from '../web/http-types';
import { TOKEN_COOKIE, readCookie } from './cookies';

export interface ExtractedToken {
  token: string;
  /** Where it came from: cookie-authenticated writes are checked against cross-origin use. */
  source: 'bearer' | 'cookie';
}

/** The bearer token when an `Authorization: Bearer` header is sent (then it alone counts), else the session cookie. */
export function requestToken(request: HttpRequest): ExtractedToken | null {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && /^bearer\s/i.test(authorization)) {
    const token = authorization.slice(7).trim();
    return token ? { token, source: 'bearer' } : null;
  }
  const token = readCookie(request.headers.cookie, TOKEN_COOKIE);
  return token ? { token, source: 'cookie' } : null;
}
