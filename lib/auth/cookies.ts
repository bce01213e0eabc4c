/** Name of the session cookie (SPEC §4). */
export const TOKEN_COOKIE = 'taskflow_token';

const MAX_COOKIE_VALUES = 8;

/**
 * Every value of cookie `name` in a `Cookie` header, in order (a browser may send
 * several cookies of one name with different paths). Parsed by hand: malformed
 * pairs and bad percent-encoding are skipped, never thrown.
 */
export function readCookie(header: string | string[] | undefined, name: string): string[] {
  if (header === undefined) return [];
  const text = Array.isArray(header) ? header.join('; ') : header;
  const values: string[] = [];
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (value.includes('%')) {
      try {
        value = decodeURIComponent(value);
      } catch {
        continue;
      }
    }
    if (value !== '') values.push(value);
    if (values.length >= MAX_COOKIE_VALUES) break;
  }
  return values;
}

export interface TokenCookieOptions {
  path: string;
  maxAgeSeconds: number;
  secure: boolean;
}

/** `Set-Cookie` value of the session cookie: HttpOnly, SameSite=Strict, scoped to the admin path. */
export function tokenCookie(token: string, options: TokenCookieOptions): string {
  return [
    `${TOKEN_COOKIE}=${token}`,
    `Max-Age=${options.maxAgeSeconds}`,
    `Path=${options.path}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}

/** `Set-Cookie` value that removes the session cookie. */
export function clearedTokenCookie(path: string, secure: boolean): string {
  return [
    `${TOKEN_COOKIE}=`,
    'Max-Age=0',
    'Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    `Path=${path}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}
