import { authMessages } from './auth-messages';

export interface LoginInput {
  username: string;
  password: string;
}

const MAX_CREDENTIAL = { username: 256, password: 1024 } as const;

/** `POST {path}/auth/login` body, form or JSON; an error when it is not two non-empty strings of sane length. */
export function parseLoginBody(body: unknown): LoginInput | { error: string } {
  const username = own(body, 'username');
  const password = own(body, 'password');
  if (typeof username !== 'string' || typeof password !== 'string' || username === '' || password === '') {
    return { error: authMessages.loginBody() };
  }
  for (const [name, value] of [['username', username], ['password', password]] as const) {
    if (value.length > MAX_CREDENTIAL[name]) return { error: authMessages.loginFieldTooLong(name, MAX_CREDENTIAL[name]) };
  }
  return { username, password };
}

function own(bag: unknown, key: string): unknown {
  if (bag === null || typeof bag !== 'object') return undefined;
  return Object.prototype.hasOwnProperty.call(bag, key) ? (bag as Record<string, unknown>)[key] : undefined;
}
