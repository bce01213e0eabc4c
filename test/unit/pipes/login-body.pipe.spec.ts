import { LoginBodyPipe } from '../../../lib/web/pipes/login-body.pipe';

const BODY = 'Send "username" and "password" as strings, as a form (application/x-www-form-urlencoded) or as JSON';

describe('LoginBodyPipe', () => {
  const pipe = new LoginBodyPipe();

  it('returns the two strings', () => {
    expect(pipe.transform({ username: 'admin', password: 's3cret', extra: 1 })).toEqual({ username: 'admin', password: 's3cret' });
    expect(pipe.transform({ username: 'u'.repeat(256), password: 'p'.repeat(1024) })).toEqual({
      username: 'u'.repeat(256),
      password: 'p'.repeat(1024),
    });
  });

  it.each<[string, unknown]>([
    ['no body', undefined],
    ['null', null],
    ['a string', 'username=a'],
    ['no password', { username: 'a' }],
    ['an empty username', { username: '', password: 'x' }],
    ['an empty password', { username: 'a', password: '' }],
    ['a repeated field', { username: ['a', 'b'], password: 'x' }],
    ['a number', { username: 'a', password: 1 }],
    ['an object', { username: { $ne: '' }, password: 'x' }],
    ['inherited fields', Object.create({ username: 'a', password: 'b' })],
  ])('refuses %s with the shape message, without throwing', (_label, body) => {
    expect(pipe.transform(body)).toEqual({ error: BODY });
  });

  it('refuses fields over their limits', () => {
    expect(pipe.transform({ username: 'u'.repeat(257), password: 'x' })).toEqual({ error: '"username" must be at most 256 characters long' });
    expect(pipe.transform({ username: 'a', password: 'p'.repeat(1025) })).toEqual({ error: '"password" must be at most 1024 characters long' });
  });
});
