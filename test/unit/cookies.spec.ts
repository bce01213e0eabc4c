import { TOKEN_COOKIE, clearedTokenCookie, readCookie, tokenCookie } from '../../lib/auth/cookies';

describe('session cookie', () => {
  it('reads the first usable value, skipping empty, quoted-empty and badly encoded ones, never throwing', () => {
    expect(readCookie(undefined, TOKEN_COOKIE)).toBeUndefined();
    expect(readCookie('other=1; taskflow_token=a.b.c', TOKEN_COOKIE)).toBe('a.b.c');
    expect(readCookie('taskflow_token=; taskflow_token=%E0%A4%A; taskflow_token="x.y.z"; taskflow_token=later', TOKEN_COOKIE)).toBe('x.y.z');
    expect(readCookie(['a=1', 'taskflow_token=%41'], TOKEN_COOKIE)).toBe('A');
    expect(readCookie('taskflow_token', TOKEN_COOKIE)).toBeUndefined();
    expect(readCookie('x'.repeat(20_000), TOKEN_COOKIE)).toBeUndefined();
    expect(readCookie('taskflow_tokens=a; ataskflow_token=b', TOKEN_COOKIE)).toBeUndefined();
  });

  it('is HttpOnly, SameSite=Strict, scoped to the path, with Max-Age, Secure only on HTTPS', () => {
    const plain = tokenCookie('a.b.c', { path: '/tasks', maxAgeSeconds: 86400, secure: false });
    expect(plain.split('; ').sort()).toEqual(['HttpOnly', 'Max-Age=86400', 'Path=/tasks', 'SameSite=Strict', 'taskflow_token=a.b.c']);
    expect(tokenCookie('a.b.c', { path: '/tasks', maxAgeSeconds: 60, secure: true })).toContain('; Secure');
    const cleared = clearedTokenCookie('/admin/jobs', false);
    expect(cleared).toMatch(/^taskflow_token=; /);
    expect(cleared.split('; ').sort()).toEqual([
      'Expires=Thu, 01 Jan 1970 00:00:00 GMT',
      'HttpOnly',
      'Max-Age=0',
      'Path=/admin/jobs',
      'SameSite=Strict',
      'taskflow_token=',
    ]);
  });
});
