import { parseCookie, stringifySetCookie } from 'cookie';

/** Name of the session cookie. */
export const TOKEN_COOKIE = 'taskflow_token';

/** Longest `Cookie` header looked at; a bigger one is not parsed. */
const MAX_COOKIE_HEADER = 16 * 1024;

/**
 * The first usable value of cookie `name` in a `Cookie` header (a browser may send
 * several cookies of one name with different paths): surrounding quotes are
 * removed, and empty values or bad percent-encoding are skipped for the next one,
 * never thrown.
 */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join('; ') : header;
  if (text.length > MAX_COOKIE_HEADER) return undefined;
  return parseCookie(text, { decode: decodeValue })[name];
}

/** undefined makes the parser try the next cookie of the same name. */
function decodeValue(raw: string): string | undefined {
  const value = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  if (value === '') return undefined;
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

export interface TokenCookieOptions {
  path: string;
  maxAgeSeconds: number;
  secure: boolean;
}

/** `Set-Cookie` value of the session cookie: HttpOnly, SameSite=Strict, scoped to the admin path. */
export function tokenCookie(token: string, options: TokenCookieOptions): string {
  return stringifySetCookie({
    name: TOKEN_COOKIE,
    value: token,
    maxAge: options.maxAgeSeconds,
    path: options.path,
    httpOnly: true,
    sameSite: 'strict',
    secure: options.secure,
  });
}

/** `Set-Cookie` value that removes the session cookie. */
export function clearedTokenCookie(path: string, secure: boolean): string {
  return stringifySetCookie({
    name: TOKEN_COOKIE,
    value: '',
    maxAge: 0,
    expires: new Date(0),
    path,
    httpOnly: true,
    sameSite: 'strict',
    secure,
  });
}
