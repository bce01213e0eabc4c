/** Thrown by TaskAuthGuard on pages: TaskflowExceptionFilter answers it with a 302. */
export class LoginRedirectException extends Error {
  override readonly name = 'LoginRedirectException';
  constructor(readonly location: string) {
    super(`Redirect to ${location}`);
  }
}
