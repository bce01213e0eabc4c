import {
  BadRequestException,
  Get,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  Post,
  Req,
  Res,
  ServiceUnavailableException,
  UnauthorizedException,
  UseFilters,
} from '@nestjs/common';
import { LOGGER_CONTEXT, TASKFLOW_OPTIONS } from '../constants';
import { TaskManager } from '../engine/task-manager.service';
import { renderLoginPage, setPageHeaders } from '../web/html-pages';
import { ResponseAdapter, adaptResponse, redirect } from '../web/http-adapter';
import { httpMessages } from '../web/http-messages';
import { HttpRequest, hasContentType, requestPath, requestScheme } from '../web/http-types';
import { TaskflowExceptionFilter } from '../web/taskflow-exception.filter';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { TaskAuthBackend } from '../options/task-auth-backend';
import { DEFAULT_TASK_ROLE, TaskRole, isTaskRole } from '../options/task-role';
import { authMessages } from './auth-messages';
import { clientAddress } from './client-address';
import { clearedTokenCookie, tokenCookie } from './cookies';
import { parseLoginBody } from './login-body.pipe';
import { requestToken } from './request-token';
import { LoginThrottle } from './login-throttle';
import { isSameOrigin } from './same-origin';
import { TaskTokenService } from './task-token.service';

/** Answer body of a JSON login. */
export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  role: TaskRole;
}

/** The audit actor of a failed sign-in whose username the backend does not confirm. */
export const UNKNOWN_USER = '(unknown user)';

/**
 * `{path}/auth/login` (page, form and JSON sign-in) and `{path}/auth/logout`.
 * Without auth these routes answer 404. The `@Controller(path)` is applied per
 * module instance by createAdminControllers; this controller has no guard.
 */
@Injectable()
@UseFilters(TaskflowExceptionFilter)
export class TaskAuthController {
  private readonly logger = new Logger(LOGGER_CONTEXT);

  constructor(
    @Inject(TASKFLOW_OPTIONS) protected readonly options: ResolvedTaskOptions,
    protected readonly tokens: TaskTokenService,
    protected readonly throttle: LoginThrottle,
    protected readonly manager: TaskManager,
  ) {}

  @Get('auth/login')
  loginPage(@Req() request: HttpRequest, @Res() reply: unknown): void {
    this.requireAuth(request);
    this.sendPage(adaptResponse(reply), 200);
  }

