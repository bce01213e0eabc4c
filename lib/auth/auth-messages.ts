import type { TaskRole } from '../options/task-role';

/** Every text the sign-in flow and the auth guard answer with, in one place. */
export const authMessages = {
  loginBody: () => 'Send "username" and "password" as strings, as a form (application/x-www-form-urlencoded) or as JSON',
  loginFieldTooLong: (name: string, max: number) => `"${name}" must be at most ${max} characters long`,
  loginFailed: () => 'Invalid username or password',
  loginMissing: () => 'Enter your username and password.',
  loginThrottled: (seconds: number) => `Too many failed sign-in attempts; try again in ${seconds} s`,
  loginCrossOrigin: () => 'Sign-in refused: the form was posted from another site',
  authBackendFailed: () => 'The authentication backend failed; try again later',
  unauthenticated: (path: string) => `Authentication required: sign in at ${path}/auth/login or send "Authorization: Bearer <token>"`,
  crossOrigin: () => 'Cross-origin request refused: the Origin (or Referer) does not match the scheme, host and port of this request',
  roleRequired: (required: TaskRole, actual: TaskRole) => `This action requires the "${required}" role; you are signed in as "${actual}"`,
};
