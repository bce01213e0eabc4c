import { Injectable, PipeTransform } from '@nestjs/common';
import { httpMessages } from '../http-messages';
import { ownValue } from './query-values';

const MAX_CREDENTIAL = { username: 256, password: 1024 } as const;

export interface LoginInput {
  username: string;
  password: string;
}

/** Why a login body was refused; the login controller answers it as a page (form) or a 400 (JSON). */
export interface LoginBodyError {
  error: string;
}

/**
 * The body of `POST {path}/auth/login`, form or JSON: two non-empty strings of
 * sane length. It returns the refusal instead of throwing it, because a form
 * sign-in answers with the login page, not with JSON.
 */
@Injectable()
export class LoginBodyPipe implements PipeTransform<unknown, LoginInput | LoginBodyError> {
  transform(body: unknown): LoginInput | LoginBodyError {
    return parseLoginBody(body);
  }
}

export function parseLoginBody(body: unknown): LoginInput | LoginBodyError {
  const username = ownValue(body, 'username');
  const password = ownValue(body, 'password');
  if (typeof username !== 'string' || typeof password !== 'string' || username === '' || password === '') {
    return { error: httpMessages.loginBody() };
  }
  for (const [name, value] of [
    ['username', username],
    ['password', password],
  ] as const) {
    if (value.length > MAX_CREDENTIAL[name]) return { error: httpMessages.loginFieldTooLong(name, MAX_CREDENTIAL[name]) };
  }
  return { username, password };
}