  /**
   * Form: 302 to the dashboard with the session cookie; JSON: a bearer token. A form
   * posted from another site is refused (403) before anything is counted, so no
   * page elsewhere can sign a browser in to an account of its choosing.
   */
  @Post('auth/login')
  async login(@Req() request: HttpRequest, @Res() reply: unknown): Promise<void> {
    const response = adaptResponse(reply);
    const backend = this.requireAuth(request);
    const form = hasContentType(request, 'application/x-www-form-urlencoded');
    if (!form && !hasContentType(request, 'application/json')) throw new BadRequestException(authMessages.loginBody());
    if (form && !isSameOrigin(request)) return this.sendPage(response, 403, authMessages.loginCrossOrigin());
    const input = parseLoginBody(request.body);
    if ('error' in input) {
      if (form) return this.sendPage(response, 400, authMessages.loginMissing());
      throw new BadRequestException(input.error);
    }

    const address = clientAddress(request);
    const start = this.throttle.begin(address, input.username);
    if (!start.allowed) {
      response.setHeader('Retry-After', String(start.retryAfter));
      if (form) return this.sendPage(response, 429, authMessages.loginThrottled(start.retryAfter), input.username);
      throw new HttpException(
        { statusCode: 429, message: authMessages.loginThrottled(start.retryAfter), error: 'Too Many Requests' },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }

    let role: TaskRole | null;
    try {
      role = await this.authenticate(backend, input.username, input.password);
    } catch (error) {
      start.attempt.cancel();
      throw error;
    }
    if (role === null) {
      start.attempt.fail();
      await this.auditFailure(backend, input.username, address);
      if (form) return this.sendPage(response, 401, authMessages.loginFailed(), input.username);
      throw new UnauthorizedException(authMessages.loginFailed());
    }
    start.attempt.succeed();
    this.manager.recordLogin(true, { actor: input.username, role }, { address });

    const { token, expiresIn } = await this.tokens.issue(input.username, role);
    if (form) {
      const secure = requestScheme(request) === 'https';
      response.setHeader('Set-Cookie', tokenCookie(token, { path: this.options.path, maxAgeSeconds: expiresIn, secure }));
      return redirect(response, `${this.options.path}/dashboard`);
    }
    const body: TokenResponse = { access_token: token, token_type: 'bearer', expires_in: expiresIn, role };
    response.setHeader('Cache-Control', 'no-store');
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    response.send(200, JSON.stringify(body));
  }

  /** GET (the link on the dashboard) and POST: clears the cookie and goes to the login page. */
  @Get('auth/logout')
  logout(@Req() request: HttpRequest, @Res() reply: unknown): Promise<void> {
    return this.logoutAndRedirect(request, adaptResponse(reply));
  }

  @Post('auth/logout')
  logoutPost(@Req() request: HttpRequest, @Res() reply: unknown): Promise<void> {
    return this.logoutAndRedirect(request, adaptResponse(reply));
  }

  /**
   * Runs the backend: the role it grants (`true` = admin), or null when it refuses.
   * One that throws, or grants an unknown role, is logged (never with the password)
   * and answers 503.
   */
  protected async authenticate(backend: TaskAuthBackend, username: string, password: string): Promise<TaskRole | null> {
    let result: unknown;
    try {
      result = await backend.authenticateUser(username, password);
    } catch (error) {
      this.logger.error(`The TaskAuthBackend threw while signing in a user: ${error instanceof Error ? error.message : String(error)}`);
      throw new ServiceUnavailableException(authMessages.authBackendFailed());
    }
    if (result === true) return DEFAULT_TASK_ROLE;
    if (result === null || typeof result !== 'object') return null;
    const role: unknown = (result as { role?: unknown }).role;
    if (isTaskRole(role)) return role;
    this.logger.error('The TaskAuthBackend accepted a user with an unknown role; use viewer, operator or admin');
    throw new ServiceUnavailableException(authMessages.authBackendFailed());
  }

  /**
   * `login_failed` with the client address. The actor is the username only when the
   * backend confirms such a user exists: what was typed may be a password pasted into
   * the wrong field, and the audit is readable by every viewer.
   */
  private async auditFailure(backend: TaskAuthBackend, username: string, address: string): Promise<void> {
    let known: boolean;
    try {
      known = backend.userExists ? (await backend.userExists(username)) === true : false;
    } catch {
      known = false;
    }
    this.manager.recordLogin(false, { actor: known ? username : UNKNOWN_USER }, { address });
  }

  /** Ends the session: the token it carried (cookie or bearer) is refused from now on, on every instance. */
  private async logoutAndRedirect(request: HttpRequest, response: ResponseAdapter): Promise<void> {
    this.requireAuth(request);
    const carried = requestToken(request);
    if (carried) await this.tokens.revoke(carried.token);
    response.setHeader('Set-Cookie', clearedTokenCookie(this.options.path, requestScheme(request) === 'https'));
    redirect(response, `${this.options.path}/auth/login`);
  }

  private requireAuth(request: HttpRequest): TaskAuthBackend {
    if (this.options.auth === null) {
      throw new NotFoundException(httpMessages.routeNotFound(request.method ?? 'GET', requestPath(request)));
    }
    return this.options.auth;
  }

  private sendPage(response: ResponseAdapter, status: number, error?: string, username?: string): void {
    setPageHeaders(response);
    response.send(status, renderLoginPage({ title: this.options.title, action: `${this.options.path}/auth/login`, error, username }));
  }
}
